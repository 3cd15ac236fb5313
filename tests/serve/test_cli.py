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


def test_serve_scales_a_table_as_the_run_was_trained(tmp_path, fake_uvicorn):
    """A table run trained by the CLI: the map's data is standardised with the run's scaler
    (unscaled rows of values near 200-350 would give codes far outside the prior's bulk)."""
    import numpy as np
    import torch

    rng = np.random.default_rng(0)
    rows = np.column_stack(
        [rng.normal(300, 20, 200), rng.normal(200, 5, 200), rng.normal(0, 1, 200)]
    )
    table = tmp_path / "t.csv"
    table.write_text("a,b,c\n" + "\n".join(",".join(f"{v:.4f}" for v in r) for r in rows))
    run = tmp_path / "run"
    assert main(["train", "--data", str(table), "--model", "vae", "--latent-dim", "2",
                 "--epochs", "2", "--out", str(run)]) == 0  # fmt: skip
    assert main(["serve", str(run)]) == 0  # the run's own data, scaled
    explorer = fake_uvicorn[-1]["app"].state.explorer
    x = explorer.data.x
    assert torch.allclose(x.mean(0), torch.zeros(3), atol=1e-4)  # standardised columns
    assert torch.allclose(x.std(0), torch.ones(3), atol=1e-2)
    assert np.all(np.abs(explorer.high) < 10) and np.all(np.abs(explorer.low) < 10)
    assert main(["serve", str(run), "--data", str(table)]) == 0  # given explicitly: same
    assert torch.allclose(fake_uvicorn[-1]["app"].state.explorer.data.x, x)
