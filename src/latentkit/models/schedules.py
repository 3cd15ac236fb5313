"""Schedules for the KL weight and related annealing, as pure functions of the step.

- Linear KL warm-up (Bowman et al. 2016; Sonderby et al. 2016): the KL weight rises from 0 to
  ``beta`` over ``warmup_steps`` optimisation steps.
- Cyclical annealing (Fu et al. 2019): the warm-up repeats every ``period`` steps.
- Capacity annealing (Burgess et al. 2018, "Understanding disentangling in beta-VAE"): the
  target KL ``C`` grows linearly from 0 to ``c_max`` nats over ``steps``.
- Temperature annealing for Gumbel-softmax relaxations (Jang et al. 2017): exponential decay
  towards a floor.

``step=None`` means "training is over": every schedule returns its final value, so losses
evaluated outside training use the full objective.
"""

from __future__ import annotations

import math

__all__ = ["capacity", "cyclical_warmup", "exponential_temperature", "linear_warmup"]


def linear_warmup(step: int | None, warmup_steps: int, final: float = 1.0) -> float:
    """Weight rising linearly from 0 at step 0 to ``final`` at ``warmup_steps``."""
    if step is None or warmup_steps <= 0 or step >= warmup_steps:
        return final
    return final * max(step, 0) / warmup_steps


def cyclical_warmup(step: int | None, period: int, ratio: float = 0.5, final: float = 1.0) -> float:
    """Cyclical annealing: within each ``period``, rise over ``ratio * period`` steps, then hold."""
    if step is None or period <= 0:
        return final
    position = (step % period) / period
    return final * min(1.0, position / ratio) if ratio > 0 else final


def capacity(step: int | None, c_max: float, steps: int) -> float:
    """Target KL capacity (nats) growing linearly from 0 to ``c_max`` over ``steps``."""
    return linear_warmup(step, steps, final=c_max)


def exponential_temperature(step: int | None, initial: float, minimum: float, rate: float) -> float:
    """``max(minimum, initial * exp(-rate * step))``; ``minimum`` once training is over."""
    if step is None:
        return minimum
    return max(minimum, initial * math.exp(-rate * max(step, 0)))
