"""Learning-rate schedules as pure functions of the training position.

- cosine annealing (Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm
  Restarts", ICLR 2017), without restarts, decayed per step to ``min_lr``;
- step decay: multiply by ``gamma`` every ``step_size`` epochs;
- reduce-on-plateau: multiply by ``gamma`` after ``plateau_patience`` epochs without an
  improvement of the monitored loss. Its only state is a small JSON-able :class:`PlateauState`,
  updated by the pure function :func:`plateau_update` and stored in checkpoints.

The trainer sets ``lr = config.lr * schedule_factor(...) * plateau.factor * nan_scale`` before
each step, so resuming needs nothing but the step, the epoch and these few numbers (no
``torch.optim.lr_scheduler`` object to pickle).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from latentkit.training.config import TrainConfig

__all__ = ["PlateauState", "plateau_update", "schedule_factor"]


def schedule_factor(config: TrainConfig, epoch: int, step: int, total_steps: int) -> float:
    """Multiplier of ``config.lr`` from the epoch-wise or step-wise schedule.

    Parameters
    ----------
    config : TrainConfig
        Gives ``scheduler``, ``step_size``, ``gamma``, ``lr`` and ``min_lr``.
    epoch : int
        Zero-based epoch being trained.
    step : int
        Global optimisation step about to be taken (0 for the first).
    total_steps : int
        Steps in the whole run (``epochs * steps_per_epoch``), for ``cosine``.

    Returns
    -------
    float
        The factor; ``plateau`` (stateful) and ``none`` give 1.0 here.
    """
    if config.scheduler == "cosine":
        t = min(max(step / max(total_steps, 1), 0.0), 1.0)
        floor = config.min_lr / config.lr
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * t))
    if config.scheduler == "step":
        return config.gamma ** (epoch // config.step_size)
    return 1.0


@dataclasses.dataclass(frozen=True)
class PlateauState:
    """State of reduce-on-plateau: the best loss seen, epochs since, and the current factor."""

    best: float | None = None
    bad_epochs: int = 0
    factor: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON values."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlateauState:
        """Inverse of :meth:`to_dict`."""
        return cls(data["best"], int(data["bad_epochs"]), float(data["factor"]))


def plateau_update(
    state: PlateauState, monitored: float | None, config: TrainConfig
) -> PlateauState:
    """The plateau state after an epoch whose monitored loss was ``monitored``.

    A ``None`` or non-improving value counts as a bad epoch; after ``plateau_patience`` bad
    epochs the factor is multiplied by ``gamma`` and the count restarts.
    """
    if config.scheduler != "plateau":
        return state
    if monitored is not None and (state.best is None or monitored < state.best):
        return PlateauState(monitored, 0, state.factor)
    bad = state.bad_epochs + 1
    if bad >= config.plateau_patience:
        return PlateauState(state.best, 0, state.factor * config.gamma)
    return PlateauState(state.best, bad, state.factor)
