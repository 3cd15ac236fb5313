"""Disk trouble (full disk, unwritable folder, a crash mid-write) and bad numbers (NaN/inf data).

Tests run as root in CI, where ``chmod 0o555`` does not stop writes: the unwritable-folder
case then uses a *file* where the run's parent folder should be, and a full disk is simulated
by making the rename of the atomic writer (or the tensor writer itself) raise ``ENOSPC``.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
from pathlib import Path

import pytest
import torch

import latentkit
import latentkit._io as atomic_io
from latentkit.cli.main import main
from latentkit.errors import DataError
from latentkit.models.registry import create_model
from latentkit.safe_tensors import load_tensors
from latentkit.training import TrainConfig, Trainer
from latentkit.training import checkpoint as ckpt

CONFIG = TrainConfig(epochs=4, batch_size=16, lr=1e-2, device="cpu", progress=False,
                     keep_checkpoints=3)  # fmt: skip


def data(n: int = 48) -> torch.Tensor:
    return torch.rand(n, 6, generator=torch.Generator().manual_seed(0))


def model():
    torch.manual_seed(0)
    return create_model("ae", (6,), latent_dim=2, network={"hidden": [8]}, reconstruction="mse")


def full_disk_after(monkeypatch, renames: int) -> None:
    """``os.replace`` inside the atomic writer succeeds ``renames`` times, then ENOSPC."""
    real, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) > renames:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        real(src, dst)

    monkeypatch.setattr(atomic_io.os, "replace", replace)


def no_temporary_files(folder: Path) -> None:
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def test_full_disk_mid_run_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    out = tmp_path / "run"
    # each epoch renames: checkpoint tensors, checkpoint JSON, weights, config (metrics.jsonl
    # is appended, not renamed; a fresh run does not rewrite it at the start)
    full_disk_after(monkeypatch, renames=4 * 2)  # epoch 3's checkpoint tensors fail
    with pytest.raises(OSError, match="No space left") as caught:
        Trainer(CONFIG).fit(model(), data(), out=out)
    assert caught.value.errno == errno.ENOSPC
    no_temporary_files(out)
    found = ckpt.latest_checkpoint(out / "checkpoints")
    assert found is not None and found.epoch == 2
    assert latentkit.load(out).latent_dim == 2  # the weights of epoch 2, complete
    monkeypatch.undo()  # space is back: resume ends where an uninterrupted run ends
    resumed = model()
    Trainer(CONFIG).fit(resumed, data(), out=out, resume=True)
    reference = model()
    Trainer(CONFIG).fit(reference, data(), out=tmp_path / "ref")
    for name, value in reference.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[name]), name


def test_crash_while_writing_a_checkpoint_leaves_no_partial_file(tmp_path, monkeypatch):
    out = tmp_path / "run"
    Trainer(CONFIG.replace(epochs=1)).fit(model(), data(), out=out)
    before = {p.name: p.read_bytes() for p in (out / "checkpoints").iterdir()}
    import safetensors.torch

    def half_written(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"\0" * 100)  # some bytes land, then the disk fills up
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", half_written)
    with pytest.raises(OSError, match="No space left"):
        Trainer(CONFIG.replace(epochs=2)).fit(model(), data(), out=out, resume=True)
    after = {p.name: p.read_bytes() for p in (out / "checkpoints").iterdir()}
    assert after == before  # nothing new, nothing partial, nothing touched
    no_temporary_files(out)
    assert ckpt.latest_checkpoint(out / "checkpoints").epoch == 1
    load_tensors(out / "model.safetensors")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores chmod")
def test_read_only_output_folder_is_a_clear_error(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError):
            Trainer(CONFIG.replace(epochs=1)).fit(model(), data(), out=folder / "run")
    finally:
        folder.chmod(0o755)


TRAIN = ["train", "--data", "digits", "--model", "ae", "--latent-dim", "2", "--epochs", "1",
         "--device", "cpu"]  # fmt: skip


def cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def test_unwritable_output_path_fails_in_one_line(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the run's parent folder should be")
    code, err = cli([*TRAIN, "--out", str(blocker / "run")])
    assert code == 2 and err.count("\n") == 1 and "not-a-folder" in err, err


def test_full_disk_in_the_cli_fails_in_one_line(tmp_path, monkeypatch):
    full_disk_after(monkeypatch, renames=0)
    code, err = cli([*TRAIN, "--out", str(tmp_path / "run")])
    assert code == 2 and err.count("\n") == 1 and "No space left" in err, err
    no_temporary_files(tmp_path)


# -- bad numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("which", ["train", "val"])
def test_non_finite_data_is_reported_before_training(tmp_path, value, which):
    x = data()
    x[5, 2] = value
    x[9, 0] = value
    train, val = (x, data(16)) if which == "train" else (data(), x)
    net = model()
    start = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(DataError, match=rf"{which} holds NaN or inf values in 2 sample.*row 5"):
        Trainer(CONFIG).fit(net, train, val, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()  # nothing written, no step taken
    assert all(torch.equal(v, start[k]) for k, v in net.state_dict().items())


def test_exploding_learning_rate_stops_cleanly_from_the_cli(tmp_path):
    code, err = cli(["train", "--data", "digits", "--model", "ae", "--latent-dim", "2",
                     "--epochs", "2", "--lr", "1e30", "--device", "cpu", "--out",
                     str(tmp_path / "run")])  # fmt: skip
    if code == 0:  # the guard recovered: every weight is finite
        weights = load_tensors(tmp_path / "run" / "model.safetensors")
        assert all(torch.isfinite(w).all() for w in weights.values())
    else:
        assert code == 2 and err.count("\n") == 1 and "non-finite loss" in err, err
