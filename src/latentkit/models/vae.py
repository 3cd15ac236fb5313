"""The variational autoencoder and its objectives.

- VAE with the reparameterization trick (Kingma and Welling 2014, "Auto-Encoding Variational
  Bayes"): loss = E_q[-log p(x|z)] + beta * KL(q(z|x) || p(z)), the KL analytic for the
  standard normal prior and a one-sample Monte Carlo estimate for the learned priors.
- beta-VAE (Higgins et al. 2017) is ``VAE(beta=...)``; linear KL warm-up is ``warmup_steps``.
- Capacity annealing (Burgess et al. 2018): loss = recon + gamma * |KL - C(step)|.
- Free bits (Kingma et al. 2016, "Improved variational inference with inverse autoregressive
  flow"): each latent dimension's batch-mean KL counts at least ``free_bits`` nats.
- IWAE (Burda et al. 2015, "Importance weighted autoencoders"): the k-sample bound
  log (1/k) sum_i p(x, z_i) / q(z_i | x), with ``objective="iwae"`` and ``iwae_samples=k``.
- beta-TCVAE (Chen et al. 2018, "Isolating sources of disentanglement in VAEs") is
  ``VAE(tc_weight=...)``: the KL splits into index-code MI + total correlation (TC) +
  dimension-wise KL, and loss = recon + beta * KL + (tc_weight - beta) * TC, so the TC weighs
  ``tc_weight`` and the two other terms ``beta`` (Chen et al.'s alpha = gamma = beta, 1 by
  default). TC is the minibatch-weighted-sampling estimate of
  :func:`latentkit.distributions.aggregate.total_correlation` over a dataset of
  ``tc_dataset_size`` points (None: the batch is the population), logged per sample as
  ``total_correlation``.

Subclasses condition on labels by overriding ``cond_dim`` and ``condition``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import torch
from torch import Tensor

from latentkit.config import Config, check_positive, check_shape
from latentkit.distributions import DiagonalGaussian, VampPrior, build_likelihood, build_prior
from latentkit.distributions.aggregate import total_correlation
from latentkit.errors import ConfigError
from latentkit.models.base import (
    AbstractGenerativeModel,
    Capabilities,
    LossOutput,
    repeat_samples,
)
from latentkit.models.schedules import capacity, linear_warmup
from latentkit.nn import NetworkConfig, build_decoder, build_encoder

__all__ = ["VAE", "VAEConfig"]

Likelihood = Literal[
    "bernoulli", "gaussian", "learned_gaussian", "optimal_gaussian", "continuous_bernoulli"
]


@dataclasses.dataclass(frozen=True)
class VAEConfig(Config):
    input_shape: tuple[int, ...]  # one data point: (D,) or (C, H, W)
    latent_dim: int = 16  # size of z
    network: NetworkConfig = NetworkConfig()  # encoder/decoder architecture
    likelihood: Likelihood = "bernoulli"  # p(x|z); bernoulli works on logits
    likelihood_scale: float = 1.0  # sigma of the fixed-scale gaussian
    per_dimension_scale: bool = False  # learned_gaussian: one sigma per data dimension
    prior: Literal["normal", "mog", "vamp"] = "normal"  # p(z)
    prior_components: int = 10  # mixture components (mog) or pseudo-inputs (vamp)
    beta: float = 1.0  # KL weight (beta-VAE when > 1)
    warmup_steps: int = 0  # linear KL warm-up from 0 to beta over this many steps
    capacity_max: float = 0.0  # capacity annealing target C_max in nats (0 disables it)
    capacity_steps: int = 0  # steps over which C rises from 0 to capacity_max
    capacity_gamma: float = 100.0  # weight of |KL - C| under capacity annealing
    free_bits: float = 0.0  # minimum nats per latent dimension (0 disables free bits)
    objective: Literal["elbo", "iwae"] = "elbo"  # training bound
    iwae_samples: int = 1  # k, the importance samples of the IWAE bound
    tc_weight: float | None = None  # beta-TCVAE: weight of the total correlation (None: off)
    tc_dataset_size: int | None = None  # N of the MWS estimate (None: the batch's size)

    def __post_init__(self) -> None:
        name = type(self).__name__
        check_shape(name, "input_shape", self.input_shape)
        check_positive(name, "latent_dim", self.latent_dim)
        check_positive(name, "likelihood_scale", self.likelihood_scale)
        check_positive(name, "prior_components", self.prior_components)
        check_positive(name, "beta", self.beta, allow_zero=True)
        for field in ("warmup_steps", "capacity_steps", "capacity_max", "free_bits"):
            check_positive(name, field, getattr(self, field), allow_zero=True)
        check_positive(name, "capacity_gamma", self.capacity_gamma)
        check_positive(name, "iwae_samples", self.iwae_samples)
        if self.capacity_max > 0 and self.free_bits > 0:
            raise ConfigError(f"{name}: use capacity_max or free_bits, not both.")
        if self.tc_dataset_size is not None:
            check_positive(name, "tc_dataset_size", self.tc_dataset_size)
        if self.tc_weight is not None:
            check_positive(name, "tc_weight", self.tc_weight, allow_zero=True)
            if self.objective == "iwae" or self.capacity_max > 0 or self.free_bits > 0:
                raise ConfigError(
                    f"{name}: tc_weight (beta-TCVAE) works with the ELBO objective and a "
                    "beta-weighted KL; unset objective='iwae', capacity_max or free_bits."
                )


class VAE(AbstractGenerativeModel):
    """A variational autoencoder with a Gaussian posterior q(z|x).

    Examples
    --------
    >>> vae = VAE(VAEConfig(input_shape=(1, 28, 28), latent_dim=8, beta=4.0))
    >>> vae.sample(3).shape
    torch.Size([3, 1, 28, 28])
    """

    model_type = "vae"
    config_class = VAEConfig
    capabilities = Capabilities(
        generative=True, likelihood_bound=True, gaussian_posterior=True, decoder_likelihood=True
    )

    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config)
        c = config
        self.encoder = build_encoder(
            c.input_shape, 2 * c.latent_dim, c.network, cond_dim=self.cond_dim
        )
        self.decoder = build_decoder(c.latent_dim + self.cond_dim, c.input_shape, c.network)
        self.likelihood = build_likelihood(
            c.likelihood,
            c.input_shape,
            scale=c.likelihood_scale,
            per_dimension=c.per_dimension_scale,
        )
        self.prior = build_prior(
            c.prior, c.latent_dim, c.input_shape, n_components=c.prior_components
        )
        if isinstance(self.prior, VampPrior):
            self.prior.set_posterior_fn(self.posterior)

    # -- conditioning hooks (ConditionalVAE overrides) ------------------------------------
    @property
    def cond_dim(self) -> int:
        """Width of the conditioning vector fed to encoder and decoder (0: unconditional)."""
        return 0

    def condition(self, y: Tensor | None, n: int, device: torch.device) -> Tensor | None:
        """The conditioning vector ``(n, cond_dim)`` for labels ``y``, or None."""
        return None

    # -- the contract --------------------------------------------------------------------
    def posterior(self, x: Tensor, y: Tensor | None = None) -> DiagonalGaussian:
        h = self.encoder(x, self.condition(y, x.shape[0], x.device))  # (N, 2 * latent_dim)
        mean, log_var = h.chunk(2, dim=-1)
        return DiagonalGaussian(mean, log_var)

    def encode(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.posterior(x, y).mean  # (N, latent_dim)

    def decoder_params(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """Parameters of p(x|z) (e.g. logits), shape ``(N, *input_shape)``."""
        cond = self.condition(y, z.shape[0], z.device)
        return self.decoder(z if cond is None else torch.cat([z, cond], dim=-1))

    def decode(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.likelihood.mean(self.decoder_params(z, y))

    def sample(
        self,
        n: int,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
        y: Tensor | int | None = None,
    ) -> Tensor:
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}.")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}.")
        z = self.prior.sample(n, generator=generator, temperature=temperature)  # (n, latent_dim)
        return self.decode(z.to(self.device), self._labels(y, n))

    def _labels(self, y: Tensor | int | None, n: int) -> Tensor | None:
        if y is None or isinstance(y, Tensor):
            return y
        return torch.full((n,), int(y), dtype=torch.long, device=self.device)

    # -- objectives ----------------------------------------------------------------------
    def kl_weight(self, step: int | None) -> float:
        """beta times the warm-up factor at ``step`` (``beta`` once training is over)."""
        return linear_warmup(step, self.config.warmup_steps, final=self.config.beta)

    def kl_divergence(self, q: DiagonalGaussian, z: Tensor) -> Tensor:
        """KL(q || prior) per sample: analytic, or the Monte Carlo estimate at ``z``."""
        if self.prior.analytic_kl:
            return q.kl()
        return q.log_prob(z) - self.prior.log_prob(z)

    def log_joint_terms(
        self, x: Tensor, z: Tensor, y: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """``log p(x|z)`` and ``log p(z)``, each ``(k, N)``, for ``z`` of shape ``(k, N, D)``."""
        k, n = z.shape[:2]
        y_rep = None if y is None else y.repeat(k)
        params = self.decoder_params(z.reshape(k * n, -1), y_rep)  # (k * N, *input_shape)
        target = repeat_samples(x, k)
        log_px = self.likelihood.log_prob(params, target).view(k, n)
        return log_px, self.prior.log_prob(z)

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
        """``log p(x, z_i) - log q(z_i | x)`` for k posterior samples: shape ``(k, N)``.

        ``logsumexp`` over the first axis minus ``log k`` is the IWAE bound; with k = 1 it is a
        one-sample ELBO estimate. ``kl_weight`` scales ``log p(z) - log q(z|x)`` (warm-up).
        """
        q = self.posterior(x, y)
        z = q.rsample(generator, sample_shape=(k,))  # (k, N, latent_dim)
        log_px, log_pz = self.log_joint_terms(x if target is None else target, z, y)
        return log_px + kl_weight * (log_pz - q.log_prob(z))

    def loss(
        self,
        x: Tensor,
        *,
        y: Tensor | None = None,
        target: Tensor | None = None,
        step: int | None = None,
        generator: torch.Generator | None = None,
    ) -> LossOutput:
        target = x if target is None else target
        if self.config.objective == "iwae":
            return self._iwae_loss(x, y, target, step, generator)
        q = self.posterior(x, y)
        z = q.rsample(generator)  # (N, latent_dim)
        reconstruction = -self.likelihood.log_prob(self.decoder_params(z, y), target)  # (N,)
        kl = self.kl_divergence(q, z)  # (N,)
        loss = reconstruction.mean() + self._kl_penalty(q, kl, step)
        terms = {}
        if self.config.tc_weight is not None:  # beta-TCVAE: the TC weighs tc_weight in all
            tc = total_correlation(z, q.mean, q.log_var, self.config.tc_dataset_size)  # (N,)
            warm = linear_warmup(step, self.config.warmup_steps, final=1.0)
            loss = loss + warm * (self.config.tc_weight - self.config.beta) * tc.mean()
            terms["total_correlation"] = tc.detach()
        return LossOutput(loss=loss, reconstruction=reconstruction, kl=kl, terms=terms)

    def _kl_penalty(self, q: DiagonalGaussian, kl: Tensor, step: int | None) -> Tensor:
        """The batch KL term added to the loss: beta-weighted, capacity or free bits."""
        c = self.config
        if c.capacity_max > 0:
            target = capacity(step, c.capacity_max, c.capacity_steps)
            return c.capacity_gamma * (kl.mean() - target).abs()
        if c.free_bits > 0:
            if self.prior.analytic_kl:  # per latent dimension, as in Kingma et al. (2016)
                per_dim = q.kl_per_dim().mean(0)  # (latent_dim,)
                kl_term = per_dim.clamp(min=c.free_bits).sum()
            else:  # learned priors have no per-dimension KL: floor the total instead
                kl_term = kl.mean().clamp(min=c.free_bits * c.latent_dim)
            return self.kl_weight(step) * kl_term
        return self.kl_weight(step) * kl.mean()

    def _iwae_loss(
        self,
        x: Tensor,
        y: Tensor | None,
        target: Tensor,
        step: int | None,
        generator: torch.Generator | None,
    ) -> LossOutput:
        k = self.config.iwae_samples
        q = self.posterior(x, y)
        z = q.rsample(generator, sample_shape=(k,))  # (k, N, latent_dim)
        log_px, log_pz = self.log_joint_terms(target, z, y)  # (k, N) each
        log_qz = q.log_prob(z)  # (k, N)
        log_w = log_px + self.kl_weight(step) * (log_pz - log_qz)
        bound = torch.logsumexp(log_w, dim=0) - math.log(k)  # (N,)
        kl = q.kl() if self.prior.analytic_kl else (log_qz - log_pz).mean(0)
        return LossOutput(
            loss=-bound.mean(),
            reconstruction=-log_px.mean(0),
            kl=kl,
            terms={"negative_iwae_bound": -bound},
        )
