"""Training checkpoints as safetensors + JSON: no pickle anywhere.

A checkpoint after epoch ``e`` is two files in ``<run>/checkpoints/``::

    epoch-000003.safetensors   every tensor: model weights ("model.*"), optimizer state
                               ("optim.<param>.<key>"), best weights for early stopping
                               ("best.*"), RNG states as uint8 tensors ("rng.*")
    epoch-000003.json          everything else: format, epoch, global step, the optimizer's
                               structure (param groups, which state entries are tensors),
                               schedule / early-stopping / NaN-guard state, history, configs,
                               and the sha256 of the safetensors file

The safetensors file is written first, the JSON last (each atomically), so a checkpoint is
*valid* only when its JSON parses, names the right format and carries the digest of the
tensor file next to it. A crash mid-write leaves at most an orphan tensor file, which
:func:`latest_checkpoint` skips in favour of the newest valid checkpoint.

Reading goes through :func:`latentkit.safe_tensors.load_tensors` (header validated first) and
``json``; nothing here can execute code from the files. A checkpoint that is complete but whose
contents do not fit the run (a crafted tensor or number, with the digest recomputed) is not
skipped but refused, by :mod:`.verify` before anything of it is used.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from latentkit.config import read_json, write_json
from latentkit.errors import CheckpointError
from latentkit.safe_tensors import load_tensors, save_tensors

__all__ = [
    "FORMAT",
    "Checkpoint",
    "flatten_optimizer",
    "latest_checkpoint",
    "list_checkpoints",
    "prune_checkpoints",
    "save_checkpoint",
    "unflatten_optimizer",
]

logger = logging.getLogger(__name__)

FORMAT = "latentkit-checkpoint"
VERSION = 1
_NAME = re.compile(r"^epoch-(\d{6})\.json$")


class Checkpoint:
    """A loaded checkpoint: ``tensors`` (name to CPU tensor) and ``meta`` (the JSON)."""

    def __init__(self, path: Path, tensors: dict[str, Tensor], meta: dict[str, Any]) -> None:
        self.path = path
        self.tensors = tensors
        self.meta = meta

    @property
    def epoch(self) -> int:
        """Number of completed epochs."""
        return int(self.meta["epoch"])

    def group(self, prefix: str) -> dict[str, Tensor]:
        """Tensors named ``prefix.<key>``, keyed by ``<key>``."""
        cut = len(prefix) + 1
        return {k[cut:]: v for k, v in self.tensors.items() if k.startswith(prefix + ".")}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def flatten_optimizer(
    state: Mapping[str, Any], prefix: str = "optim"
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into tensors and a JSON structure.

    Returns
    -------
    tensors : dict of str to Tensor
        ``"<prefix>.<param id>.<key>"`` for every tensor in the per-parameter state.
    structure : dict
        ``{"param_groups": [...], "state": {id: {key: {"tensor": name} | {"value": v}}}}``.

    Raises
    ------
    CheckpointError
        If the state holds something that is neither a tensor nor a JSON value.
    """
    tensors: dict[str, Tensor] = {}
    entries: dict[str, dict[str, Any]] = {}
    for pid, param_state in state["state"].items():
        entry: dict[str, Any] = {}
        for key, value in param_state.items():
            if isinstance(value, Tensor):
                name = f"{prefix}.{pid}.{key}"
                tensors[name] = value
                entry[key] = {"tensor": name}
            else:
                entry[key] = {"value": _json_value(value, f"state[{pid}][{key}]")}
        entries[str(pid)] = entry
    groups = [
        {k: _json_value(v, f"param_groups.{k}") for k, v in group.items()}
        for group in state["param_groups"]
    ]
    return tensors, {"param_groups": groups, "state": entries}


def _json_value(value: Any, where: str) -> Any:
    if isinstance(value, Tensor) and value.numel() == 1:
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_json_value(v, where) for v in value]
    raise CheckpointError(
        f"optimizer {where} holds a {type(value).__name__}; only tensors and JSON values "
        "can be checkpointed."
    )


def unflatten_optimizer(
    tensors: Mapping[str, Tensor], structure: Mapping[str, Any]
) -> dict[str, Any]:
    """Inverse of :func:`flatten_optimizer`: a dict for ``optimizer.load_state_dict``."""
    state: dict[int, dict[str, Any]] = {}
    try:
        for pid, entry in structure["state"].items():
            state[int(pid)] = {
                key: tensors[spec["tensor"]] if "tensor" in spec else spec["value"]
                for key, spec in entry.items()
            }
        groups = []
        for group in structure["param_groups"]:
            group = dict(group)
            if isinstance(group.get("betas"), list):
                group["betas"] = tuple(group["betas"])
            groups.append(group)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(
            f"the optimizer structure in the checkpoint is malformed ({exc})."
        ) from exc
    return {"state": state, "param_groups": groups}


def rng_tensor(state: Tensor) -> Tensor:
    """An RNG state as a uint8 CPU tensor (``Generator.get_state`` already is one)."""
    return state.detach().to("cpu", torch.uint8).contiguous()


def save_checkpoint(
    folder: str | Path, epoch: int, tensors: Mapping[str, Tensor], meta: dict[str, Any]
) -> Path:
    """Write the checkpoint after ``epoch`` completed epochs into ``folder``; return the JSON path.

    Raises
    ------
    CheckpointError
        If a floating-point tensor holds NaN or infinity (a non-finite checkpoint is never
        written).
    """
    folder = Path(folder)
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(
                f"refusing to write a checkpoint after epoch {epoch}: {name} is not finite."
            )
    stem = folder / f"epoch-{epoch:06d}"
    weights = stem.with_suffix(".safetensors")
    save_tensors(weights, dict(tensors), metadata={"format": FORMAT})
    document = {
        "format": FORMAT,
        "version": VERSION,
        "epoch": epoch,
        "tensors_file": weights.name,
        "tensors_sha256": _sha256(weights),
        **meta,
    }
    write_json(stem.with_suffix(".json"), document)
    return stem.with_suffix(".json")


def list_checkpoints(folder: str | Path) -> list[Path]:
    """JSON files of the checkpoints in ``folder``, oldest first (validity not checked)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _NAME.match(p.name))


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Load and verify the checkpoint whose JSON file is ``path``.

    Raises
    ------
    CheckpointError
        If the JSON is malformed or of another format, or the tensor file is missing, altered
        (digest mismatch) or not valid safetensors.
    """
    path = Path(path)
    try:
        meta = read_json(path, error=CheckpointError)
    except ValueError as exc:  # valid JSON that Python will not parse (a 5000-digit integer)
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(f"{path}: cannot read it ({exc}).") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a {FORMAT} file.")
    name = meta.get("tensors_file")
    if not isinstance(name, str) or Path(name).name != name:
        raise CheckpointError(f"{path}: 'tensors_file' must be a file name beside it.")
    weights = path.parent / name
    if not weights.is_file():
        raise CheckpointError(f"{path}: its tensor file {weights.name} is missing.")
    if _sha256(weights) != meta.get("tensors_sha256"):
        raise CheckpointError(f"{weights}: contents do not match the digest in {path.name}.")
    return Checkpoint(path, load_tensors(weights), meta)


def latest_checkpoint(folder: str | Path) -> Checkpoint | None:
    """The newest valid checkpoint in ``folder``; invalid ones are skipped with a warning."""
    for path in reversed(list_checkpoints(folder)):
        try:
            return load_checkpoint(path)
        except CheckpointError as exc:
            logger.warning("skipping invalid checkpoint: %s", exc)
    return None


def prune_checkpoints(folder: str | Path, keep: int) -> None:
    """Delete all but the ``keep`` newest checkpoints (and orphan tensor files)."""
    folder = Path(folder)
    paths = list_checkpoints(folder)
    kept = {p.with_suffix("").name for p in paths[-keep:]}
    for path in folder.glob("epoch-*.*"):
        if path.suffix in (".json", ".safetensors") and path.with_suffix("").name not in kept:
            path.unlink(missing_ok=True)
