"""The NaN guard: detect non-finite steps without a host sync per step, and roll back.

Reading a loss with ``.item()`` after every step would stall the GPU pipeline once per step
(the host waits for the device). Instead, every step folds ``isfinite(loss)`` into a boolean
tensor on the device and counts the steps that were fine before the first failure (three
tiny kernels, no sync). Every ``nan_check_every`` steps and at the end of each epoch the
trainer reads that flag once, together with the finiteness of every parameter (one pass over
the weights per check, one sync). A non-finite *gradient* with a finite loss is caught through
the parameters: the optimizer step writes it into the weights (Adam and SGD propagate NaN and
inf), so no per-step gradient norm is needed (the norm is computed only for ``grad_clip``).

If a check fails, the model, the optimizer (and GradScaler) state and the epoch's metrics are
restored from the in-memory snapshot taken at the previous passing check, the learning rate is
multiplied by ``nan_lr_factor``, and training continues with the next batch (the batches of
the failed window are skipped for this epoch). After ``max_nan_retries`` roll-backs the trainer
raises :class:`~latentkit.errors.TrainingError` naming the epoch and the first failing step
(the first step whose loss was not finite; for a gradient-only failure, the step after it).

Cost per check: one sync plus a device-side copy of the weights and optimizer state (the
snapshot), i.e. about three times the model size every ``nan_check_every`` steps. Under DDP
the flags are all-reduced at each check, so every rank rolls back together. Checkpoints are
written only after a passing check (and refuse non-finite tensors anyway).
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

    def observe(self, loss: Tensor) -> None:
        """Fold one step's finiteness into the flag (no host sync)."""
        self.ok &= torch.isfinite(loss.detach())
        self.good_steps += self.ok

    def check(self, params: list[Tensor]) -> int | None:
        """Sync once: ``None`` if every loss since the last check and every parameter is
        finite, else the number of good steps before the first failure (min over ranks)."""
        norm = torch.nn.utils.get_total_norm([p.detach() for p in params]) if params else None
        weights_ok = self.ok if norm is None else torch.isfinite(norm)
        bad = ~(self.ok & weights_ok)
        flags = torch.stack([bad.to(torch.int64), -self.good_steps])  # (2,)
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
