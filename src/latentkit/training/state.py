"""The loop state a checkpoint carries, the mapping between a run and its checkpoint, and
the run folder's checkpoint and model files.

:class:`LoopState` holds the few numbers besides tensors that define where training stands:
completed epochs, the global step, the NaN guard's learning-rate scale and roll-back count,
the plateau schedule and the early-stopping bookkeeping. :func:`checkpoint_payload` collects a
run's tensors (model, optimizer, best weights, RNG states) and JSON (everything else) for
:func:`latentkit.training.checkpoint.save_checkpoint`; :func:`restore` puts a loaded
checkpoint back. :class:`RunFolder` is what the trainer calls: it writes a checkpoint (then
the model folder) after an epoch, the final model folder, and loads the newest valid
checkpoint on resume (the file format itself is :mod:`.checkpoint`'s).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from latentkit.errors import CheckpointError
from latentkit.models.base import AbstractModel
from latentkit.training import checkpoint as ckpt
from latentkit.training.config import TrainConfig
from latentkit.training.lock import checkpoint_folder
from latentkit.training.schedules import PlateauState
from latentkit.training.verify import IMPLEMENTATION_FLAGS, verify_checkpoint

__all__ = ["LoopState", "Restored", "RunFolder", "checkpoint_payload", "restore"]

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
    # the global generators as the caller left them: recorded, not restored (see restore)
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


@dataclasses.dataclass
class Restored:
    """What :func:`restore` gives back besides the model, optimizer and scaler it loads."""

    state: LoopState
    records: list[dict[str, Any]]  # the metrics records of the completed epochs
    best_weights: dict[str, Tensor] | None  # early stopping's best model state, on the device
    generators: dict[str, Tensor]  # the trainer's random streams at the next epoch: name -> state


def restore(
    found: ckpt.Checkpoint,
    *,
    model: AbstractModel,
    optimizer: torch.optim.Optimizer,
    scaler: Any,
    config: TrainConfig,
    device: torch.device,
) -> Restored:
    """Load ``found`` into the model, optimizer and scaler (torch's global generators are left
    alone: the trainer seeds them per epoch).

    Raises
    ------
    CheckpointError
        If the checkpoint belongs to another model, or any of its tensors or numbers does not
        fit this model, optimizer, scaler and config (:func:`.verify.verify_checkpoint`:
        checked before anything is loaded).
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
    # every tensor and number against this model, optimizer and scaler, before any is used
    verify_checkpoint(found, model=model, optimizer=optimizer, scaler=scaler, config=config,
                      device=device)  # fmt: skip
    try:
        model.load_state_dict(found.group("model"))
        optim_state = ckpt.unflatten_optimizer(found.tensors, meta["optimizer"])
        optimizer.load_state_dict(_own_flags(optim_state, optimizer))
        if scaler is not None and meta.get("grad_scaler"):
            scaler.load_state_dict(meta["grad_scaler"])
        state = LoopState.from_dict(meta["state"])
        records = list(meta["history"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{found.path}: cannot restore the training state ({exc}).") from exc
    # rng.torch_cpu and rng.cuda.* are not put back: the trainer seeds the global generators
    # per epoch from the run's seed, and the caller's stream is the caller's
    best = {k: v.to(device) for k, v in found.group("best").items()} or None
    return Restored(state, records, best, found.group("rng.gen"))


def _own_flags(state: dict[str, Any], optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """``state`` with the implementation flags (fused, foreach, ...) of ``optimizer``: they say
    how this process computes a step (a fused kernel may be missing here), not where training
    stands."""
    for group, own in zip(state["param_groups"], optimizer.param_groups, strict=True):
        group.update({k: own[k] for k in IMPLEMENTATION_FLAGS if k in own})
    return state


class RunFolder:
    """The checkpoints and the model folder of one run in ``out`` (rank 0 writes, every rank
    reads on resume).

    Parameters
    ----------
    out : Path
        The run folder: ``config.json`` and ``model.safetensors`` (``model.save``), and
        ``checkpoints/``.
    model, optimizer, scaler, config
        The run's model, optimizer, GradScaler (or None) and TrainConfig.
    """

    def __init__(
        self,
        out: Path,
        model: AbstractModel,
        optimizer: torch.optim.Optimizer,
        scaler: Any,
        config: TrainConfig,
    ) -> None:
        self.out = out
        self.model, self.optimizer, self.scaler, self.config = model, optimizer, scaler, config

    @property
    def checkpoints(self) -> Path:
        return self.out / "checkpoints"

    def save_model(self, state: LoopState) -> None:
        """Write the model folder with the train config and progress in its ``extra``."""
        extra = {
            "train_config": self.config.to_dict(),
            "epochs_completed": state.epoch,
            "best_epoch": state.best_epoch,
        }
        self.model.save(self.out, extra=extra)

    def save_checkpoint(
        self,
        state: LoopState,
        records: list[dict[str, Any]],
        best_weights: dict[str, Tensor] | None,
        generators: dict[str, torch.Generator],
    ) -> None:
        """Write the checkpoint after ``state.epoch`` epochs, prune old ones, then write the
        model folder (so that it always holds the weights of the newest checkpoint)."""
        tensors, meta = checkpoint_payload(
            model=self.model,
            optimizer=self.optimizer,
            scaler=self.scaler,
            state=state,
            config=self.config,
            records=records,
            best_weights=best_weights,
            generators=generators,
        )
        folder = checkpoint_folder(self.out)  # a real folder inside the run: no link
        ckpt.save_checkpoint(folder, state.epoch, tensors, meta)
        ckpt.prune_checkpoints(folder, self.config.keep_checkpoints)
        self.save_model(state)

    def load_latest(self, device: torch.device) -> Restored | None:
        """Restore the newest valid checkpoint; None (with a warning) when there is none.

        Raises
        ------
        CheckpointError
            If the checkpoint belongs to another model or cannot be restored.
        """
        found = ckpt.latest_checkpoint(self.checkpoints)
        if found is None:
            logger.warning("resume=True but %s holds no valid checkpoint; starting afresh.",
                           self.checkpoints)  # fmt: skip
            return None
        restored = restore(found, model=self.model, optimizer=self.optimizer,
                           scaler=self.scaler, config=self.config, device=device)  # fmt: skip
        logger.info("resumed from %s (epoch %d, step %d)", found.path, restored.state.epoch,
                    restored.state.global_step)  # fmt: skip
        return restored
