"""Pretrained models shipped inside the package: ``latentkit.pretrained(name)``.

Each model is a folder ``latentkit/zoo/pretrained/<name>/`` holding what every saved model
holds (``config.json`` + ``model.safetensors``, read by :func:`latentkit.load` with the same
checks as a user's folder: nothing in it can run code) and, beside it:

- ``preprocessing.json``: what the command line needs to feed it data (``{"data": "mnist"}``
  for the MNIST models; empty for the photo models, which take ``--data``);
- ``card.json``: name, task, data and licence, the recipe, the training time and the numbers
  on its test set, all written by the recipe run (``make zoo``, :mod:`latentkit.zoo.train`);
- ``README.md``: the model card, rendered from ``card.json`` by the same run.

Nothing here imports torch until a model is loaded, so the command line can resolve a name
(:func:`resolve`) and list the models (:func:`cards`) at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from latentkit.errors import CheckpointError

if TYPE_CHECKING:
    import torch

    from latentkit.models.base import AbstractModel

__all__ = ["DEFAULT_MODELS", "ROOT", "card", "cards", "names", "path", "pretrained", "resolve"]

#: Where the pretrained folders live (inside the installed package).
ROOT = Path(__file__).resolve().parent / "pretrained"
CARD_FILE = "card.json"
README_FILE = "README.md"

#: The pretrained model a command uses when it is given no model (commands not listed need one):
#: photo restoration, where a pretrained model is the natural tool for a user's own images.
DEFAULT_MODELS: dict[str, str] = {"denoise": "denoiser-color", "colorize": "colorizer"}


def names() -> list[str]:
    """The names of the pretrained models, sorted."""
    if not ROOT.is_dir():
        return []
    return sorted(
        p.name
        for p in ROOT.iterdir()
        if not p.name.startswith(".") and (p / "config.json").is_file()
    )


def _unknown(name: str) -> CheckpointError:
    return CheckpointError(
        f"no pretrained model named {name!r}; pretrained models: {', '.join(names())} "
        "(list them with 'latentkit models')."
    )


def path(name: str) -> Path:
    """The folder of the pretrained model ``name``.

    Raises
    ------
    CheckpointError
        If there is no such model (the message lists the names).
    """
    if name not in names():  # also refuses "../x", "/etc", "" and the like
        raise _unknown(name)
    return ROOT / name


def pretrained(name: str, *, device: str | torch.device = "cpu") -> AbstractModel:
    """Load the pretrained model ``name`` (see :func:`names`), in eval mode.

    It is read by :func:`latentkit.load` like any saved model folder; its ``metadata`` holds
    the pretrained name, task and data.

    Examples
    --------
    >>> import latentkit
    >>> vae = latentkit.pretrained("mnist-vae-16d")  # doctest: +SKIP
    >>> vae.sample(8).shape  # doctest: +SKIP
    torch.Size([8, 1, 28, 28])
    """
    from latentkit.models.persistence import load

    return load(path(name), device=device)


def resolve(name_or_path: str) -> Path:
    """A model folder from what a user typed: an existing path wins, then a pretrained name.

    Raises
    ------
    CheckpointError
        Neither a path that exists nor a pretrained name (the message lists the names).
    """
    candidate = Path(name_or_path)
    if name_or_path and candidate.exists():
        return candidate
    if name_or_path in names():
        return ROOT / name_or_path
    raise CheckpointError(
        f"{name_or_path!r} is neither a run folder nor a pretrained model; pretrained models: "
        f"{', '.join(names())} (train a run with 'latentkit train')."
    )


def card(name: str) -> dict[str, Any]:
    """The ``card.json`` of the pretrained model ``name`` (written by its recipe run)."""
    from latentkit.config import read_json

    document = read_json(path(name) / CARD_FILE, error=CheckpointError)
    if not isinstance(document, dict):
        raise CheckpointError(f"{path(name) / CARD_FILE}: expected a JSON object.")
    return document


def cards() -> list[dict[str, Any]]:
    """Every model's card, with ``megabytes`` (its weights file on disk) added."""
    out = []
    for name in names():
        document = card(name)
        size = (path(name) / "model.safetensors").stat().st_size
        out.append({**document, "megabytes": round(size / 1e6, 2)})
    return out
