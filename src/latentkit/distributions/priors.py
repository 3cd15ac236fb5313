"""Priors p(z) over the latent space: standard normal, a Gaussian mixture, the VampPrior.

- Standard normal: Kingma & Welling, "Auto-Encoding Variational Bayes" (ICLR 2014); the only
  prior with an analytic KL to the diagonal Gaussian posterior (``analytic_kl = True``).
- Mixture of Gaussians with learnable means, log-variances and weights (e.g. Dilokthanakul et
  al., "Deep Unsupervised Clustering with Gaussian Mixture VAEs", 2016).
- VampPrior: Tomczak & Welling, "VAE with a VampPrior" (AISTATS 2018),
  ``p(z) = 1/K sum_k q(z | u_k)`` with learnable pseudo-inputs ``u_k``.

For the last two the KL term is a Monte Carlo estimate ``q.log_prob(z) - prior.log_prob(z)``.
Sampling from a prior is for generation and runs without gradient.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable
from typing import ClassVar

import torch
from torch import Tensor, nn

from latentkit.distributions._random import randn, uniform
from latentkit.distributions.gaussian import LOG_VAR_MAX, LOG_VAR_MIN, DiagonalGaussian
from latentkit.errors import ConfigError

__all__ = ["MixtureOfGaussiansPrior", "Prior", "StandardNormalPrior", "VampPrior"]

_LOG_2PI = math.log(2 * math.pi)


def _check_int(owner: str, name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{owner}.{name} must be an integer >= 1, got {value!r}.")


def _check_temperature(temperature: float) -> None:
    if not temperature >= 0:
        raise ValueError(f"temperature must be >= 0, got {temperature!r}.")


def _pick(probs: Tensor, n: int, generator: torch.Generator | None) -> Tensor:
    """``n`` component indices drawn from ``probs`` (K,) by inverse CDF, shape (n,)."""
    u = uniform((n,), generator, probs.device, probs.dtype)  # (n,)
    idx = torch.searchsorted(probs.cumsum(0), u, right=True)
    return idx.clamp_(max=probs.shape[0] - 1)


class Prior(nn.Module, abc.ABC):
    """p(z) over ``latent_dim`` dimensions.

    Attributes
    ----------
    name : str
        Registry key (``PRIORS``).
    latent_dim : int
    analytic_kl : bool
        True when ``DiagonalGaussian.kl(prior)`` is available in closed form.
    """

    name: ClassVar[str]
    analytic_kl: ClassVar[bool] = False

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        _check_int(type(self).__name__, "latent_dim", latent_dim)
        self.latent_dim = latent_dim

    @classmethod
    def from_options(
        cls, latent_dim: int, input_shape: tuple[int, ...], *, n_components: int = 10
    ) -> Prior:
        """Build from the options of :func:`~latentkit.distributions.build_prior`."""
        return cls(latent_dim)

    @abc.abstractmethod
    def log_prob(self, z: Tensor) -> Tensor:
        """Log density of ``z`` of shape ``(..., D)``: shape ``(...)``."""

    @abc.abstractmethod
    def sample(
        self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0
    ) -> Tensor:
        """``n`` draws of shape ``(n, D)``; ``temperature`` scales the standard deviation."""

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}"


class StandardNormalPrior(Prior):
    """N(0, I): no parameters, analytic KL."""

    name = "normal"
    analytic_kl = True

    def __init__(self, latent_dim: int) -> None:
        super().__init__(latent_dim)
        # an empty buffer that follows .to(device, dtype), so sample() knows where to draw
        self.register_buffer("_anchor", torch.zeros(0), persistent=False)

    def log_prob(self, z: Tensor) -> Tensor:
        return -0.5 * (z.square() + _LOG_2PI).sum(-1)  # (...)

    @torch.no_grad()
    def sample(
        self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0
    ) -> Tensor:
        _check_temperature(temperature)
        eps = randn((n, self.latent_dim), generator, self._anchor.device, self._anchor.dtype)
        return temperature * eps  # (n, D)


class MixtureOfGaussiansPrior(Prior):
    """A learnable mixture of K diagonal Gaussians.

    Parameters
    ----------
    latent_dim : int
    n_components : int
        K. Means start at ``randn(K, D)`` (spread over the unit ball's scale), log-variances at
        0 and the weights uniform. Log-variances are clamped like the posterior's.
    """

    name = "mog"

    def __init__(self, latent_dim: int, n_components: int = 10) -> None:
        super().__init__(latent_dim)
        _check_int(type(self).__name__, "n_components", n_components)
        self.n_components = n_components
        self.means = nn.Parameter(torch.randn(n_components, latent_dim))  # (K, D)
        self.log_vars = nn.Parameter(torch.zeros(n_components, latent_dim))  # (K, D)
        self.logits = nn.Parameter(torch.zeros(n_components))  # (K,)

    @classmethod
    def from_options(
        cls, latent_dim: int, input_shape: tuple[int, ...], *, n_components: int = 10
    ) -> Prior:
        return cls(latent_dim, n_components)

    def components(self) -> DiagonalGaussian:
        """The K components as one batched ``DiagonalGaussian`` of shape (K, D)."""
        return DiagonalGaussian(self.means, self.log_vars.clamp(LOG_VAR_MIN, LOG_VAR_MAX))

    def log_prob(self, z: Tensor) -> Tensor:
        per_component = self.components().log_prob(z.unsqueeze(-2))  # (..., K)
        return torch.logsumexp(per_component + self.logits.log_softmax(0), dim=-1)  # (...)

    @torch.no_grad()
    def sample(
        self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0
    ) -> Tensor:
        _check_temperature(temperature)
        idx = _pick(self.logits.softmax(0), n, generator)  # (n,)
        q = self.components()
        eps = randn((n, self.latent_dim), generator, self.means.device, self.means.dtype)
        return q.mean[idx] + temperature * q.std[idx] * eps  # (n, D)

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}, n_components={self.n_components}"


class VampPrior(Prior):
    """Variational mixture of posteriors: ``p(z) = 1/K sum_k q(z | u_k)``.

    Parameters
    ----------
    latent_dim : int
    input_shape : tuple of int
        Shape of one data point; the pseudo-inputs are ``(K, *input_shape)``.
    n_components : int
        K pseudo-inputs.
    squash : bool, optional
        Pass the stored, unconstrained pseudo-inputs through a sigmoid so they stay in [0, 1]
        like image data. Defaults to True for image shapes ``(C, H, W)`` (latentkit images are
        in [0, 1]) and False for tables (standardised, unbounded).

    Notes
    -----
    The prior needs the model's encoder: call ``set_posterior_fn(fn)`` with
    ``fn(x: (K, *input_shape)) -> DiagonalGaussian`` before ``log_prob`` or ``sample``. The
    function is stored as a plain attribute, not a submodule, so the encoder's parameters are
    not duplicated in ``state_dict``.
    """

    name = "vamp"

    def __init__(
        self,
        latent_dim: int,
        input_shape: tuple[int, ...],
        n_components: int = 50,
        *,
        squash: bool | None = None,
    ) -> None:
        super().__init__(latent_dim)
        _check_int(type(self).__name__, "n_components", n_components)
        self.input_shape = tuple(input_shape)
        self.n_components = n_components
        self.squash = len(self.input_shape) == 3 if squash is None else squash
        # images: sigmoid(N(0, 0.5^2)) is grey-ish noise around 0.5; tables: N(0, 1)
        scale = 0.5 if self.squash else 1.0
        self.pseudo_raw = nn.Parameter(scale * torch.randn(n_components, *self.input_shape))
        object.__setattr__(self, "_posterior_fn", None)

    @classmethod
    def from_options(
        cls, latent_dim: int, input_shape: tuple[int, ...], *, n_components: int = 10
    ) -> Prior:
        return cls(latent_dim, input_shape, n_components)

    def set_posterior_fn(self, fn: Callable[[Tensor], DiagonalGaussian]) -> None:
        """Give the prior the encoder's posterior ``fn(x) -> DiagonalGaussian``."""
        if not callable(fn):
            raise TypeError(f"posterior fn must be callable, got {type(fn).__name__}.")
        object.__setattr__(self, "_posterior_fn", fn)

    @property
    def pseudo_inputs(self) -> Tensor:
        """The pseudo-inputs in data space, shape ``(K, *input_shape)``."""
        return torch.sigmoid(self.pseudo_raw) if self.squash else self.pseudo_raw

    def components(self) -> DiagonalGaussian:
        """``q(z | u_k)`` for every pseudo-input, a ``DiagonalGaussian`` of shape (K, D)."""
        fn = self.__dict__.get("_posterior_fn")
        if fn is None:
            raise RuntimeError(
                "VampPrior has no posterior: call prior.set_posterior_fn(model.posterior) "
                "(a function x -> DiagonalGaussian) after building the encoder."
            )
        q = fn(self.pseudo_inputs)
        if tuple(q.mean.shape) != (self.n_components, self.latent_dim):
            raise ValueError(
                f"posterior fn returned shape {tuple(q.mean.shape)}, expected "
                f"({self.n_components}, {self.latent_dim})."
            )
        return q

    def log_prob(self, z: Tensor) -> Tensor:
        per_component = self.components().log_prob(z.unsqueeze(-2))  # (..., K)
        return torch.logsumexp(per_component, dim=-1) - math.log(self.n_components)  # (...)

    @torch.no_grad()
    def sample(
        self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0
    ) -> Tensor:
        _check_temperature(temperature)
        q = self.components()
        probs = torch.full((self.n_components,), 1.0 / self.n_components, device=q.mean.device)
        idx = _pick(probs, n, generator)  # (n,)
        eps = randn((n, self.latent_dim), generator, q.mean.device, q.mean.dtype)
        return q.mean[idx] + temperature * q.std[idx] * eps  # (n, D)

    def extra_repr(self) -> str:
        return (
            f"latent_dim={self.latent_dim}, input_shape={self.input_shape}, "
            f"n_components={self.n_components}, squash={self.squash}"
        )
