"""The shipped pretrained models: each loads through ``latentkit.pretrained`` and
``latentkit.load``, its folder is an ordinary model folder (the same checks as a user's), the
weights stay under 20 MB together, and each card exists with its retrain command and numbers."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
import torch

import latentkit
from latentkit import zoo
from latentkit.errors import CheckpointError
from latentkit.safe_tensors import validate_header

EXPECTED = {
    "denoiser-gray": ("denoise", "residual_denoiser"),
    "denoiser-color": ("denoise", "residual_denoiser"),
    "colorizer": ("colorize", "autoencoder"),
    "mnist-vae-16d": ("generate", "vae"),
    "mnist-vae-2d": ("generate", "vae"),
    "fashion-mnist-vae-16d": ("generate", "vae"),
    "mnist-inpainter": ("inpaint", "autoencoder"),
}
FILES = {"config.json", "model.safetensors", "preprocessing.json", "card.json", "README.md"}
MAX_BYTES = 20 * 1024 * 1024


def test_every_listed_model_is_shipped():
    assert set(zoo.names()) == set(EXPECTED)
    assert zoo.ROOT.is_dir() and zoo.ROOT.is_relative_to(Path(latentkit.__file__).parent)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loads_through_pretrained_and_load(name):
    model = latentkit.pretrained(name)
    same = latentkit.load(zoo.path(name))
    task, model_type = EXPECTED[name]
    assert model.model_type == same.model_type == model_type
    assert not model.training
    assert model.metadata["pretrained"] == name and model.metadata["task"] == task
    for key, value in model.state_dict().items():
        assert torch.equal(value, same.state_dict()[key]), key
        assert value.dtype != torch.float32 or torch.isfinite(value).all(), key
    card = zoo.card(name)
    assert card["task"] == task and card["model_type"] == model_type
    assert card["parameters"] == sum(p.numel() for p in model.parameters())
    assert card["input_shape"] == list(model.input_shape)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_folder_is_an_ordinary_model_folder(name, tmp_path):
    folder = zoo.path(name)
    entries = list(folder.iterdir())
    assert {p.name for p in entries} == FILES
    assert not any(p.is_symlink() for p in entries) and all(p.is_file() for p in entries)
    header = validate_header(folder / "model.safetensors")  # the checked reader of load()
    dtypes = {key: info["dtype"] for key, info in header.items()}
    assert dtypes and all(  # float32 weights; batch norm's step counters are int64
        dtype == "F32" or key.endswith("num_batches_tracked") for key, dtype in dtypes.items()
    )
    json.loads((folder / "preprocessing.json").read_text())
    copy = shutil.copytree(folder, tmp_path / "copy")  # a user's folder with the same files
    assert latentkit.load(copy).model_type == EXPECTED[name][1]


def test_total_size_is_at_most_20_mb():
    total = sum(p.stat().st_size for p in zoo.ROOT.rglob("*") if p.is_file())
    assert total <= MAX_BYTES, f"{total / 1e6:.1f} MB"
    listed = sum(card["megabytes"] for card in zoo.cards())
    assert listed * 1e6 <= MAX_BYTES


def _numbers(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield value


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_card_has_the_retrain_command_and_numbers(name):
    card = zoo.card(name)
    readme = (zoo.path(name) / zoo.README_FILE).read_text()
    assert card["quick"] is False, "a --quick build was shipped"
    assert card["recipe"]["command"] == f"make zoo ZOO={name}"
    assert f"make zoo ZOO={name}" in readme and "make zoo" in readme
    assert card["training"]["seconds"] > 0 and card["training"]["cpu"]
    numbers = list(_numbers(card["quality"]))
    assert len(numbers) >= 4 and all(math.isfinite(v) for v in numbers)
    assert card["headline"] in readme  # the card shows the numbers the recipe wrote
    for key, value in card["quality"].items():
        if isinstance(value, float):
            assert f"| {key} | {value} |" in readme
    assert card["licence"] in readme and card["train_data"] in readme


def test_unknown_names_are_refused_with_the_list():
    for bad in ["nope", "../denoiser-gray", "", "/etc", ".", "denoiser-gray/"]:
        with pytest.raises(CheckpointError, match=r"pretrained models: .*mnist-vae-16d"):
            zoo.path(bad)
    with pytest.raises(CheckpointError, match="mnist-inpainter"):
        latentkit.pretrained("mnist-vae")


def test_resolve_prefers_an_existing_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert zoo.resolve("colorizer") == zoo.ROOT / "colorizer"
    (tmp_path / "colorizer").mkdir()  # a user's run folder of the same name wins
    assert zoo.resolve("colorizer") == Path("colorizer")
    with pytest.raises(CheckpointError, match="neither a run folder nor a pretrained model"):
        zoo.resolve("missing-run")


def test_pretrained_is_on_the_public_surface():
    assert "pretrained" in latentkit.__all__ and latentkit.pretrained is zoo.pretrained
