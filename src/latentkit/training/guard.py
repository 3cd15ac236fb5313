"""The NaN guard: detect non-finite steps without a host sync per step, and roll back.

Reading a loss with ``.item()`` after every step would stall the GPU pipeline once per step
(the host waits for the device). Instead, every step folds ``isfinite(loss) &
isfinite(grad_norm)`` into a boolean tensor on the device (two tiny kernels, no sync), and
counts the steps that were fine before the first failure. Every ``nan_check_every`` steps and
at the end of each epoch the trainer reads that flag once (one sync per check). If a step
failed, the model, the optimizer (and GradScaler) state and the epoch's metric sums are
restored from the in-memory snapshot taken at the previous successful check, the learning
rate is multiplied by ``nan_lr_factor``, and training continues with the next batch (the
batches of the failed window are skipped for this epoch). After ``max_nan_retries``
roll-backs the trainer raises :class:`~latentkit.errors.TrainingError` naming the epoch and
the first failing step.

Cost: per step, three tiny device ops plus a gradient norm (one pass over the gradients,
negligible next to the backward pass; reused when ``grad_clip`` is set); per check, one sync
plus a device-side copy of the weights and optimizer state (the snapshot). Under DDP the flag
is all-reduced at each check, so every rank rolls back together. A non-finite step may have
written NaN into the weights before it is noticed; the roll-back undoes that, and
checkpoints are written only after a passing check (and refuse non-finite tensors anyway).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor

from latentkit.training.distributed import DistInfo, all_reduce

__all__ = ["NanGuard"]


class NanGuard:
    """Device-side finiteness flag plus an in-memory snapshot to roll back to."""

    def __init__(self, device: torch.device, info: DistInfo) -> None:
        self.device = device
        self.info = info
        self._snapshot: dict[str, Any] | None = None
        self._reset_flag()

    def _reset_flag(self) -> None:
        self.ok = torch.ones((), dtype=torch.bool, device=self.device)
        self.good_steps = torch.zeros((), dtype=torch.int64, device=self.device)

    def observe(self, loss: Tensor, grad_norm: Tensor | None) -> None:
        """Fold one step's finiteness into the flag (no host sync)."""
        step_ok = torch.isfinite(loss.detach())
        if grad_norm is not None:
            step_ok = step_ok & torch.isfinite(grad_norm)
        self.ok &= step_ok
        self.good_steps += self.ok

    def check(self) -> int | None:
        """Sync once: ``None`` if every step since the last check was finite, else the
        number of good steps before the first failure (minimum over the ranks)."""
        flags = torch.stack([(~self.ok).to(torch.int64), -self.good_steps])  # (2,)
        bad, neg_good = all_reduce(flags, self.info, op="max").tolist()
        self._reset_flag()
        return int(-neg_good) if bad else None

    def snapshot(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                 scaler: Any, extra: dict[str, Any]) -> None:  # fmt: skip
        """Remember the current state (device-side copies)."""
        self._snapshot = {
            "model": {k: v.detach().clone() for k, v in model.state_dict().items()},
            "optimizer": copy.deepcopy(optimizer.state_dict()),
            "scaler": None if scaler is None else copy.deepcopy(scaler.state_dict()),
            "extra": {k: v.clone() if isinstance(v, Tensor) else v for k, v in extra.items()},
        }

    def restore(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                scaler: Any) -> dict[str, Any]:  # fmt: skip
        """Put the snapshot back; return its ``extra`` (step, metric sums, ...)."""
        assert self._snapshot is not None, "restore() before snapshot()"
        snap = self._snapshot
        model.load_state_dict(snap["model"])
        optimizer.load_state_dict(copy.deepcopy(snap["optimizer"]))
        if scaler is not None and snap["scaler"] is not None:
            scaler.load_state_dict(snap["scaler"])
        return {k: v.clone() if isinstance(v, Tensor) else v for k, v in snap["extra"].items()}
