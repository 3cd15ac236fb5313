"""The loop state a checkpoint carries, and the mapping between a run and its checkpoint.

:class:`LoopState` holds the few numbers besides tensors that define where training stands:
completed epochs, the global step, the NaN guard's learning-rate scale and roll-back count,
the plateau schedule and the early-stopping bookkeeping. :func:`checkpoint_payload` collects a
run's tensors (model, optimizer, best weights, RNG states) and JSON (everything else) for
:func:`latentkit.training.checkpoint.save_checkpoint`; :func:`restore` puts a loaded
checkpoint back.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import torch
from torch import Tensor

from latentkit.errors import CheckpointError
from latentkit.models.base import AbstractModel
from latentkit.training import checkpoint as ckpt
from latentkit.training.config import TrainConfig
from latentkit.training.schedules import PlateauState

__all__ = ["LoopState", "checkpoint_payload", "restore"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class LoopState:
    """Where training stands (JSON in checkpoints)."""

    epoch: int = 0  # completed epochs
    global_step: int = 0  # optimisation steps taken (passed to model.loss as step=)
    nan_scale: float = 1.0  # product of nan_lr_factor over the roll-backs so far
    nan_rollbacks: int = 0  # roll-backs performed by the NaN guard
    plateau: PlateauState = dataclasses.field(default_factory=PlateauState)
    best: float | None = None  # lowest monitored loss so far
    best_epoch: int | None = None  # its 1-based epoch
    bad_epochs: int = 0  # epochs since it
    stopped: bool = False  # early stopping has ended training

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "plateau": self.plateau.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoopState:
        return cls(**{**data, "plateau": PlateauState.from_dict(data["plateau"])})


def checkpoint_payload(
    *,
    model: AbstractModel,
    optimizer: torch.optim.Optimizer,
    scaler: Any,
    state: LoopState,
    config: TrainConfig,
    records: list[dict[str, Any]],
    best_weights: dict[str, Tensor] | None,
    generators: dict[str, torch.Generator],
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """The tensors and the JSON of a checkpoint of this run.

    ``generators`` are the trainer's random streams as they will start the next epoch.
    """
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    optim_tensors, optim_structure = ckpt.flatten_optimizer(optimizer.state_dict())
    tensors.update(optim_tensors)
    if best_weights is not None:
        tensors.update({f"best.{k}": v for k, v in best_weights.items()})
    tensors["rng.torch_cpu"] = ckpt.rng_tensor(torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, rng in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = ckpt.rng_tensor(rng)
    for name, generator in generators.items():
        tensors[f"rng.gen.{name}"] = ckpt.rng_tensor(generator.get_state())
    corruption = config.corruption
    meta = {
        "global_step": state.global_step,
        "state": state.to_dict(),
        "optimizer": optim_structure,
        "grad_scaler": None if scaler is None else scaler.state_dict(),
        "data_transform": {
            "binarize": config.binarize,
            "corruption": None if corruption is None else corruption.to_dict(),
            "seed": config.seed,
            "generators": "rng.gen.*; re-seeded from sha256(seed/stream/epoch/rank) each epoch",
        },
        "history": list(records),
        "train_config": config.to_dict(),
        "model_type": model.model_type,
        "model_config": model.config.to_dict(),
    }
    return tensors, meta


def restore(
    found: ckpt.Checkpoint,
    *,
    model: AbstractModel,
    optimizer: torch.optim.Optimizer,
    scaler: Any,
    config: TrainConfig,
    device: torch.device,
) -> tuple[LoopState, list[dict[str, Any]], dict[str, Tensor] | None, dict[str, Tensor]]:
    """Load ``found`` into the model, optimizer and scaler and restore the global RNGs.

    Returns
    -------
    state, records, best_weights, generator_states

    Raises
    ------
    CheckpointError
        If the checkpoint belongs to another model or cannot be restored.
    """
    meta = found.meta
    if (
        meta.get("model_type") != model.model_type
        or meta.get("model_config") != model.config.to_dict()
    ):
        raise CheckpointError(
            f"{found.path}: written for a {meta.get('model_type')} with config "
            f"{meta.get('model_config')}, not for this {model.model_type}; resume with the "
            "same model config or use a new run folder."
        )
    if meta.get("train_config") != config.to_dict():
        logger.warning("resuming %s with another TrainConfig than it was written with", found.path)
    try:
        model.load_state_dict(found.group("model"))
        optimizer.load_state_dict(ckpt.unflatten_optimizer(found.tensors, meta["optimizer"]))
        if scaler is not None and meta.get("grad_scaler"):
            scaler.load_state_dict(meta["grad_scaler"])
        state = LoopState.from_dict(meta["state"])
        records = list(meta["history"])
        torch.set_rng_state(found.tensors["rng.torch_cpu"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{found.path}: cannot restore the training state ({exc}).") from exc
    cuda = [found.tensors[k] for k in sorted(found.tensors) if k.startswith("rng.cuda.")]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    best = {k: v.to(device) for k, v in found.group("best").items()} or None
    return state, records, best, found.group("rng.gen")
