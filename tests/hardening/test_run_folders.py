"""The run folder: training never writes through a symbolic link inside it, one process at a
time trains in it (a lock held for the whole fit), and every file it writes gets the same
permissions (what ``open`` would give under the umask)."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from latentkit.cli.main import main
from latentkit.errors import CheckpointError, TrainingError
from latentkit.models.registry import create_model
from latentkit.training import Callback, TrainConfig, Trainer

REPO = Path(__file__).resolve().parents[2]
CONFIG = TrainConfig(epochs=2, batch_size=16, lr=1e-2, device="cpu", progress=False)
ENTRIES = ["checkpoints", "metrics.jsonl", "model.safetensors", "config.json"]


def model():
    return create_model("ae", (6,), latent_dim=2, network={"hidden": [8]}, reconstruction="mse",
                        seed=0)  # fmt: skip


def data() -> torch.Tensor:
    return torch.rand(32, 6, generator=torch.Generator().manual_seed(0))


def cli(argv: list) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([str(a) for a in argv])
    return code, err.getvalue()


def env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO / "src")}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# -- (a) symbolic links inside the run folder ------------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES)
def test_a_link_inside_the_run_folder_is_refused(tmp_path, entry):
    out, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    Trainer(CONFIG).fit(model(), data(), out=out)  # a real run, then one of its entries linked
    elsewhere.mkdir()
    target = elsewhere / entry
    os.replace(out / entry, target)
    (out / entry).symlink_to(target, target_is_directory=target.is_dir())
    (elsewhere / "keep.txt").write_text("not yours")
    before = snapshot(elsewhere)
    with pytest.raises(CheckpointError) as caught:
        Trainer(CONFIG.replace(epochs=3)).fit(model(), data(), out=out, resume=True)
    message = str(caught.value)
    assert "\n" not in message and entry in message and "link" in message, message
    assert snapshot(elsewhere) == before  # nothing written, nothing pruned out there


def test_a_fresh_run_into_a_linked_checkpoint_folder_is_refused(tmp_path):
    out, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (elsewhere / "epoch-000001.json").write_text("{}")  # would be pruned
    (out / "checkpoints").symlink_to(elsewhere, target_is_directory=True)
    code, err = cli(["train", "--data", "digits", "--model", "ae", "--latent-dim", "2",
                     "--epochs", "1", "--device", "cpu", "--out", out])  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and "checkpoints" in err, err
    assert sorted(p.name for p in elsewhere.iterdir()) == ["epoch-000001.json"]


def test_a_checkpoint_folder_swapped_for_a_link_mid_run_is_refused(tmp_path):
    out, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    elsewhere.mkdir()

    class Swap(Callback):
        def on_epoch_end(self, epoch, record, model):
            if epoch == 1:
                os.rename(out / "checkpoints", tmp_path / "moved")
                (out / "checkpoints").symlink_to(elsewhere, target_is_directory=True)

    with pytest.raises(CheckpointError, match="checkpoints"):
        Trainer(CONFIG, callbacks=[Swap()]).fit(model(), data(), out=out)
    assert not list(elsewhere.iterdir())


def test_a_linked_lock_file_is_refused(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / ".lock").symlink_to(tmp_path / "victim")
    with pytest.raises(CheckpointError, match=r"\.lock"):
        Trainer(CONFIG).fit(model(), data(), out=out)
    assert not (tmp_path / "victim").exists()


def test_the_run_folder_itself_may_be_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "run").symlink_to(tmp_path / "real", target_is_directory=True)
    history = Trainer(CONFIG).fit(model(), data(), out=tmp_path / "run")
    assert len(history) == 2 and (tmp_path / "real" / "model.safetensors").is_file()


# -- (b) one training process per run folder -------------------------------------------------


def test_a_second_train_into_a_busy_folder_stops_at_once(tmp_path):
    from latentkit.training.lock import lock_run_folder

    out = tmp_path / "run"
    with lock_run_folder(out):  # as a running `latentkit train --out run` holds it
        command = [sys.executable, "-m", "latentkit", "train", "--data", "digits", "--model",
                   "ae", "--latent-dim", "2", "--epochs", "1", "--device", "cpu",
                   "--out", str(out)]  # fmt: skip
        done = subprocess.run(command, env=env(), capture_output=True, text=True, timeout=180)
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and str(out) in done.stderr, done.stderr
        assert "another process" in done.stderr, done.stderr
        assert sorted(p.name for p in out.iterdir()) == [".lock"]  # nothing written

        with pytest.raises(TrainingError, match="another process"):
            Trainer(CONFIG).fit(model(), data(), out=out)  # Python users get it too
    assert len(Trainer(CONFIG).fit(model(), data(), out=out)) == 2  # released: free again


def test_the_lock_is_released_when_training_fails(tmp_path):
    class Boom(Callback):
        def on_epoch_end(self, epoch, record, model):
            raise RuntimeError("boom")

    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="boom"):
        Trainer(CONFIG, callbacks=[Boom()]).fit(model(), data(), out=out)
    assert len(Trainer(CONFIG).fit(model(), data(), out=out, resume=True)) == 2


def test_a_lock_left_by_a_killed_process_does_not_block(tmp_path):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path\n"
         "from latentkit.training.lock import lock_run_folder\n"
         "with lock_run_folder(Path(sys.argv[1])):\n"
         "    print('locked', flush=True)\n"
         "    time.sleep(600)\n", str(out)],
        env=env(), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"  # the lock is held now
        with pytest.raises(TrainingError, match="another process"):
            Trainer(CONFIG).fit(model(), data(), out=out)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=60)
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.stdout.close()
    assert (out / ".lock").exists()  # the file stays; the lock died with its process
    assert len(Trainer(CONFIG).fit(model(), data(), out=out)) == 2


# -- (c) one mode for every file -------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_every_file_of_a_run_folder_gets_the_same_mode(tmp_path, umask):
    out = tmp_path / "run"
    old = os.umask(umask)
    try:
        code, err = cli(["train", "--data", "digits", "--model", "ae", "--latent-dim", "2",
                         "--epochs", "2", "--device", "cpu", "--out", out])  # fmt: skip
    finally:
        os.umask(old)
    assert code == 0, err
    modes = {
        str(p.relative_to(out)): oct(stat.S_IMODE(p.stat().st_mode))
        for p in out.rglob("*")
        if p.is_file()
    }
    assert "model.safetensors" in modes and "checkpoints/epoch-000002.safetensors" in modes
    assert set(modes.values()) == {oct(0o666 & ~umask)}, modes
