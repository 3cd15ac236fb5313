"""A VAE with discrete latents trained through a continuous relaxation.

Categorical latents use the Gumbel-softmax (Jang et al. 2017, "Categorical reparameterization
with Gumbel-softmax"); Bernoulli latents use the binary Concrete relaxation (Maddison et al.
2017, "The Concrete distribution"). The temperature decays as
``max(temperature_min, temperature_initial * exp(-temperature_rate * step))``; with
``hard=True`` the forward pass uses one-hot samples and the backward pass the relaxation
(straight-through). The prior is uniform, so the KL is analytic:
KL(q || U) = sum q log q + log K per categorical variable.

``encode`` returns the posterior probabilities, flattened to ``(N, groups * categories)``
(or ``(N, groups)`` for Bernoulli latents); ``decode`` accepts one-hot codes or probabilities.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from latentkit.config import Config, check_positive, check_shape
from latentkit.distributions import build_likelihood
from latentkit.errors import ConfigError
from latentkit.models.base import AbstractGenerativeModel, LossOutput, repeat_samples
from latentkit.models.schedules import exponential_temperature, linear_warmup
from latentkit.nn import NetworkConfig, build_decoder, build_encoder

__all__ = ["DiscretePosterior", "DiscreteVAE", "DiscreteVAEConfig"]


@dataclasses.dataclass(frozen=True)
class DiscreteVAEConfig(Config):
    input_shape: tuple[int, ...]  # one data point: (D,) or (C, H, W)
    latent_kind: Literal["categorical", "bernoulli"] = "categorical"
    groups: int = 20  # number of discrete latent variables
    categories: int = 10  # values per categorical variable (ignored for bernoulli)
    network: NetworkConfig = NetworkConfig()
    likelihood: Literal["bernoulli", "gaussian", "continuous_bernoulli"] = "bernoulli"
    likelihood_scale: float = 1.0
    beta: float = 1.0  # KL weight
    warmup_steps: int = 0  # linear KL warm-up
    temperature_initial: float = 1.0  # relaxation temperature at step 0
    temperature_min: float = 0.5  # floor of the annealed temperature
    temperature_rate: float = 3e-5  # exponential decay rate per step
    hard: bool = False  # straight-through one-hot samples in the forward pass

    def __post_init__(self) -> None:
        name = type(self).__name__
        check_shape(name, "input_shape", self.input_shape)
        check_positive(name, "groups", self.groups)
        if self.latent_kind == "categorical" and self.categories < 2:
            raise ConfigError(f"{name}.categories must be >= 2, got {self.categories}.")
        for field in ("temperature_initial", "temperature_min", "likelihood_scale"):
            check_positive(name, field, getattr(self, field))
        for field in ("temperature_rate", "beta", "warmup_steps"):
            check_positive(name, field, getattr(self, field), allow_zero=True)

    @property
    def latent_dim(self) -> int:
        """Width of the flattened code."""
        return self.groups * (self.categories if self.latent_kind == "categorical" else 1)


class DiscretePosterior:
    """q(z|x) over ``groups`` independent categorical (or Bernoulli) variables.

    ``logits`` has shape ``(N, groups, categories)`` (categorical) or ``(N, groups)``.
    """

    def __init__(self, logits: Tensor, kind: str) -> None:
        self.logits, self.kind = logits, kind

    @property
    def mean(self) -> Tensor:
        """Probabilities, flattened: ``(N, latent_dim)``."""
        if self.kind == "categorical":
            return self.logits.softmax(-1).flatten(1)
        return torch.sigmoid(self.logits)

    def _uniform(self, shape: torch.Size, generator: torch.Generator | None) -> Tensor:
        u = torch.rand(shape, generator=generator).to(self.logits.device, self.logits.dtype)
        return u.clamp(1e-6, 1 - 1e-6)

    @torch.no_grad()
    def sample(self, generator: torch.Generator | None = None, sample_shape: tuple = ()) -> Tensor:
        """Exact discrete samples as flattened one-hot (or 0/1) codes: ``(*S, N, latent_dim)``."""
        u = self._uniform(torch.Size(sample_shape) + self.logits.shape, generator)
        if self.kind == "categorical":
            index = (self.logits - torch.log(-torch.log(u))).argmax(-1)
            return F.one_hot(index, self.logits.shape[-1]).to(self.logits.dtype).flatten(-2)
        return (u < torch.sigmoid(self.logits)).to(self.logits.dtype)

    def rsample(self, temperature: float, hard: bool, generator: torch.Generator | None) -> Tensor:
        """A relaxed, differentiable sample ``(N, latent_dim)``."""
        u = self._uniform(self.logits.shape, generator)
        if self.kind == "categorical":
            soft = ((self.logits - torch.log(-torch.log(u))) / temperature).softmax(-1)
            if hard:
                one_hot = F.one_hot(soft.argmax(-1), soft.shape[-1]).to(soft.dtype)
                soft = one_hot + soft - soft.detach()
            return soft.flatten(1)
        soft = torch.sigmoid((self.logits + torch.log(u) - torch.log1p(-u)) / temperature)
        if hard:
            soft = (soft > 0.5).to(soft.dtype) + soft - soft.detach()
        return soft

    def log_prob(self, z: Tensor) -> Tensor:
        """Log-probability of discrete codes ``(..., N, latent_dim)``: shape ``(..., N)``."""
        if self.kind == "categorical":
            log_q = self.logits.log_softmax(-1).flatten(1)  # (N, G * K)
            return (z * log_q).sum(-1)
        return -F.binary_cross_entropy_with_logits(
            self.logits.expand_as(z), z, reduction="none"
        ).sum(-1)

    def kl(self, prior: object = None) -> Tensor:
        """Analytic KL to the uniform prior, per sample ``(N,)``."""
        if self.kind == "categorical":
            log_q = self.logits.log_softmax(-1)
            k = self.logits.shape[-1]
            return (log_q.exp() * (log_q + math.log(k))).sum((-1, -2))
        q = torch.sigmoid(self.logits)
        log_q, log_1mq = F.logsigmoid(self.logits), F.logsigmoid(-self.logits)
        return (q * log_q + (1 - q) * log_1mq + math.log(2)).sum(-1)


class DiscreteVAE(AbstractGenerativeModel):
    """A VAE with categorical or Bernoulli latents (Gumbel-softmax / Concrete relaxation)."""

    model_type = "discrete_vae"
    config_class = DiscreteVAEConfig

    def __init__(self, config: DiscreteVAEConfig) -> None:
        super().__init__(config)
        c = config
        self.encoder = build_encoder(c.input_shape, c.latent_dim, c.network)
        self.decoder = build_decoder(c.latent_dim, c.input_shape, c.network)
        self.likelihood = build_likelihood(c.likelihood, c.input_shape, scale=c.likelihood_scale)

    @property
    def code_range(self) -> tuple[float, float] | None:
        return (0.0, 1.0)  # codes are probabilities (one-hot or 0/1 when sampled)

    def posterior(self, x: Tensor, y: Tensor | None = None) -> DiscretePosterior:
        logits = self.encoder(x)  # (N, latent_dim)
        if self.config.latent_kind == "categorical":
            logits = logits.view(-1, self.config.groups, self.config.categories)
        return DiscretePosterior(logits, self.config.latent_kind)

    def encode(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.posterior(x).mean  # probabilities, (N, latent_dim)

    def decode(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.likelihood.mean(self.decoder(z))

    def temperature(self, step: int | None) -> float:
        c = self.config
        return exponential_temperature(
            step, c.temperature_initial, c.temperature_min, c.temperature_rate
        )

    def log_prior(self, z: Tensor) -> Tensor:
        """Log-probability of codes under the uniform prior, shape ``z.shape[:-1]``."""
        c = self.config
        per_variable = math.log(c.categories) if c.latent_kind == "categorical" else math.log(2)
        return z.new_full(z.shape[:-1], -c.groups * per_variable)

    def sample(
        self,
        n: int,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
        y: Tensor | int | None = None,
    ) -> Tensor:
        """Decode codes drawn from the uniform prior (``temperature`` has no effect here)."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}.")
        c = self.config
        shape = (n, c.groups, c.categories) if c.latent_kind == "categorical" else (n, c.groups)
        prior = DiscretePosterior(torch.zeros(shape, device=self.device), c.latent_kind)
        return self.decode(prior.sample(generator))

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
        """``log p(x, z) - log q(z | x)`` with k exact discrete samples: shape ``(k, N)``."""
        target = x if target is None else target
        q = self.posterior(x)
        z = q.sample(generator, sample_shape=(k,))  # (k, N, latent_dim)
        n = x.shape[0]
        params = self.decoder(z.reshape(k * n, -1))
        rep = repeat_samples(target, k)
        log_px = self.likelihood.log_prob(params, rep).view(k, n)
        return log_px + kl_weight * (self.log_prior(z) - q.log_prob(z))

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
        target = x if target is None else target
        q = self.posterior(x)
        z = q.rsample(self.temperature(step), c.hard, generator)  # (N, latent_dim)
        reconstruction = -self.likelihood.log_prob(self.decoder(z), target)  # (N,)
        kl = q.kl()  # (N,)
        weight = linear_warmup(step, c.warmup_steps, final=c.beta)
        return LossOutput(
            loss=(reconstruction + weight * kl).mean(), reconstruction=reconstruction, kl=kl
        )
