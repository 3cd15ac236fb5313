"""Runs that used to end with exit status 0 and a wrong result, or with a traceback:

- a learning rate so large that the NaN guard rolled back every step: the run "finished" with
  its initial weights;
- a table run killed before it wrote ``preprocessing.json``: ``encode`` and ``evaluate`` then
  fed unscaled rows to a model trained on standardised ones;
- a ``preprocessing.json`` whose scaler divides by zero, by a negative number or by NaN;
- a full disk reported by safetensors' own error type, which is not an ``OSError``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import latentkit
from latentkit.cli.main import main
from latentkit.data.transforms import MinMaxScaler, Standardizer, scaler_from_dict
from latentkit.errors import TrainingError
from latentkit.models.registry import create_model
from latentkit.safe_tensors import save_tensors
from latentkit.training import TrainConfig, Trainer
from latentkit.training import checkpoint as ckpt

FAST = dict(batch_size=16, device="cpu", progress=False)


def cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def model():
    return create_model("ae", (6,), latent_dim=2, network={"hidden": [8]}, reconstruction="mse",
                        seed=0)  # fmt: skip


def data(n: int = 48) -> torch.Tensor:
    return torch.rand(n, 6, generator=torch.Generator().manual_seed(0))


# -- (a) a learning rate that rolls back every step ------------------------------------------


def test_a_run_in_which_no_step_succeeds_is_an_error(tmp_path):
    # one NaN check per epoch, three roll-backs allowed: before, each of the three epochs was
    # rolled back once and the run ended "successfully" with its initial weights
    config = TrainConfig(epochs=3, lr=1e30, max_nan_retries=3, **FAST)
    net = model()
    with pytest.raises(TrainingError) as caught:
        Trainer(config).fit(net, data(), out=tmp_path / "run")
    message = str(caught.value)
    assert "\n" not in message and "no optimisation step succeeded" in message, message
    assert "1e+30" in message and "lr" in message
    assert ckpt.latest_checkpoint(tmp_path / "run" / "checkpoints") is None  # nothing claimed


def test_lr_1e30_from_the_cli_fails_in_one_line(tmp_path):
    out = tmp_path / "run"
    code, _, err = cli(["train", "--data", "digits", "--model", "ae", "--latent-dim", "2",
                        "--epochs", "3", "--lr", "1e30", "--device", "cpu",
                        "--out", out])  # fmt: skip
    assert code == 2 and err.count("\n") == 1, err
    assert "non-finite loss" in err and "1e+30" in err and "--lr" in err, err
    assert not (out / "model.safetensors").exists()


def test_a_guard_that_recovers_within_the_run_still_trains(tmp_path):
    """A roll-back is not an error when steps of the run succeed (the guard's purpose)."""
    from tests.training.tiny import make_model, tiny_data

    config = TrainConfig(epochs=2, nan_check_every=2, **FAST)
    history = Trainer(config).fit(make_model(nan_at_call=3), tiny_data(), out=tmp_path)
    assert history.nan_rollbacks == 1 and len(history) == 2


# -- (b) preprocessing.json is there before the first checkpoint -----------------------------


@pytest.fixture
def table(tmp_path) -> Path:
    rows = np.random.default_rng(0).normal(5000.0, 1000.0, size=(120, 4)).astype(np.float32)
    path = tmp_path / "table.npy"
    np.save(path, rows)
    return path


class Killed(BaseException):
    """Stands for kill -9 right after the first checkpoint (nothing after it runs)."""


def test_a_table_run_stopped_after_its_first_checkpoint_has_its_scaling(table, tmp_path,
                                                                       monkeypatch):  # fmt: skip
    from latentkit.training.callbacks import MetricsFile

    out = tmp_path / "run"
    real, seen = ckpt.save_checkpoint, []

    def save(folder, *args, **kwargs):
        seen.append((Path(folder).parent / "preprocessing.json").exists())
        return real(folder, *args, **kwargs)

    def die(self, record):  # the checkpoint and the model folder of epoch 1 are written
        raise Killed

    monkeypatch.setattr(ckpt, "save_checkpoint", save)
    monkeypatch.setattr(MetricsFile, "append", die)
    with pytest.raises(Killed):
        cli(["train", "--data", table, "--latent-dim", "2", "--epochs", "3", "--device", "cpu",
             "--out", out])  # fmt: skip
    monkeypatch.undo()
    assert seen == [True]  # written before the first checkpoint
    prep = json.loads((out / "preprocessing.json").read_text())
    assert prep["data"] == str(table) and prep["scaler"]["type"] == "standard"
    code, report, err = cli(["evaluate", out, "--data", table, "--json"])
    assert code == 0, err
    assert json.loads(report)["squared_error"] < 100  # standardised rows (raw ones: about 1e8)


@pytest.fixture
def legacy_table_run(table, tmp_path) -> Path:
    """A table run as a kill -9 left it before the fix: no preprocessing.json."""
    out = tmp_path / "run"
    code, _, err = cli(["train", "--data", table, "--latent-dim", "2", "--epochs", "1",
                        "--device", "cpu", "--out", out])  # fmt: skip
    assert code == 0, err
    (out / "preprocessing.json").unlink()
    return out


@pytest.mark.parametrize("command", ["encode", "evaluate"])
def test_a_trained_table_run_without_preprocessing_is_refused(legacy_table_run, table, tmp_path,
                                                              command):  # fmt: skip
    extra = ["--out", tmp_path / "codes.npy"] if command == "encode" else []
    code, _, err = cli([command, legacy_table_run, "--data", table, *extra])
    assert code == 2 and err.count("\n") == 1, err
    assert "preprocessing.json" in err and "--resume" in err, err


def test_resume_writes_the_missing_preprocessing(legacy_table_run, table, tmp_path):
    code, _, err = cli(["train", "--data", table, "--latent-dim", "2", "--epochs", "2",
                        "--device", "cpu", "--out", legacy_table_run, "--resume"])  # fmt: skip
    assert code == 0, err
    code, _, err = cli(["encode", legacy_table_run, "--data", table, "--out", tmp_path / "c.npy"])
    assert code == 0, err


def test_an_image_run_without_preprocessing_still_works_with_data(tmp_path):
    """Images are not scaled: nothing is lost without the file once --data names them."""
    out = tmp_path / "run"
    code, _, err = cli(["train", "--data", "digits", "--model", "ae", "--latent-dim", "2",
                        "--epochs", "1", "--device", "cpu", "--out", out])  # fmt: skip
    assert code == 0, err
    (out / "preprocessing.json").unlink()
    code, _, err = cli(["encode", out, "--data", "digits", "--out", tmp_path / "codes.npy"])
    assert code == 0, err


# -- (c) the scaler of preprocessing.json ----------------------------------------------------


def _standard(**changes) -> dict:
    state = Standardizer().fit(torch.randn(20, 3)).to_dict()
    return {**state, **changes}


def _minmax(**changes) -> dict:
    state = MinMaxScaler().fit(torch.randn(20, 3)).to_dict()
    return {**state, **changes}


BAD_SCALERS = {
    "std 0": (_standard(std=[1.0, 0.0, 1.0]), "std"),
    "std negative": (_standard(std=[1.0, -2.0, 1.0]), "std"),
    "std NaN": (_standard(std=[1.0, float("nan"), 1.0]), "std"),
    "std inf": (_standard(std=[1.0, float("inf"), 1.0]), "std"),
    "mean NaN": (_standard(mean=[0.0, float("nan"), 1.0]), "mean"),
    "mean inf": (_standard(mean=[0.0, float("inf"), 1.0]), "mean"),
    "mean beyond float32": (_standard(mean=[0.0, 1e39, 1.0]), "mean"),
    "mean too short": (_standard(mean=[0.0, 1.0]), "mean"),
    "mean as text": (_standard(mean=["0", "1", "2"]), "mean"),
    "mean of booleans": (_standard(mean=[True, False, True]), "mean"),
    "std nested": (_standard(std=[[1.0, 1.0, 1.0]]), "std"),
    "shape negative": (_standard(shape=[-3]), "shape"),
    "shape as text": (_standard(shape=["3"]), "shape"),
    "shape of a float": (_standard(shape=[3.5]), "shape"),
    "min NaN": (_minmax(min=[0.0, float("nan"), 0.0]), "min"),
    "max below min": (_minmax(min=[0.0, 5.0, 0.0], max=[1.0, 1.0, 1.0]), "max"),
    "feature_range infinite": (_minmax(feature_range=[0.0, float("inf")]), "feature_range"),
}


@pytest.mark.parametrize("case", BAD_SCALERS, ids=list(BAD_SCALERS))
def test_bad_scaler_states_are_refused(case):
    state, field = BAD_SCALERS[case]
    with pytest.raises(ValueError, match=field):
        scaler_from_dict(state)


def test_good_scaler_states_round_trip():
    x = torch.randn(20, 3) * 4 + 2
    for scaler in (Standardizer().fit(x), MinMaxScaler().fit(x)):
        again = scaler_from_dict(json.loads(json.dumps(scaler.to_dict())))
        assert torch.allclose(again.transform(x), scaler.transform(x))
    constant = Standardizer().fit(torch.ones(5, 2))  # zero spread is stored as std 1
    assert scaler_from_dict(constant.to_dict()).std_.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("std", [0.0, -1.0, float("nan")])
def test_a_run_whose_scaler_divides_by_zero_is_refused_in_one_line(table, tmp_path, std):
    out = tmp_path / "run"
    code, _, err = cli(["train", "--data", table, "--latent-dim", "2", "--epochs", "1",
                        "--device", "cpu", "--out", out])  # fmt: skip
    assert code == 0, err
    path = out / "preprocessing.json"
    document = json.loads(path.read_text())
    document["scaler"]["std"][1] = std
    path.write_text(json.dumps(document))
    code, _, err = cli(["encode", out, "--out", tmp_path / "codes.npy"])
    assert code == 2 and err.count("\n") == 1 and "std" in err, err


# -- (d) safetensors' own error for a full disk ----------------------------------------------


def _disk_full(monkeypatch) -> None:
    import safetensors.torch
    from safetensors import SafetensorError

    def full(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"\0" * 100)  # some bytes land, then the disk is full
        raise SafetensorError(
            "Error while serializing: I/O error: No space left on device (os error 28)"
        )

    monkeypatch.setattr(safetensors.torch, "save_file", full)


def test_safetensors_full_disk_is_an_os_error_and_leaves_no_file(tmp_path, monkeypatch):
    target = tmp_path / "w.safetensors"
    save_tensors(target, {"a": torch.zeros(3)})
    before = target.read_bytes()
    _disk_full(monkeypatch)
    with pytest.raises(OSError, match="No space left on device") as caught:
        save_tensors(target, {"a": torch.ones(3)})
    assert "\n" not in str(caught.value) and "w.safetensors" in str(caught.value)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.safetensors"]  # no temporary file


def test_safetensors_full_disk_in_the_cli_fails_in_one_line(tmp_path, monkeypatch):
    _disk_full(monkeypatch)
    out = tmp_path / "run"
    code, _, err = cli(["train", "--data", "digits", "--model", "ae", "--latent-dim", "2",
                        "--epochs", "1", "--device", "cpu", "--out", out])  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and "No space left on device" in err, err
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp") or
                p.name.startswith(".tmp")]  # fmt: skip
    model_file = out / "model.safetensors"
    assert not model_file.exists() or latentkit.load(out) is not None
    assert os.path.isdir(out)
