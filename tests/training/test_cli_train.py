"""``latentkit train`` end to end, in a subprocess (as a user runs it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import latentkit

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO / "src")}
    command = [sys.executable, "-m", "latentkit", "train", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)


def test_train_one_epoch_on_digits_writes_the_run_folder(tmp_path):
    settings = {
        "data": "digits",
        "model_config": {"latent_dim": 8, "network": {"hidden": [32]}},
        "train": {"epochs": 5, "batch_size": 128, "lr": 0.01, "device": "cpu"},
    }
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    out = tmp_path / "run"
    done = _run("--config", str(tmp_path / "settings.json"), "--epochs", "1", "--latent-dim", "4",
                "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stdout
    assert {p.name for p in out.iterdir()} >= {"config.json", "model.safetensors",
                                               "metrics.jsonl", "checkpoints"}  # fmt: skip
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["val_loss"] is not None  # flags win
    model = latentkit.load(out)
    assert model.latent_dim == 4 and model.config.network.hidden == (32,)  # file kept
    document = json.loads((out / "config.json").read_text())
    assert document["extra"]["train_config"]["epochs"] == 1


def test_bad_settings_fail_in_one_line(tmp_path):
    done = _run("--data", "digits", "--epochs", "0", "--out", str(tmp_path / "run"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "epochs" in done.stderr


def test_amp_flag_reaches_the_trainer(tmp_path):
    out = tmp_path / "run"
    done = _run("--data", "digits", "--epochs", "1", "--latent-dim", "2", "--val-fraction", "0",
                "--device", "cpu", "--amp", "bf16", "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "amp='bf16' on the CPU" in done.stderr  # the warning that it is slow there
    document = json.loads((out / "config.json").read_text())
    assert document["extra"]["train_config"]["amp"] == "bf16"


def test_corruption_flag_reads_the_registry(monkeypatch, capsys):
    """``--corruption KIND:AMOUNT`` checks KIND against the corruption registry and its help
    lists the registered kinds, so a kind added there needs no change in the CLI."""
    import pytest

    from latentkit.cli.main import build_parser
    from latentkit.cli.train import _settings
    from latentkit.data import corruptions
    from latentkit.errors import ConfigError

    parse = build_parser().parse_args
    args = parse(["train", "--corruption", "box_mask:0.5", "--out", "run"])
    assert _settings(args)["train"]["corruption"] == {"kind": "box_mask", "amount": 0.5}
    with pytest.raises(ConfigError, match="unknown kind 'blur'") as caught:
        _settings(parse(["train", "--corruption", "blur:0.5", "--out", "run"]))
    assert ", ".join(corruptions.CORRUPTIONS) in str(caught.value)

    monkeypatch.setitem(corruptions.CORRUPTIONS, "invert", corruptions.CORRUPTIONS["gaussian"])
    args = parse(["train", "--corruption", "invert:0.2", "--out", "run"])
    assert _settings(args)["train"]["corruption"]["kind"] == "invert"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])  # a new parser: help is fixed when built
    assert "KIND is one of gaussian, salt_pepper, mask, box_mask, grayscale, invert" in " ".join(
        capsys.readouterr().out.split()
    )
