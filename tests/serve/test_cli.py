"""``latentkit serve``: flags, the default map data, errors, and a fast ``--help``."""

from __future__ import annotations

import subprocess
import sys

import pytest
import uvicorn

from latentkit.cli.main import main
from tests.serve.conftest import saved


@pytest.fixture
def fake_uvicorn(monkeypatch):
    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    return calls


def test_help_does_not_import_torch_or_fastapi():
    code = (
        "import argparse, sys\n"
        "from latentkit.cli import serve\n"
        "serve.add_parser(argparse.ArgumentParser().add_subparsers(), 'serve')\n"
        "heavy = [m for m in ('torch', 'fastapi', 'uvicorn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_serve_defaults_to_digits_on_localhost(vae, fake_uvicorn, tmp_path, capsys):
    folder = vae.save(tmp_path / "run")
    assert main(["serve", str(folder), "--port", "8123", "--points", "50"]) == 0
    (call,) = fake_uvicorn
    assert call["host"] == "127.0.0.1" and call["port"] == 8123
    explorer = call["app"].state.explorer
    assert explorer.data.name == "digits" and len(explorer.points) == 50
    assert "http://127.0.0.1:8123/" in capsys.readouterr().out


def test_serve_without_data_and_other_shapes(tmp_path_factory, fake_uvicorn, tmp_path):
    folder = saved(tmp_path_factory, "v", "vae", latent_dim=2).save(tmp_path / "run")
    assert main(["serve", str(folder), "--data", "none"]) == 0
    assert fake_uvicorn[-1]["app"].state.explorer.projection is None
    from latentkit.models.registry import create_model

    table = create_model("vae", (5,), latent_dim=2).save(tmp_path / "table")
    assert main(["serve", str(table)]) == 0
    explorer = fake_uvicorn[-1]["app"].state.explorer
    assert explorer.projection is None and "no default dataset" in explorer.note


def test_serve_errors_are_one_line(tmp_path, vae, fake_uvicorn, capsys):
    assert main(["serve", str(tmp_path / "missing")]) == 2
    folder = vae.save(tmp_path / "run")
    assert main(["serve", str(folder), "--port", "0"]) == 2
    assert main(["serve", str(folder), "--data", "no-such-dataset"]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 3 and "Traceback" not in err
    assert fake_uvicorn == []
