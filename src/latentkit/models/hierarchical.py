"""A VAE with two stochastic layers, as used for the likelihood results of Burda et al. (2015,
"Importance weighted autoencoders", section 5): x -> z1 -> z2 in inference and
z2 -> z1 -> x in generation, all conditionals diagonal Gaussians except p(x | z1).

Defaults follow the paper's MNIST architecture: x <-> z1 through two tanh layers of 200 units
(z1 of 100 dims), z1 <-> z2 through two tanh layers of 100 units (z2 of 50 dims).
``encode`` returns the mean of q(z1 | x) and ``decode`` maps z1 to data space, so
``decode(encode(x))`` reconstructs as for every other model.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import torch
from torch import Tensor

from latentkit.config import Config, check_positive, check_shape
from latentkit.distributions import DiagonalGaussian, StandardNormalPrior, build_likelihood
from latentkit.models.base import (
    AbstractGenerativeModel,
    Capabilities,
    LossOutput,
    repeat_samples,
)
from latentkit.models.schedules import linear_warmup
from latentkit.nn import MLP, NetworkConfig, build_decoder, build_encoder

__all__ = ["HierarchicalVAE", "HierarchicalVAEConfig"]


@dataclasses.dataclass(frozen=True)
class HierarchicalVAEConfig(Config):
    input_shape: tuple[int, ...]  # one data point: (D,) or (C, H, W)
    latent_dim: int = 100  # z1, the layer next to the data
    top_latent_dim: int = 50  # z2, the top layer with the N(0, I) prior
    network: NetworkConfig = NetworkConfig(hidden=(200, 200), activation="tanh")  # x <-> z1
    top_hidden: tuple[int, ...] = (100, 100)  # z1 <-> z2 hidden widths
    likelihood: Literal["bernoulli", "gaussian", "continuous_bernoulli"] = "bernoulli"
    likelihood_scale: float = 1.0  # sigma of the gaussian likelihood
    beta: float = 1.0  # weight of the KL part of the bound
    warmup_steps: int = 0  # linear warm-up of beta
    objective: Literal["elbo", "iwae"] = "elbo"
    iwae_samples: int = 1  # k for the IWAE bound

    def __post_init__(self) -> None:
        name = type(self).__name__
        check_shape(name, "input_shape", self.input_shape)
        for field in ("latent_dim", "top_latent_dim", "iwae_samples", "likelihood_scale"):
            check_positive(name, field, getattr(self, field))
        check_positive(name, "beta", self.beta, allow_zero=True)
        check_positive(name, "warmup_steps", self.warmup_steps, allow_zero=True)


def _gaussian(h: Tensor) -> DiagonalGaussian:
    mean, log_var = h.chunk(2, dim=-1)
    return DiagonalGaussian(mean, log_var)


class HierarchicalVAE(AbstractGenerativeModel):
    """Two stochastic layers: q(z1|x) q(z2|z1) and p(z2) p(z1|z2) p(x|z1)."""

    model_type = "hierarchical_vae"
    config_class = HierarchicalVAEConfig
    capabilities = Capabilities(generative=True, likelihood_bound=True, gaussian_posterior=True)

    def __init__(self, config: HierarchicalVAEConfig) -> None:
        super().__init__(config)
        c = config
        act = c.network.activation
        self.encoder = build_encoder(c.input_shape, 2 * c.latent_dim, c.network)  # q(z1|x)
        self.encoder_top = MLP(c.latent_dim, c.top_hidden, 2 * c.top_latent_dim, activation=act)
        self.decoder_top = MLP(c.top_latent_dim, c.top_hidden, 2 * c.latent_dim, activation=act)
        self.decoder = build_decoder(c.latent_dim, c.input_shape, c.network)  # p(x|z1)
        self.likelihood = build_likelihood(c.likelihood, c.input_shape, scale=c.likelihood_scale)
        self.prior = StandardNormalPrior(c.top_latent_dim)  # p(z2)

    def posterior(self, x: Tensor, y: Tensor | None = None) -> DiagonalGaussian:
        """q(z1 | x)."""
        return _gaussian(self.encoder(x))

    def encode(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.posterior(x).mean  # (N, latent_dim)

    def decode(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.likelihood.mean(self.decoder(z))

    def sample(
        self,
        n: int,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
        y: Tensor | int | None = None,
    ) -> Tensor:
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}.")
        z2 = self.prior.sample(n, generator=generator, temperature=temperature).to(self.device)
        p_z1 = _gaussian(self.decoder_top(z2))
        noise = torch.randn(p_z1.mean.shape, generator=generator).to(self.device)
        z1 = p_z1.mean + temperature * p_z1.std * noise
        return self.decode(z1)

    def log_importance_weights(
        self,
        x: Tensor,
        k: int,
        *,
        y: Tensor | None = None,
        target: Tensor | None = None,
        generator: torch.Generator | None = None,
        kl_weight: float = 1.0,
    ) -> Tensor:
        """``log p(x, z1, z2) - log q(z1, z2 | x)`` for k samples: shape ``(k, N)``."""
        return self._log_weight_parts(x, k, target, generator, kl_weight)[0]

    def _log_weight_parts(
        self,
        x: Tensor,
        k: int,
        target: Tensor | None,
        generator: torch.Generator | None,
        kl_weight: float,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Log weights, ``log p(x|z1)`` and the KL part ``log q - log p(z)``, each ``(k, N)``."""
        target = x if target is None else target
        n = x.shape[0]
        q1 = self.posterior(x)
        z1 = q1.rsample(generator, sample_shape=(k,))  # (k, N, D1)
        flat_z1 = z1.reshape(k * n, -1)
        q2 = _gaussian(self.encoder_top(flat_z1))
        z2 = q2.rsample(generator)  # (k * N, D2)
        p1 = _gaussian(self.decoder_top(z2))
        log_px = self.likelihood.log_prob(self.decoder(flat_z1), repeat_samples(target, k)).view(
            k, n
        )
        log_q = q1.log_prob(z1) + q2.log_prob(z2).view(k, n)
        log_p = p1.log_prob(flat_z1).view(k, n) + self.prior.log_prob(z2).view(k, n)
        kl_part = log_q - log_p
        return log_px - kl_weight * kl_part, log_px, kl_part

    def loss(
        self,
        x: Tensor,
        *,
        y: Tensor | None = None,
        target: Tensor | None = None,
        step: int | None = None,
        generator: torch.Generator | None = None,
    ) -> LossOutput:
        c = self.config
        k = c.iwae_samples if c.objective == "iwae" else 1
        weight = linear_warmup(step, c.warmup_steps, final=c.beta)
        log_w, log_px, kl_part = self._log_weight_parts(x, k, target, generator, weight)
        bound = torch.logsumexp(log_w, dim=0) - math.log(k)  # (N,)
        return LossOutput(
            loss=-bound.mean(),
            reconstruction=-log_px.mean(0),
            kl=kl_part.mean(0),
            terms={"negative_bound": -bound},
        )
