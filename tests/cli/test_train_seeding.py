"""``latentkit train``: the initial weights follow ``--seed`` without touching the caller's
random stream, and tables get the data defaults of ``models.registry.data_defaults``."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
import torch

import latentkit
from latentkit.cli.main import main


@pytest.fixture
def table(tmp_path):
    rows = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)
    path = tmp_path / "table.npy"
    np.save(path, rows)
    return path


def _train(table, out, *extra: str) -> None:
    argv = ["train", "--data", str(table), "--latent-dim", "2", "--epochs", "1",
            "--val-fraction", "0", "--device", "cpu", "--out", str(out), *extra]  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(argv) == 0


def _weights(folder) -> dict[str, torch.Tensor]:
    return latentkit.load(folder).state_dict()


def test_weights_follow_the_seed_and_the_global_stream_is_untouched(table, tmp_path):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    _train(table, tmp_path / "a", "--seed", "3")
    assert torch.equal(torch.rand(3), expected)
    torch.rand(100)
    _train(table, tmp_path / "b", "--seed", "3")
    _train(table, tmp_path / "c", "--seed", "4")
    a, b, c = (_weights(tmp_path / k) for k in "abc")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


DEFAULTS = [("vae", "likelihood", "gaussian"), ("ae", "reconstruction", "mse")]


@pytest.mark.parametrize(("model", "field", "value"), DEFAULTS)
def test_tables_get_the_table_defaults(table, tmp_path, model, field, value):
    _train(table, tmp_path / "run", "--model", model)
    assert getattr(latentkit.load(tmp_path / "run").config, field) == value


def test_max_samples_trains_on_a_seeded_subset(tmp_path):
    """--max-samples N keeps N random rows (the same for the same --seed), e.g. for dsprites."""
    rows = np.arange(40 * 4, dtype=np.float32).reshape(40, 4)
    path = tmp_path / "rows.npy"
    np.save(path, rows)
    argv = ["train", "--data", str(path), "--latent-dim", "2", "--epochs", "1",
            "--val-fraction", "0.25", "--device", "cpu", "--max-samples", "12"]  # fmt: skip
    said = io.StringIO()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(io.StringIO()):
        assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    assert "--max-samples: 12 random samples" in said.getvalue()
    assert "9 samples, 3 for validation" in said.getvalue()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        assert main([*argv, "--print-config"]) == 0
    assert '"max_samples": 12' in printed.getvalue()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main([*argv, "--max-samples", "100", "--out", str(tmp_path / "b")]) == 0  # all 40
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        assert main([*argv, "--max-samples", "0", "--out", str(tmp_path / "c")]) != 0
    assert "--max-samples" in err.getvalue() and not (tmp_path / "c").exists()
