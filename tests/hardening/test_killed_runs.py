"""``kill -9`` a training run at random moments: the run folder always loads or resumes, and
the resumed run ends with exactly the weights of an uninterrupted one (CPU, same seed).

The moments are events the run reports (a line on its stdout, a checkpoint file appearing, a
line of metrics.jsonl), chosen at random per trial, never fractions of a measured duration:
on a loaded machine a timed kill used to land after the run had finished."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

import latentkit
from latentkit.safe_tensors import load_tensors
from latentkit.training import checkpoint as ckpt

REPO = Path(__file__).resolve().parents[2]
SETTINGS = {
    "data": "digits",
    "model": "ae",
    "model_config": {"latent_dim": 2, "network": {"hidden": [16]}},
    "train": {"epochs": 16, "batch_size": 16, "lr": 0.003, "device": "cpu", "seed": 5,
              "progress": False, "checkpoint_every": 1, "keep_checkpoints": 2},
}  # fmt: skip
KILLS = 4


def command(settings: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "latentkit", "train", "--config", str(settings),
            "--out", str(out), *extra]  # fmt: skip


def env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO / "src"),
            "PYTHONUNBUFFERED": "1"}  # fmt: skip


def check_folder(out: Path) -> None:
    """What a kill can leave: a loadable model (when there is one) and valid checkpoints."""
    if (out / "model.safetensors").exists():
        assert latentkit.load(out).latent_dim == 2
    found = ckpt.latest_checkpoint(out / "checkpoints")
    if found is not None:
        assert found.meta["epoch"] == found.epoch
    for path in (out / "checkpoints").glob("*") if (out / "checkpoints").is_dir() else ():
        assert path.name.startswith(".") or path.suffix in {".json", ".safetensors"}, path
    for name in ("config.json", "metrics.jsonl", "preprocessing.json"):  # present: complete
        if (out / name).exists():
            [json.loads(line) for line in (out / name).read_text().splitlines() if name[-1] == "l"]
            if name.endswith(".json"):
                json.loads((out / name).read_text())


def start_training(args: list[str]) -> subprocess.Popen:
    """Start ``latentkit train`` and return once it has loaded the data and begins training."""
    process = subprocess.Popen(args, env=env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)  # fmt: skip
    for line in process.stdout:  # PYTHONUNBUFFERED: each line arrives as it is printed
        if line.startswith("training "):
            break
    return process


#: moments the run reports, at which a trial kills it: ``latentkit train`` printing the line of
#: epoch k (its checkpoint, model folder and metrics line are written), the tensor file of
#: checkpoint k appearing (its JSON may not be written yet), metrics.jsonl reaching k lines
MOMENTS = ("stdout", "tensors", "metrics")


def reached(moment: str, epoch: int, out: Path) -> bool:
    if moment == "tensors":
        return (out / "checkpoints" / f"epoch-{epoch:06d}.safetensors").exists()
    try:
        return len((out / "metrics.jsonl").read_bytes().splitlines()) >= epoch
    except FileNotFoundError:
        return False


def wait_for(process: subprocess.Popen, moment: str, epoch: int, out: Path) -> None:
    """Return when the run reports ``moment`` for ``epoch``, or when it has ended."""
    if moment == "stdout":
        for line in process.stdout:
            if line.startswith(f"epoch {epoch}/"):
                return
        return
    while process.poll() is None and not reached(moment, epoch, out):
        time.sleep(0.001)  # polling for a file; no moment depends on how long anything takes


def test_kill_9_at_random_moments_then_resume_matches_an_uninterrupted_run(tmp_path):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(SETTINGS))
    reference = subprocess.run(command(settings, tmp_path / "ref"), env=env(),
                               capture_output=True, text=True, timeout=300)  # fmt: skip
    assert reference.returncode == 0, reference.stderr

    epochs = SETTINGS["train"]["epochs"]
    out = tmp_path / "killed"
    rng = random.Random(1234)
    killed, epochs_seen, trials = 0, [], []
    for _ in range(KILLS):
        done = epochs_seen[-1] if epochs_seen else 0  # the checkpoint this trial resumes from
        moment = rng.choice(MOMENTS)
        # a later epoch than any file the last kill may have left (a tensor file of epoch
        # done + 1 without its JSON), and two epochs before the end: the run is still going
        target = min(done + rng.randint(2 if moment == "tensors" else 1, 3), epochs - 2)
        trials.append((moment, target))
        process = start_training(command(settings, out, "--resume"))
        wait_for(process, moment, target, out)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            killed += 1
        process.wait(timeout=120)
        process.stdout.close()
        check_folder(out)
        latest = ckpt.latest_checkpoint(out / "checkpoints")
        epochs_seen.append(0 if latest is None else latest.epoch)
    assert killed >= 1, f"no trial killed a running process ({trials}, {epochs_seen})"
    assert epochs_seen == sorted(epochs_seen)  # a kill never loses a completed checkpoint
    assert any(0 < e < epochs for e in epochs_seen), epochs_seen
    print("kills (moment, epoch):", trials, "checkpointed epochs after each:", epochs_seen)

    done = subprocess.run(command(settings, out, "--resume"), env=env(), capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    expected = load_tensors(tmp_path / "ref" / "model.safetensors")
    found = load_tensors(out / "model.safetensors")
    assert expected.keys() == found.keys()
    for name in expected:
        assert torch.equal(expected[name], found[name]), name
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == list(range(1, epochs + 1))
