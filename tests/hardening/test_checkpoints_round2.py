"""Crafted checkpoints: every tensor and every number of a checkpoint is checked against the
model and the optimizer it restores before any of it is used.

A checkpoint's digest only proves that its two files belong together; here the attacker (or a
buggy tool) rewrites a field *and* the digest. Before the checks, a 3-element ``exp_avg`` made
the fused Adam kernel write past its buffer (a segmentation fault, or silent garbage), an epoch
of -3 trained 17 epochs, and strings, bad RNG states or a NaN loss scale gave tracebacks. Now
each is refused with a one-line :class:`~latentkit.errors.CheckpointError` naming the file and
the field, the model is left as it was, and nothing of the checkpoint is used.

Cases that could crash the process before the fix (mis-shaped optimizer state fed to the fused
kernel) run in a subprocess.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from latentkit.cli.main import main
from latentkit.errors import CheckpointError
from latentkit.models.registry import create_model
from latentkit.training import TrainConfig, Trainer
from latentkit.training import checkpoint as ckpt

REPO = Path(__file__).resolve().parents[2]
CONFIG = TrainConfig(epochs=3, batch_size=16, lr=1e-2, device="cpu", progress=False,
                     keep_checkpoints=3)  # fmt: skip
NEWEST = "checkpoints/epoch-000002"

Change = Callable[[dict[str, torch.Tensor], dict], None]


def model():
    torch.manual_seed(0)
    return create_model("ae", (6,), latent_dim=2, network={"hidden": [8]}, reconstruction="mse")


def data() -> torch.Tensor:
    return torch.rand(32, 6, generator=torch.Generator().manual_seed(0))


def tamper(folder: Path, change: Change) -> None:
    """Apply ``change(tensors, meta)`` to the newest checkpoint and fix up its digest."""
    weights, document = folder / f"{NEWEST}.safetensors", folder / f"{NEWEST}.json"
    tensors, meta = load_file(weights), json.loads(document.read_text())
    change(tensors, meta)
    save_file(tensors, weights, metadata={"format": "latentkit-checkpoint"})
    meta["tensors_sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    document.write_text(json.dumps(meta))


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("round2") / "run"
    Trainer(CONFIG.replace(epochs=2)).fit(model(), data(), out=out)
    return out


@pytest.fixture
def copy(run, tmp_path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(run, target)
    return target


def _set(path: str, value) -> Change:
    """A change that sets ``meta[a][b]...`` (a dotted path; digits index lists) to ``value``."""

    def change(tensors, meta):
        *parents, last = path.split(".")
        node = meta
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[int(last) if isinstance(node, list) else last] = value

    return change


def _both(path: str, value) -> Change:
    """Set a field of the JSON top level and of ``state`` alike (they must agree)."""

    def change(tensors, meta):
        _set(path, value)(tensors, meta)
        _set(f"state.{path}", value)(tensors, meta)

    return change


def _tensor(name: str, value: Callable[[torch.Tensor | None], torch.Tensor | None]) -> Change:
    def change(tensors, meta):
        new = value(tensors.get(name))
        if new is None:
            del tensors[name]
        else:
            tensors[name] = new

    return change


def _history(value: Callable[[list], object]) -> Change:
    def change(tensors, meta):
        meta["history"] = value(meta["history"])

    return change


def _group_key(key: str, value) -> Change:
    return _set(f"optimizer.param_groups.0.{key}", value)


def _two_groups(tensors, meta):
    meta["optimizer"]["param_groups"].append(dict(meta["optimizer"]["param_groups"][0]))


def _state_entry(key: str, spec) -> Change:
    def change(tensors, meta):
        meta["optimizer"]["state"]["0"][key] = spec

    return change


def _unknown_param(tensors, meta):
    meta["optimizer"]["state"]["99"] = meta["optimizer"]["state"]["0"]


def _bytes(n: int) -> torch.Tensor:
    return torch.zeros(n, dtype=torch.uint8)


def _best_mis_shaped(tensors, meta):
    """Early stopping's best weights, one of them mis-shaped."""
    tensors.update({"best" + k[5:]: v.clone() for k, v in tensors.items() if k[:6] == "model."})
    tensors["best.encoder.mlp.net.0.weight"] = torch.zeros(3)


FIRST = "model.encoder.mlp.net.0.weight"
CASES: dict[str, tuple[Change, str]] = {
    # the loop state
    "epoch as a string": (_both("epoch", "x"), "epoch"),
    "epoch -3": (_both("epoch", -3), "epoch"),
    "epoch -3 in the state only": (_set("state.epoch", -3), "epoch"),
    "epoch 2.5": (_both("epoch", 2.5), "epoch"),
    "epoch beyond the configured epochs": (_both("epoch", 9), "epoch"),
    "global step -1": (_both("global_step", -1), "global_step"),
    "global step as text": (_both("global_step", "8"), "global_step"),
    "nan_scale as text": (_set("state.nan_scale", "NaN"), "nan_scale"),
    "nan_scale negative": (_set("state.nan_scale", -1.0), "nan_scale"),
    "nan_rollbacks -1": (_set("state.nan_rollbacks", -1), "nan_rollbacks"),
    "plateau factor NaN": (_set("state.plateau.factor", float("nan")), "factor"),
    "best_epoch beyond the epoch": (_set("state.best_epoch", 99), "best_epoch"),
    "stopped as text": (_set("state.stopped", "no"), "stopped"),
    "unknown state field": (_set("state.shell", "rm -rf"), "shell"),
    # the records
    "history as text": (_history(lambda h: "x"), "history"),
    "history of numbers": (_history(lambda h: [1, 2]), "history"),
    "history one record short": (_history(lambda h: h[:1]), "history"),
    "history with a NaN": (_history(lambda h: [h[0], {**h[1], "lr": float("nan")}]), "history"),
    # the optimizer's hyperparameters and structure
    "betas as strings": (_group_key("betas", ["a", "b"]), "betas"),
    "betas out of range": (_group_key("betas", [0.9, 1.5]), "betas"),
    "three betas": (_group_key("betas", [0.9, 0.99, 0.5]), "betas"),
    "lr NaN": (_group_key("lr", float("nan")), "lr"),
    "eps negative": (_group_key("eps", -1.0), "eps"),
    "weight_decay as text": (_group_key("weight_decay", "0"), "weight_decay"),
    "amsgrad as text": (_group_key("amsgrad", "yes"), "amsgrad"),
    "unknown group key": (_group_key("momentum", 0.9), "momentum"),
    "two groups": (_two_groups, "group"),
    "params renumbered": (_group_key("params", [0, 1, 2, 3, 4, 5, 6, 99]), "param"),
    "state of an unknown parameter": (_unknown_param, "99"),
    "unknown state entry": (_state_entry("bogus", {"value": 1}), "bogus"),
    "exp_avg as a number": (_state_entry("exp_avg", {"value": 3}), "exp_avg"),
    "exp_avg names a missing tensor": (_state_entry("exp_avg", {"tensor": "nope"}), "exp_avg"),
    "step negative": (_state_entry("step", {"value": -5}), "step"),
    # tensors and random states
    "unknown RNG key": (_tensor("rng.gen.foo", lambda t: _bytes(5056)), "rng.gen.foo"),
    "7-byte RNG state": (_tensor("rng.gen.noise", lambda t: _bytes(7)), "rng.gen.noise"),
    "7-byte global RNG state": (_tensor("rng.torch_cpu", lambda t: t[:7]), "rng.torch_cpu"),
    "float RNG state": (_tensor("rng.gen.shuffle", lambda t: t.float()), "rng.gen.shuffle"),
    "missing RNG state": (_tensor("rng.gen.data", lambda t: None), "rng.gen.data"),
    "unknown tensor": (_tensor("evil.x", lambda t: torch.zeros(2)), "evil.x"),
    "model weight as float64": (_tensor(FIRST, lambda t: t.double()), FIRST),
    "model weight missing": (_tensor(FIRST, lambda t: None), FIRST),
    "model weight NaN": (_tensor(FIRST, lambda t: t * float("nan")), FIRST),
    "best weight mis-shaped": (_best_mis_shaped, "best.encoder.mlp.net.0.weight"),
    "best incomplete": (_tensor("best.decoder.mlp.net.3.bias", lambda t: _bytes(2)), "best"),
}


def test_the_tamper_helper_keeps_a_valid_checkpoint_valid(copy):
    tamper(copy, lambda tensors, meta: None)
    history = Trainer(CONFIG).fit(model(), data(), out=copy, resume=True)
    assert [r["epoch"] for r in history.records] == [1, 2, 3]


def test_the_model_names_used_here_exist(run):
    assert f"{FIRST}" in load_file(run / f"{NEWEST}.safetensors")


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_tampered_checkpoint_is_refused_before_anything_is_used(copy, case):
    change, field = CASES[case]
    tamper(copy, change)
    net = model()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    torch.manual_seed(123)
    rng = torch.get_rng_state()
    with pytest.raises(CheckpointError) as caught:
        Trainer(CONFIG).fit(net, data(), out=copy, resume=True)
    message = str(caught.value)
    assert "\n" not in message and field in message and "epoch-000002.json" in message, message
    assert "delete" in message  # says what to do: the policy (refuse, not skip) is explicit
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())  # not loaded
    assert torch.equal(torch.get_rng_state(), rng)
    assert max(p.name for p in (copy / "checkpoints").iterdir()) == "epoch-000002.safetensors"


# -- the mixed-precision loss scale -----------------------------------------------------------


@pytest.fixture(scope="module")
def fp16_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("round2fp16") / "run"
    Trainer(CONFIG.replace(epochs=2, amp="fp16")).fit(model(), data(), out=out)
    return out


SCALER_CASES: dict[str, tuple[Change, str]] = {
    "scale NaN as text": (_set("grad_scaler.scale", "NaN"), "scale"),
    "scale NaN": (_set("grad_scaler.scale", float("nan")), "scale"),
    "scale negative": (_set("grad_scaler.scale", -2.0), "scale"),
    "growth_interval 0": (_set("grad_scaler.growth_interval", 0), "growth_interval"),
    "backoff_factor 2": (_set("grad_scaler.backoff_factor", 2.0), "backoff_factor"),
    "unknown scaler key": (_set("grad_scaler.evil", 1), "evil"),
    "scaler as a list": (_set("grad_scaler", [1, 2]), "grad_scaler"),
}


@pytest.mark.parametrize("case", SCALER_CASES, ids=list(SCALER_CASES))
def test_tampered_loss_scale_is_refused(fp16_run, tmp_path, case):
    change, field = SCALER_CASES[case]
    target = tmp_path / "fp16"
    shutil.copytree(fp16_run, target)
    tamper(target, change)
    with pytest.raises(CheckpointError) as caught:
        Trainer(CONFIG.replace(amp="fp16")).fit(model(), data(), out=target, resume=True)
    assert "\n" not in str(caught.value) and field in str(caught.value), caught.value


def test_untampered_fp16_checkpoint_resumes(fp16_run, tmp_path):
    target = tmp_path / "fp16"
    shutil.copytree(fp16_run, target)
    history = Trainer(CONFIG.replace(amp="fp16")).fit(model(), data(), out=target, resume=True)
    assert len(history) == 3


# -- mis-shaped optimizer state: a crash of the fused kernel before the fix --------------------

SETTINGS = {
    "data": "digits",
    "model": "ae",
    "model_config": {"latent_dim": 2, "network": {"hidden": [16]}},
    "train": {"epochs": 2, "batch_size": 64, "lr": 0.003, "device": "cpu", "progress": False},
}
OPTIM_CASES: dict[str, Change] = {
    "exp_avg with 3 elements": _tensor("optim.0.exp_avg", lambda t: torch.zeros(3)),
    "exp_avg as float64": _tensor("optim.0.exp_avg", lambda t: t.double()),
    "exp_avg transposed": _tensor("optim.0.exp_avg", lambda t: t.t().contiguous()),
    "exp_avg_sq empty": _tensor("optim.1.exp_avg_sq", lambda t: torch.zeros(0)),
    "step with 2 elements": _tensor("optim.0.step", lambda t: torch.tensor([1.0, 2.0])),
    "step 1e30": _tensor("optim.0.step", lambda t: torch.tensor(1e30)),
}


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("round2cli")
    (folder / "settings.json").write_text(json.dumps(SETTINGS))
    out = folder / "run"
    argv = ["train", "--config", str(folder / "settings.json"), "--out", str(out)]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(argv) == 0
    return folder


@pytest.mark.parametrize("case", OPTIM_CASES, ids=list(OPTIM_CASES))
def test_mis_shaped_optimizer_state_is_refused_by_train_resume(cli_run, tmp_path, case):
    folder = tmp_path / "cli"
    shutil.copytree(cli_run, folder)
    tamper(folder / "run", OPTIM_CASES[case])
    command = [sys.executable, "-m", "latentkit", "train", "--config",
               str(folder / "settings.json"), "--epochs", "3", "--out", str(folder / "run"),
               "--resume"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "epoch-000002.json" in errors[0], done.stderr
    assert "optim.0." in errors[0] or "optim.1." in errors[0], errors[0]


def test_json_that_python_cannot_parse_is_skipped_like_a_torn_file(copy):
    """An integer of 5000 digits is valid JSON that ``json.loads`` refuses with a bare
    ValueError: the checkpoint is skipped as unreadable, like a malformed JSON file."""
    document = copy / f"{NEWEST}.json"
    text = document.read_text()
    document.write_text(text.replace('"epoch": 2', '"epoch": ' + "9" * 5000, 1))
    found = ckpt.latest_checkpoint(copy / "checkpoints")
    assert found is not None and found.epoch == 1
