"""Likelihoods p(x | z): how a decoder's raw output scores, averages and samples data.

The decoder returns ``params`` shaped like the data, ``(N, *shape)``. Every ``log_prob`` is
summed over all non-batch dimensions, giving one value per sample ``(N,)``.

- Bernoulli on logits (binary or binarised images), fused and stable.
- Gaussian with a fixed scale, a learned scale (global or per dimension), or the batch-optimal
  scale of Rybkin et al., "Simple and Effective VAE Training with Calibrated Decoders"
  (ICML 2021, the sigma-VAE).
- Continuous Bernoulli on logits: Loaiza-Ganem & Cunningham, "The continuous Bernoulli: fixing
  a pervasive error in variational autoencoders" (NeurIPS 2019), for data in [0, 1].
"""

from __future__ import annotations

import abc
import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from latentkit.distributions._random import randn, uniform
from latentkit.errors import ConfigError

__all__ = [
    "BernoulliLikelihood",
    "ContinuousBernoulliLikelihood",
    "GaussianLikelihood",
    "LearnedScaleGaussianLikelihood",
    "Likelihood",
    "OptimalSigmaGaussianLikelihood",
]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _check_shapes(params: Tensor, x: Tensor) -> None:
    if params.shape != x.shape:
        raise ValueError(
            f"decoder output and data must have the same shape, got {tuple(params.shape)} "
            f"and {tuple(x.shape)}."
        )


def _sum(t: Tensor) -> Tensor:
    return t.flatten(1).sum(1)  # (N, ...) -> (N,)


def _gaussian_log_prob(mean: Tensor, log_scale: Tensor, x: Tensor) -> Tensor:
    z = (x - mean) * torch.exp(-log_scale)  # (N, *shape)
    return _sum(-0.5 * z.square() - log_scale - _HALF_LOG_2PI)  # (N,)


class Likelihood(nn.Module, abc.ABC):
    """p(x | params) with ``params`` the decoder output of shape ``(N, *shape)``."""

    name: ClassVar[str]
    #: ``(low, high)``: the data values this likelihood scores (``None``: any real value).
    #: Read by ``AbstractModel.data_range`` and the trainer's data checks.
    support: ClassVar[tuple[float, float] | None] = None

    @classmethod
    def from_options(
        cls, input_shape: tuple[int, ...], *, scale: float = 1.0, per_dimension: bool = False
    ) -> Likelihood:
        """Build from the options of :func:`~latentkit.distributions.build_likelihood`."""
        return cls()

    @abc.abstractmethod
    def log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        """``log p(x | params)`` summed over non-batch dims: shape (N,)."""

    @abc.abstractmethod
    def mean(self, params: Tensor) -> Tensor:
        """The data-space mean ``E[x | params]``, shape ``(N, *shape)``."""

    @abc.abstractmethod
    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """One draw of ``x``, shape ``(N, *shape)``, without gradient."""


class BernoulliLikelihood(Likelihood):
    """Independent Bernoulli per element; ``params`` are logits."""

    name = "bernoulli"
    support = (0.0, 1.0)

    def log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        _check_shapes(params, x)
        bce = F.binary_cross_entropy_with_logits(params, x, reduction="none")  # (N, *shape)
        return -_sum(bce)

    def mean(self, params: Tensor) -> Tensor:
        return torch.sigmoid(params)

    @torch.no_grad()
    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        u = uniform(params.shape, generator, params.device, params.dtype)
        return (u < torch.sigmoid(params)).to(params.dtype)


class GaussianLikelihood(Likelihood):
    """N(x; params, scale^2) per element with a fixed ``scale`` > 0; ``params`` are means."""

    name = "gaussian"

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale > 0:
            raise ConfigError(f"GaussianLikelihood.scale must be a number > 0, got {scale!r}.")
        self.scale = float(scale)

    @classmethod
    def from_options(
        cls, input_shape: tuple[int, ...], *, scale: float = 1.0, per_dimension: bool = False
    ) -> Likelihood:
        return cls(scale)

    def log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        _check_shapes(params, x)
        log_scale = torch.tensor(math.log(self.scale), device=params.device, dtype=params.dtype)
        return _gaussian_log_prob(params, log_scale, x)

    def mean(self, params: Tensor) -> Tensor:
        return params

    @torch.no_grad()
    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        return params + self.scale * randn(params.shape, generator, params.device, params.dtype)

    def extra_repr(self) -> str:
        return f"scale={self.scale}"


class LearnedScaleGaussianLikelihood(Likelihood):
    """Gaussian with a learned log-scale, global or one per data dimension.

    Parameters
    ----------
    shape : tuple of int, optional
        ``None`` learns one global scale; the data shape learns one per element.
    min_log_scale, max_log_scale : float
        Clamp on the log-scale, ``[-6, 4]`` by default (scale in about [0.0025, 55]): a scale
        collapsing to 0 makes the likelihood unbounded. No gradient flows beyond the clamp.
    """

    name = "learned_gaussian"

    def __init__(
        self,
        shape: tuple[int, ...] | None = None,
        *,
        min_log_scale: float = -6.0,
        max_log_scale: float = 4.0,
    ) -> None:
        super().__init__()
        if not min_log_scale < max_log_scale:
            raise ConfigError(
                f"LearnedScaleGaussianLikelihood: min_log_scale ({min_log_scale}) must be "
                f"< max_log_scale ({max_log_scale})."
            )
        self.shape = None if shape is None else tuple(shape)
        self.min_log_scale, self.max_log_scale = min_log_scale, max_log_scale
        self.raw_log_scale = nn.Parameter(torch.zeros(() if shape is None else self.shape))

    @classmethod
    def from_options(
        cls, input_shape: tuple[int, ...], *, scale: float = 1.0, per_dimension: bool = False
    ) -> Likelihood:
        return cls(tuple(input_shape) if per_dimension else None)

    @property
    def log_scale(self) -> Tensor:
        """The clamped log-scale: shape () or the data shape."""
        return self.raw_log_scale.clamp(self.min_log_scale, self.max_log_scale)

    def log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        _check_shapes(params, x)
        return _gaussian_log_prob(params, self.log_scale, x)

    def mean(self, params: Tensor) -> Tensor:
        return params

    @torch.no_grad()
    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        eps = randn(params.shape, generator, params.device, params.dtype)
        return params + self.log_scale.exp() * eps

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


class OptimalSigmaGaussianLikelihood(Likelihood):
    """Gaussian whose global scale is the batch-optimal one: ``sigma^2 = MSE`` (sigma-VAE).

    In training mode ``log_prob`` sets ``sigma = sqrt(mean((x - params)^2))`` over the whole
    batch (detached, floored at ``exp(min_log_sigma)``) and folds it into the running buffer
    ``log_sigma`` (exponential moving average with ``momentum``; the first batch is copied).
    In eval mode it uses the stored ``log_sigma``, so per-sample scores (evaluation, anomaly
    scores) do not depend on the other samples in the batch, as with batch norm.
    """

    name = "optimal_gaussian"

    def __init__(self, min_log_sigma: float = -6.0, *, momentum: float = 0.1) -> None:
        super().__init__()
        if not 0.0 < momentum <= 1.0:
            raise ConfigError(
                f"OptimalSigmaGaussianLikelihood.momentum must be in (0, 1], got {momentum!r}."
            )
        self.min_log_sigma = float(min_log_sigma)
        self.momentum = float(momentum)
        self.register_buffer("log_sigma", torch.zeros(()))
        self.register_buffer("n_updates", torch.zeros((), dtype=torch.long))

    @staticmethod
    def optimal_log_sigma(params: Tensor, x: Tensor, min_log_sigma: float = -6.0) -> Tensor:
        """``log sqrt(MSE)`` over the batch, detached and floored: shape ()."""
        mse = (x - params).detach().square().mean()
        return (0.5 * mse.clamp_min(1e-30).log()).clamp_min(min_log_sigma)

    def log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        _check_shapes(params, x)
        if self.training:
            log_sigma = self.optimal_log_sigma(params, x, self.min_log_sigma)
            with torch.no_grad():
                m = 1.0 if int(self.n_updates) == 0 else self.momentum
                self.log_sigma.lerp_(log_sigma.to(self.log_sigma.dtype), m)
                self.n_updates += 1
        else:
            log_sigma = self.log_sigma
        return _gaussian_log_prob(params, log_sigma.to(params.dtype), x)

    def mean(self, params: Tensor) -> Tensor:
        return params

    @torch.no_grad()
    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        eps = randn(params.shape, generator, params.device, params.dtype)
        return params + self.log_sigma.exp() * eps

    def extra_repr(self) -> str:
        return f"min_log_sigma={self.min_log_sigma}, momentum={self.momentum}"


# |logit| below which the series replace the closed forms; truncation error there < 1e-12
_CB_TAYLOR_LOG_C = 0.1  # the closed form is 0/0 at 0 and its gradient cancels near 0
_CB_TAYLOR_MEAN = 0.5  # coth(a) - 1/a cancels near 0


class ContinuousBernoulliLikelihood(Likelihood):
    """Continuous Bernoulli per element on [0, 1]; ``params`` are logits ``eta``.

    With ``lambda = sigmoid(eta)`` the density is ``C(lambda) lambda^x (1 - lambda)^(1 - x)``.
    In logits the normaliser is ``C = eta / tanh(eta / 2)`` (``C -> 2`` at ``eta = 0``) and the
    mean is ``1/2 + L(eta / 2) / 2`` with ``L(a) = coth(a) - 1/a`` the Langevin function. Both
    use Taylor series for small ``|eta|`` (below 0.1 and 0.5), where the closed forms divide 0 by
    0 or cancel (lambda near 1/2), and stay finite for large ``|eta|`` (``C -> |eta|``, mean
    -> 0 or 1).
    """

    name = "continuous_bernoulli"
    support = (0.0, 1.0)

    @staticmethod
    def log_normalizer(params: Tensor) -> Tensor:
        """``log C(sigmoid(eta))`` elementwise."""
        small = params.abs() < _CB_TAYLOR_LOG_C
        eta = torch.where(small, torch.ones_like(params), params)  # keeps both branches finite
        exact = torch.log(eta / torch.tanh(0.5 * eta))
        e2 = params.square()  # log(eta / tanh(eta/2)) = log 2 + e2/12 - 7 e2^2/1440 + ...
        series = math.log(2.0) + e2 * (1 / 12 - e2 * (7 / 1440 - e2 * 31 / 90720))
        return torch.where(small, series, exact)

    def log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        _check_shapes(params, x)
        bce = F.binary_cross_entropy_with_logits(params, x, reduction="none")
        return _sum(self.log_normalizer(params) - bce)

    def mean(self, params: Tensor) -> Tensor:
        small = params.abs() < _CB_TAYLOR_MEAN
        a = 0.5 * torch.where(small, torch.ones_like(params), params)
        exact = 1.0 / torch.tanh(a) - 1.0 / a  # Langevin L(a)
        b = 0.5 * params  # L(b) = b/3 - b^3/45 + 2 b^5/945 - b^7/4725
        b2 = b.square()
        series = b * (1 / 3 - b2 * (1 / 45 - b2 * (2 / 945 - b2 / 4725)))
        return 0.5 + 0.5 * torch.where(small, series, exact)

    @torch.no_grad()
    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        u = uniform(params.shape, generator, params.device, params.dtype)
        # inverse CDF for eta < 0: x = log1p(u * expm1(eta)) / eta; CB(eta) mirrors CB(-eta)
        neg = -params.abs()
        small = neg > -1e-3
        safe = torch.where(small, -torch.ones_like(neg), neg)
        y = torch.where(
            small, u + 0.5 * u * (1 - u) * neg, torch.log1p(u * torch.expm1(safe)) / safe
        )
        return torch.where(params > 0, 1.0 - y, y).clamp_(0.0, 1.0)
