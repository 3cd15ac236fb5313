"""A heterogeneous-likelihood VAE for mixed tables with missing values.

After HI-VAE (Nazabal et al. 2020, "Handling incomplete heterogeneous data using VAEs") and
MIWAE (Mattei & Frellsen 2019, "MIWAE: deep generative modelling and imputation of incomplete
data sets"): every column has its own likelihood (:class:`~latentkit.distributions.mixed.
MixedLikelihood`: Gaussian on a quantile-normalised number, Bernoulli for a binary column,
categorical for a category), and missing values are handled inside the model: rows are
``(N, C)`` codes with NaN where a value is missing, the encoder sees the values (0 where
missing, categories one-hot) together with the observed mask, and the ELBO sums the observed
entries only:

    ELBO(x) = E_q(z|x_obs)[ sum_j m_j log p(x_j | z) ] - beta * KL(q(z | x_obs) || N(0, I)).

The importance-weighted bound (``objective="iwae"``) is MIWAE's training objective; the same
weights give its imputations (:mod:`latentkit.apps.impute`). Codes come from
:class:`latentkit.data.schema.TableSchema`, which is stored with the run.

``decode`` gives codes: the Gaussian mean of a number, the most likely level of a binary or
categorical column; ``sample`` draws from the prior and then from p(x | z) (synthetic rows),
unlike the VAE whose ``sample`` returns decoded means.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
from torch import Tensor

from latentkit.config import Config, check_positive, check_shape
from latentkit.distributions import DiagonalGaussian, build_prior
from latentkit.distributions.mixed import MixedLikelihood, encoder_features
from latentkit.errors import ConfigError
from latentkit.models.base import AbstractGenerativeModel, Capabilities
from latentkit.models.vae import VAE
from latentkit.nn import NetworkConfig, build_decoder, build_encoder

__all__ = ["TabularVAE", "TabularVAEConfig"]

ColumnKind = Literal["numeric", "binary", "categorical"]


@dataclasses.dataclass(frozen=True)
class TabularVAEConfig(Config):
    input_shape: tuple[int, ...]  # (C,): one code per column
    latent_dim: int = 8  # size of z
    network: NetworkConfig = NetworkConfig(hidden=(128, 64))  # MLP encoder/decoder
    kinds: tuple[ColumnKind, ...] = ()  # likelihood per column (empty: every column numeric)
    levels: tuple[int, ...] = ()  # levels per column (1 for numbers, 2 for binaries)
    beta: float = 1.0  # KL weight
    warmup_steps: int = 0  # linear KL warm-up from 0 to beta over this many steps
    objective: Literal["elbo", "iwae"] = "elbo"  # training bound (iwae: MIWAE)
    iwae_samples: int = 1  # k, the importance samples of the IWAE bound
    tc_weight: float | None = None  # beta-TCVAE: weight of the total correlation (None: off)
    tc_dataset_size: int | None = None  # N of the minibatch-weighted estimate (None: the batch)

    def __post_init__(self) -> None:
        name = type(self).__name__
        check_shape(name, "input_shape", self.input_shape)
        if len(self.input_shape) != 1:
            raise ConfigError(
                f"{name}.input_shape must be (C,) for a table of C columns, got "
                f"{self.input_shape}; this model is for tables, not images."
            )
        check_positive(name, "latent_dim", self.latent_dim)
        check_positive(name, "beta", self.beta, allow_zero=True)
        check_positive(name, "warmup_steps", self.warmup_steps, allow_zero=True)
        check_positive(name, "iwae_samples", self.iwae_samples)
        if self.tc_dataset_size is not None:
            check_positive(name, "tc_dataset_size", self.tc_dataset_size)
        if self.tc_weight is not None:
            check_positive(name, "tc_weight", self.tc_weight, allow_zero=True)
            if self.objective != "elbo":
                raise ConfigError(
                    f"{name}: tc_weight (beta-TCVAE) works with the ELBO objective, got "
                    f"objective={self.objective!r}; unset one of them."
                )
        if self.network.kind != "mlp":
            raise ConfigError(f"{name}.network.kind must be 'mlp', got {self.network.kind!r}.")
        if self.kinds or self.levels:
            c = self.input_shape[0]
            if len(self.kinds) != c or len(self.levels) != c:
                raise ConfigError(
                    f"{name}: kinds and levels must have one entry per column ({c}), got "
                    f"{len(self.kinds)} and {len(self.levels)}."
                )
            for kind, n in zip(self.kinds, self.levels, strict=True):
                want_ok = n == 1 if kind == "numeric" else n == 2 if kind == "binary" else n >= 1
                if not want_ok:
                    raise ConfigError(
                        f"{name}: a {kind} column cannot have {n} levels (numeric 1, binary 2, "
                        "categorical at least 1)."
                    )

    @property
    def column_kinds(self) -> tuple[str, ...]:
        return self.kinds or ("numeric",) * self.input_shape[0]

    @property
    def column_levels(self) -> tuple[int, ...]:
        return self.levels or (1,) * self.input_shape[0]


class TabularVAE(VAE):
    """A VAE over the columns of a mixed table, with missing values (NaN) in its input.

    Examples
    --------
    >>> cfg = TabularVAEConfig(input_shape=(3,), kinds=("numeric", "binary", "categorical"),
    ...                        levels=(1, 2, 4), latent_dim=2)
    >>> TabularVAE(cfg).sample(5).shape
    torch.Size([5, 3])
    """

    model_type = "tabular_vae"
    config_class = TabularVAEConfig
    capabilities = Capabilities(
        generative=True,
        likelihood_bound=True,
        gaussian_posterior=True,
        missing_values=True,
        tabular=True,
    )

    def __init__(self, config: TabularVAEConfig) -> None:  # not VAE's: other encoder input
        AbstractGenerativeModel.__init__(self, config)
        c = config
        self.kinds, self.levels = c.column_kinds, c.column_levels
        self.likelihood = MixedLikelihood(self.kinds, self.levels)
        width = encoder_features(torch.zeros(1, len(self.kinds)), self.kinds, self.levels).shape[1]
        self.encoder = build_encoder((width,), 2 * c.latent_dim, c.network)
        self.decoder = build_decoder(c.latent_dim, (self.likelihood.n_params,), c.network)
        self.prior = build_prior("normal", c.latent_dim, c.input_shape)

    def posterior(self, x: Tensor, y: Tensor | None = None) -> DiagonalGaussian:
        """q(z | x_obs): the encoder sees the observed values and the mask."""
        h = self.encoder(encoder_features(x, self.kinds, self.levels))  # (N, 2 * latent_dim)
        mean, log_var = h.chunk(2, dim=-1)
        return DiagonalGaussian(mean, log_var)

    def sample(
        self,
        n: int,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
        y: Tensor | int | None = None,
    ) -> Tensor:
        """``n`` synthetic rows ``(n, C)``: z from the prior, then x from p(x | z)."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}.")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}.")
        z = self.prior.sample(n, generator=generator, temperature=temperature)
        return self.likelihood.sample(self.decoder_params(z.to(self.device)), generator)

    def _kl_penalty(self, q: DiagonalGaussian, kl: Tensor, step: int | None) -> Tensor:
        return self.kl_weight(step) * kl.mean()
