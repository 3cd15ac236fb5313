"""Posterior-collapse diagnostics: KL per latent dimension and active units.

Active units (Burda et al. 2015, section 5.2): a latent dimension u is active when
``Cov_x(E_{q(u|x)}[u]) > 0.01``, i.e. its posterior mean varies across the data. Collapsed
dimensions have a posterior equal to the prior for every x, so their KL is ~0 and their
posterior mean is constant.
"""

from __future__ import annotations

import torch
from torch import Tensor

from latentkit.models.base import AbstractModel

__all__ = ["active_units", "kl_per_dimension", "posterior_means"]


@torch.inference_mode()
def posterior_means(
    model: AbstractModel, x: Tensor, *, y: Tensor | None = None, batch_size: int = 512
) -> Tensor:
    """``encode(x)`` in batches, shape ``(N, latent_dim)``, on the CPU."""
    was_training = model.training
    model.eval()
    try:
        out = []
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size].to(model.device)
            yb = None if y is None else y[start : start + batch_size].to(model.device)
            out.append(model.encode(xb, yb).float().cpu())
    finally:
        model.train(was_training)
    return torch.cat(out)


def active_units(
    model: AbstractModel, x: Tensor, *, threshold: float = 0.01, y: Tensor | None = None
) -> int:
    """Number of latent dimensions whose posterior mean has variance above ``threshold``."""
    means = posterior_means(model, x, y=y)
    return int((means.var(dim=0) > threshold).sum())


@torch.inference_mode()
def kl_per_dimension(
    model: AbstractModel, x: Tensor, *, y: Tensor | None = None, batch_size: int = 512
) -> Tensor:
    """Mean over the data of the analytic KL(q(z_d|x) || N(0, 1)) per dimension, shape (D,).

    Needs a Gaussian posterior (``posterior(x).kl_per_dim()``); the KL is taken against the
    standard normal whatever the model's prior, which is what collapse diagnosis needs.
    """
    if not hasattr(model, "posterior"):
        raise TypeError(f"{type(model).__name__} has no posterior; KL per dimension needs a VAE.")
    was_training = model.training
    model.eval()
    total, count = None, 0
    try:
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size].to(model.device)
            yb = None if y is None else y[start : start + batch_size].to(model.device)
            q = model.posterior(xb, yb)
            if not hasattr(q, "kl_per_dim"):
                raise TypeError(f"{type(model).__name__}'s posterior has no per-dimension KL.")
            part = q.kl_per_dim().float().sum(0).cpu()
            total = part if total is None else total + part
            count += len(xb)
    finally:
        model.train(was_training)
    return total / max(count, 1)
