"""The :class:`Posterior` protocol: what every q(z | x) offers its callers.

A model of the VAE family returns one from ``model.posterior(x)``. The protocol is structural
(``typing.Protocol``): :class:`~latentkit.distributions.gaussian.DiagonalGaussian` and the
discrete posterior of :mod:`latentkit.models.discrete` satisfy it without inheriting from it.
Whether the posterior is a diagonal Gaussian with per-dimension KL (codes on the N(0, I)
scale) is a declared capability of the model (``Capabilities.gaussian_posterior``), not
something callers probe.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor

__all__ = ["Posterior"]


@runtime_checkable
class Posterior(Protocol):
    """q(z | x) for a batch of N inputs, over codes of size D."""

    @property
    def mean(self) -> Tensor:
        """The deterministic code, shape ``(N, D)``."""

    def sample(
        self, generator: torch.Generator | None = None, sample_shape: tuple[int, ...] = ()
    ) -> Tensor:
        """Draws without gradient, shape ``(*sample_shape, N, D)``."""

    def log_prob(self, z: Tensor) -> Tensor:
        """``log q(z | x)`` of codes ``(..., N, D)``, shape ``(..., N)``."""

    def kl(self, prior: Any = None) -> Tensor:
        """KL(q || prior) per sample, shape ``(N,)`` (``None``: the model's fixed prior)."""
