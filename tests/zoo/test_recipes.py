"""The recipes behind ``make zoo``: their ``--quick`` smoke run writes every model folder and
card into a temporary folder (never the shipped one), and the chroma shrink folds exactly."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import latentkit
from latentkit import Autoencoder, AutoencoderConfig, zoo
from latentkit.apps.colorize import rgb_to_ycbcr
from latentkit.nn import NetworkConfig
from tests.conftest import REPO, require_data

SCRIPT = REPO / "zoo" / "train.py"


def chroma_module():
    spec = importlib.util.spec_from_file_location("zoo_chroma", REPO / "zoo" / "_chroma.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shipped_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(zoo.ROOT.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def test_quick_recipes_write_every_model_elsewhere(tmp_path):
    root = require_data("images").parent
    before = shipped_digest()
    env = {**os.environ, "LATENTKIT_DATA": str(root), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert shipped_digest() == before  # the shipped weights and cards are untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == zoo.names()
    for folder in tmp_path.iterdir():
        card = zoo.card(folder.name)  # the shipped card, for the task and model type
        model = latentkit.load(folder)
        assert model.model_type == card["model_type"]
        readme = (folder / "README.md").read_text()
        assert f"make zoo ZOO={folder.name}" in readme and "Smoke-test build" in readme
        assert '"quick": true' in (folder / "card.json").read_text()


def test_quick_never_writes_the_shipped_folder():
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2 and "never writes the shipped models" in done.stderr
    done = subprocess.run([sys.executable, str(SCRIPT), "nope", "--quick", "--out", "x"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2 and "unknown model(s) nope" in done.stderr


@pytest.mark.parametrize("shrink", [0.0, 0.35, 1.0])
def test_chroma_shrink_folds_into_the_last_layer(shrink):
    chroma = chroma_module()
    config = AutoencoderConfig(
        input_shape=(3, 16, 16), latent_dim=8, reconstruction="mse", output_activation="none",
        network=NetworkConfig(kind="conv", channels=(4, 8), dense=0),
    )  # fmt: skip
    model = Autoencoder(config).eval()
    x = torch.rand(3, 3, 16, 16)
    before = rgb_to_ycbcr(model.reconstruct(x))
    chroma.fold_shrink(model, shrink)
    after = rgb_to_ycbcr(model.reconstruct(x))
    assert torch.allclose(after[:, 0], before[:, 0], atol=1e-5)  # luma kept
    assert torch.allclose(after[:, 1:] - 0.5, shrink * (before[:, 1:] - 0.5), atol=1e-5)


def test_chroma_shrink_is_chosen_on_held_out_photos():
    chroma = chroma_module()
    config = AutoencoderConfig(
        input_shape=(3, 8, 8), latent_dim=4, reconstruction="mse", output_activation="none",
        network=NetworkConfig(kind="conv", channels=(4,), dense=0),
    )  # fmt: skip
    model = Autoencoder(config).eval()
    photos = [torch.rand(1, 3, 12, 20)]
    best, scores = chroma.choose_shrink(model, photos)
    assert best in chroma.GRID and scores[f"{best:.2f}"] == max(scores.values())
    with pytest.raises(ValueError, match="linear output"):
        chroma.fold_shrink(Autoencoder(config.replace(reconstruction="bce")), 0.5)
    assert Path(chroma.__file__).parent == REPO / "zoo"
