"""Saving and loading models: ``config.json`` + ``model.safetensors``, never pickle.

A model folder holds::

    config.json        {"model_type", "latentkit_version", "format_version", "config", "extra"}
    model.safetensors  the state dict

``load`` reads nothing but these two files, validates the JSON config against the model's
typed config (unknown keys and wrong types are refused), checks the safetensors header before
loading, and checks that every tensor is present with the right shape. Loading can therefore
never execute code shipped in the folder. The model is first built on PyTorch's ``meta``
device (shapes without memory) and compared with the weights file's header, so a crafted
config that announces enormous layers is refused before anything is allocated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from latentkit.config import read_json
from latentkit.errors import CheckpointError, ConfigError
from latentkit.models.registry import get_model_class
from latentkit.safe_tensors import load_tensors, save_tensors, validate_header

if TYPE_CHECKING:
    from latentkit.models.base import AbstractModel

__all__ = ["CONFIG_FILE", "FORMAT_VERSION", "WEIGHTS_FILE", "load", "load_metadata", "save_model"]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
FORMAT_VERSION = 1
_PICKLE_NAMES = ("pytorch_model.bin", "model.pt", "model.pth", "model.pkl", "model.ckpt")


def save_model(
    model: AbstractModel, path: str | Path, *, extra: dict[str, Any] | None = None
) -> Path:
    """Write ``model`` into the folder ``path`` (created if needed); return the folder."""
    from latentkit import __version__
    from latentkit.config import write_json

    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "model_type": model.model_type,
        "latentkit_version": __version__,
        "format_version": FORMAT_VERSION,
        "config": model.config.to_dict(),
        "extra": extra or {},
    }
    json.dumps(document)  # fail before writing anything if extra is not JSON
    save_tensors(folder / WEIGHTS_FILE, model.state_dict(), metadata={"format": "pt"})
    write_json(folder / CONFIG_FILE, document)
    return folder


def _inside(folder: Path, name: str) -> Path:
    """``folder / name``, refusing links that lead outside the folder."""
    candidate = folder / name
    if not candidate.exists():
        pickles = [p for p in _PICKLE_NAMES if (folder / p).exists()]
        hint = (
            f" It holds {', '.join(pickles)}: pickle-based weights are refused because loading "
            "them can run code. Convert them to safetensors with a trusted tool."
            if pickles
            else ""
        )
        raise CheckpointError(
            f"{folder}: no {name} found; this is not a latentkit model folder.{hint}"
        )
    resolved = candidate.resolve()
    if resolved.parent != folder.resolve():
        raise CheckpointError(
            f"{candidate}: is a link to {resolved}, outside the model folder; refused."
        )
    if not resolved.is_file():
        raise CheckpointError(f"{candidate}: expected a regular file.")
    return resolved


def _read_document(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        raise CheckpointError(
            f"{folder}: expected a model folder holding {CONFIG_FILE} and {WEIGHTS_FILE}."
        )
    document = read_json(_inside(folder, CONFIG_FILE), error=CheckpointError)
    if not isinstance(document, dict):
        raise CheckpointError(f"{folder / CONFIG_FILE}: expected a JSON object.")
    for key in ("model_type", "config"):
        if key not in document:
            raise CheckpointError(f"{folder / CONFIG_FILE}: missing the key {key!r}.")
    if not isinstance(document["model_type"], str):
        raise CheckpointError(f"{folder / CONFIG_FILE}: 'model_type' must be a string.")
    return document


def load_metadata(path: str | Path) -> dict[str, Any]:
    """The ``extra`` metadata stored with a saved model (e.g. its data transform)."""
    extra = _read_document(Path(path)).get("extra", {})
    if not isinstance(extra, dict):
        raise CheckpointError(f"{path}/{CONFIG_FILE}: 'extra' must be a JSON object.")
    return extra


def load(path: str | Path, *, device: str | torch.device = "cpu") -> AbstractModel:
    """Rebuild a saved model from its folder, in eval mode.

    Raises
    ------
    CheckpointError
        If the folder is not a model folder, the config is invalid or names an unknown
        ``model_type``, or a weight is missing, unexpected or mis-shaped.
    """
    folder = Path(path)
    document = _read_document(folder)
    try:
        cls = get_model_class(document["model_type"])
        config = cls.config_class.from_dict(document["config"])
    except ConfigError as exc:
        raise CheckpointError(f"{folder / CONFIG_FILE}: {exc}") from exc
    try:  # shapes only, no memory: a crafted config cannot make us allocate absurd tensors
        with torch.device("meta"):
            skeleton = cls(config)
    except (RuntimeError, TypeError, ValueError, OverflowError) as exc:
        raise CheckpointError(
            f"{folder / CONFIG_FILE}: cannot build a {document['model_type']} from this "
            f"config ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})."
        ) from exc
    weights = _inside(folder, WEIGHTS_FILE)
    found = {k: tuple(v["shape"]) for k, v in validate_header(weights).items()}
    expected = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    shapes = [
        f"{k}: expected {v}, found {found[k]}"
        for k, v in expected.items()
        if k in found and found[k] != v
    ]
    if missing or unexpected or shapes:
        problems = []
        if missing:
            problems.append(f"missing tensors {missing[:5]}")
        if unexpected:
            problems.append(f"unexpected tensors {unexpected[:5]}")
        if shapes:
            problems.append("mis-shaped " + "; ".join(shapes[:5]))
        raise CheckpointError(
            f"{folder / WEIGHTS_FILE} does not match its config: {', '.join(problems)}."
        )
    model = cls(config)  # its size is now bounded by the size of the weights file
    model.load_state_dict(load_tensors(weights))
    model.metadata = document.get("extra", {})
    return model.to(device).eval()
