"""The diagonal Gaussian posterior q(z | x) of the VAE, with the reparameterization trick.

Kingma & Welling, "Auto-Encoding Variational Bayes" (ICLR 2014): ``z = mean + std * eps`` with
``eps ~ N(0, I)`` keeps sampling differentiable, and the KL divergence to N(0, I) is analytic:
``0.5 * sum(mean^2 + var - 1 - log_var)``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from latentkit.distributions._random import randn

if TYPE_CHECKING:  # pragma: no cover
    from latentkit.distributions.priors import Prior

__all__ = ["LOG_VAR_MAX", "LOG_VAR_MIN", "DiagonalGaussian"]

LOG_VAR_MIN = -30.0  # std >= exp(-15) ~ 3e-7: keeps 1 / var finite in float32
LOG_VAR_MAX = 20.0  # std <= exp(10) ~ 2.2e4: keeps exp(log_var) finite
_LOG_2PI = math.log(2 * math.pi)


class DiagonalGaussian:
    """N(mean, diag(exp(log_var))) over the last dimension, a batch over the others.

    Parameters
    ----------
    mean : Tensor of shape (N, D)
    log_var : Tensor of shape (N, D)
        Log-variance; clamped to ``[LOG_VAR_MIN, LOG_VAR_MAX] = [-30, 20]`` for numerical
        safety (the gradient is zero outside that range).

    Notes
    -----
    Not an ``nn.Module``: it holds tensors computed by an encoder, not parameters.
    """

    def __init__(self, mean: Tensor, log_var: Tensor) -> None:
        if mean.shape != log_var.shape:
            raise ValueError(
                f"mean and log_var must have the same shape, got {tuple(mean.shape)} "
                f"and {tuple(log_var.shape)}."
            )
        if mean.dim() < 1:
            raise ValueError("mean must have at least one dimension (the latent dimension).")
        self.mean = mean  # (N, D)
        self.log_var = log_var.clamp(LOG_VAR_MIN, LOG_VAR_MAX)  # (N, D)

    @property
    def var(self) -> Tensor:
        """Variance, shape (N, D)."""
        return self.log_var.exp()

    @property
    def std(self) -> Tensor:
        """Standard deviation, shape (N, D)."""
        return (0.5 * self.log_var).exp()

    @property
    def latent_dim(self) -> int:
        """Size D of the last dimension."""
        return self.mean.shape[-1]

    def __repr__(self) -> str:
        return f"DiagonalGaussian(shape={tuple(self.mean.shape)})"

    def rsample(
        self, generator: torch.Generator | None = None, sample_shape: tuple[int, ...] = ()
    ) -> Tensor:
        """Reparameterized samples ``mean + std * eps``, shape ``(*sample_shape, N, D)``."""
        shape = (*sample_shape, *self.mean.shape)
        eps = randn(shape, generator, self.mean.device, self.mean.dtype)  # (*S, N, D)
        return self.mean + self.std * eps

    def sample(
        self, generator: torch.Generator | None = None, sample_shape: tuple[int, ...] = ()
    ) -> Tensor:
        """Samples without gradient, shape ``(*sample_shape, N, D)``."""
        with torch.no_grad():
            return self.rsample(generator, sample_shape)

    def log_prob(self, z: Tensor) -> Tensor:
        """Log density of ``z`` of shape ``(..., N, D)``, summed over D: shape ``(..., N)``."""
        sq = (z - self.mean).square() * torch.exp(-self.log_var)  # (..., N, D)
        return -0.5 * (sq + self.log_var + _LOG_2PI).sum(-1)

    def kl_per_dim(self) -> Tensor:
        """Analytic KL(q || N(0, I)) per latent dimension, shape (N, D)."""
        return 0.5 * (self.mean.square() + self.var - 1.0 - self.log_var)

    def kl(self, prior: Prior | DiagonalGaussian | None = None) -> Tensor:
        """Analytic KL(q || prior), shape (N,).

        Parameters
        ----------
        prior : StandardNormalPrior, DiagonalGaussian or None
            ``None`` means N(0, I). A ``DiagonalGaussian`` must broadcast against this one.

        Raises
        ------
        TypeError
            For priors without a closed-form KL (mixtures, VampPrior): estimate it by Monte
            Carlo instead, ``z = q.rsample(g); q.log_prob(z) - prior.log_prob(z)``.
        """
        if prior is None or getattr(prior, "analytic_kl", False):
            dim = getattr(prior, "latent_dim", self.latent_dim)
            if dim != self.latent_dim:
                raise ValueError(f"prior has latent_dim={dim}, posterior has {self.latent_dim}.")
            return self.kl_per_dim().sum(-1)
        if isinstance(prior, DiagonalGaussian):
            ratio = (self.log_var - prior.log_var).exp()  # var_q / var_p, (N, D)
            sq = (self.mean - prior.mean).square() * torch.exp(-prior.log_var)
            return 0.5 * (ratio + sq - 1.0 - (self.log_var - prior.log_var)).sum(-1)
        raise TypeError(
            f"no analytic KL between DiagonalGaussian and {type(prior).__name__}; use a Monte "
            "Carlo estimate: z = q.rsample(generator); kl = q.log_prob(z) - prior.log_prob(z)."
        )

    def entropy(self) -> Tensor:
        """Differential entropy, shape (N,)."""
        return 0.5 * (self.log_var + _LOG_2PI + 1.0).sum(-1)

    def detach(self) -> DiagonalGaussian:
        """The same distribution with gradients cut."""
        return DiagonalGaussian(self.mean.detach(), self.log_var.detach())
