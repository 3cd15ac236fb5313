"""Posterior-collapse diagnostics: KL per latent dimension and active units.

Active units (Burda et al. 2015, section 5.2): a latent dimension u is active when
``Cov_x(E_{q(u|x)}[u]) > 0.01``, i.e. its posterior mean varies across the data. Collapsed
dimensions have a posterior equal to the prior for every x, so their KL is ~0 and their
posterior mean is constant.
"""

from __future__ import annotations

import torch
from torch import Tensor

from latentkit.evaluation.evaluate import batched, batches, eval_mode
from latentkit.models.base import AbstractModel

__all__ = ["active_units", "kl_per_dimension", "posterior_means"]


def posterior_means(
    model: AbstractModel, x: Tensor, *, y: Tensor | None = None, batch_size: int = 512
) -> Tensor:
    """``encode(x)`` in batches, shape ``(N, latent_dim)``, float32 on the CPU."""
    return batched(model.encode, x, y, model=model, batch_size=batch_size).float()


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
    if not model.capabilities.gaussian_posterior:
        raise TypeError(
            f"{type(model).__name__} has no Gaussian posterior; KL per dimension needs a model "
            "of the VAE family with a diagonal Gaussian q(z|x) (vae, hierarchical_vae, ...)."
        )
    total, count = torch.zeros(model.latent_dim), 0
    with eval_mode(model):
        for xb, yb in batches(x, y, batch_size=batch_size, device=model.device):
            q = model.posterior(xb, yb)
            total += q.kl_per_dim().float().sum(0).cpu()  # type: ignore[attr-defined]
            count += len(xb)
    return total / max(count, 1)
