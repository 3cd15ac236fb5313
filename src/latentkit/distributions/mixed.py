"""A per-column likelihood mix for tables with numbers, binaries, categories and gaps.

As in HI-VAE (Nazabal et al. 2020, "Handling incomplete heterogeneous data using VAEs"), each
column has its own likelihood: a Gaussian with its own mean and log-scale for a (normalised)
number, a Bernoulli on a logit for a binary column and a categorical on L logits for a column
of L levels. Data are ``(N, C)`` codes (number scores, 0/1, level indices) with NaN where a
value is missing; ``log_prob`` sums the observed entries only, so a missing value contributes
nothing to the ELBO (Mattei & Frellsen 2019, MIWAE; Nazabal et al. 2020).

The decoder output ``params`` is ``(N, P)`` with ``P = 2 * numbers + binaries + sum(levels)``,
laid out column by column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from latentkit.distributions._random import randn, uniform
from latentkit.distributions.likelihoods import Likelihood

__all__ = ["LOG_SCALE_RANGE", "MixedLikelihood", "encoder_features"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
#: the Gaussian log-scale of a number column is clamped to this range (scores are ~N(0, 1))
LOG_SCALE_RANGE = (-4.0, 2.0)


def _width(kind: str, levels: int) -> int:
    return 2 if kind == "numeric" else 1 if kind == "binary" else levels


def encoder_features(x: Tensor, kinds: Sequence[str], levels: Sequence[int]) -> Tensor:
    """What the encoder sees: values with 0 where missing, one-hot levels, and the mask.

    Parameters
    ----------
    x : Tensor of shape (N, C)
        Codes with NaN where missing.

    Returns
    -------
    Tensor of shape (N, sum(widths) + C)
        Numbers (0 where missing), binaries as -1/+1 (0 where missing), categories one-hot
        (all 0 where missing), then the observed mask (1 observed, 0 missing).
    """
    observed = ~torch.isnan(x)  # (N, C)
    filled = torch.where(observed, x, torch.zeros_like(x))
    parts = []
    for j, (kind, n) in enumerate(zip(kinds, levels, strict=True)):
        column = filled[:, j]
        if kind == "numeric":
            parts.append(column[:, None])
        elif kind == "binary":
            parts.append(((2 * column - 1) * observed[:, j])[:, None])
        else:
            one_hot = F.one_hot(column.long().clamp(0, n - 1), n).to(x.dtype)  # (N, L)
            parts.append(one_hot * observed[:, j, None])
    parts.append(observed.to(x.dtype))
    return torch.cat(parts, dim=1)


class MixedLikelihood(Likelihood):
    """One likelihood per column (see the module docstring).

    Parameters
    ----------
    kinds : sequence of {"numeric", "binary", "categorical"}
    levels : sequence of int
        Levels per column (used for categorical columns).
    """

    name = "mixed"
    support = None

    def __init__(self, kinds: Sequence[str], levels: Sequence[int]) -> None:
        super().__init__()
        self.kinds, self.levels = tuple(kinds), tuple(int(n) for n in levels)
        widths = [_width(k, n) for k, n in zip(self.kinds, self.levels, strict=True)]
        self.offsets = [sum(widths[:j]) for j in range(len(widths))]
        self.n_params = sum(widths)

    def _slice(self, params: Tensor, j: int) -> Tensor:
        start = self.offsets[j]
        return params[:, start : start + _width(self.kinds[j], self.levels[j])]

    def log_prob_columns(self, params: Tensor, x: Tensor) -> Tensor:
        """``log p(x_j | params)`` per column, 0 where ``x_j`` is missing: shape (N, C)."""
        observed = ~torch.isnan(x)
        filled = torch.where(observed, x, torch.zeros_like(x))
        out = []
        for j, kind in enumerate(self.kinds):
            p, v = self._slice(params, j), filled[:, j]
            if kind == "numeric":
                mean, log_scale = p[:, 0], p[:, 1].clamp(*LOG_SCALE_RANGE)
                z = (v - mean) * torch.exp(-log_scale)
                out.append(-0.5 * z.square() - log_scale - _HALF_LOG_2PI)
            elif kind == "binary":
                out.append(-F.binary_cross_entropy_with_logits(p[:, 0], v, reduction="none"))
            else:
                index = v.long().clamp(0, self.levels[j] - 1)
                out.append(torch.log_softmax(p, dim=1).gather(1, index[:, None])[:, 0])
        return torch.stack(out, dim=1) * observed  # (N, C)

    def log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        """``sum_j m_j log p(x_j | params)`` over the observed entries: shape (N,)."""
        return self.log_prob_columns(params, x).sum(1)

    def mean(self, params: Tensor) -> Tensor:
        """Codes ``(N, C)``: the Gaussian mean of a number, the most likely value of a binary
        or categorical column."""
        out = []
        for j, kind in enumerate(self.kinds):
            p = self._slice(params, j)
            if kind == "numeric":
                out.append(p[:, 0])
            elif kind == "binary":
                out.append((p[:, 0] > 0).to(params.dtype))
            else:
                out.append(p.argmax(1).to(params.dtype))
        return torch.stack(out, dim=1)

    def gaussian(self, params: Tensor, j: int) -> tuple[Tensor, Tensor]:
        """Mean and standard deviation ``(N,)`` each of number column ``j``."""
        p = self._slice(params, j)
        return p[:, 0], torch.exp(p[:, 1].clamp(*LOG_SCALE_RANGE))

    def probabilities(self, params: Tensor, j: int) -> Tensor:
        """Column ``j``'s level probabilities ``(N, L)`` (a binary column: ``(N, 2)``)."""
        p = self._slice(params, j)
        if self.kinds[j] == "binary":
            one = torch.sigmoid(p[:, 0])
            return torch.stack([1 - one, one], dim=1)
        return torch.softmax(p, dim=1)

    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Draws ``(N, C)`` from p(x | params)."""
        out = []
        n = params.shape[0]
        for j, kind in enumerate(self.kinds):
            p = self._slice(params, j)
            if kind == "numeric":
                scale = torch.exp(p[:, 1].clamp(*LOG_SCALE_RANGE))
                noise = randn((n,), generator=generator, device=params.device, dtype=params.dtype)
                out.append(p[:, 0] + scale * noise)
            else:
                probs = self.probabilities(params, j)  # (N, L)
                u = uniform((n, 1), generator=generator, device=params.device, dtype=params.dtype)
                index = (probs.cumsum(1) < u).sum(1).clamp(max=probs.shape[1] - 1)
                out.append(index.to(params.dtype))
        return torch.stack(out, dim=1)
