"""Fill the missing values of a mixed table with a trained tabular VAE, as in MIWAE.

Mattei & Frellsen (2019), "MIWAE: deep generative modelling and imputation of incomplete data
sets" (ICML), section 4: with ``K`` draws ``z_k ~ q(z | x_obs)`` and self-normalised importance
weights ``w_k`` proportional to ``p(x_obs | z_k) p(z_k) / q(z_k | x_obs)``,

- single imputation: ``E[x_miss | x_obs] ~= sum_k w_k E[x_miss | z_k]``: for a number the
  weighted mean of the decoder means, taken in the column's own units when a schema is given
  (the decoder's Gaussian is over normal scores s; ``E[g(s) | z_k]``, with g the column's
  inverse normalisation, by 20-point Gauss-Hermite quadrature), for a category the most
  likely level of ``sum_k w_k p(x_j | z_k)``;
- multiple imputation (``draws=M``): sampling importance resampling: ``z`` drawn from the
  ``K`` draws with probabilities ``w_k``, then ``x_miss ~ p(x_miss | z)``; M completed tables.

Observed values are never changed. Works on codes (``(N, C)``, NaN = missing) of
:class:`latentkit.data.schema.TableSchema`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from latentkit.data.schema import TableSchema
from latentkit.models.base import AbstractGenerativeModel

__all__ = ["chunk_rows", "importance_weights", "impute"]

#: Gauss-Hermite nodes and weights (probabilists', normalised): E[f(s)], s ~ N(0, 1)
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(20)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()

#: the most decoder outputs (k x rows x P floats) one chunk of rows holds: the rows per chunk
#: shrink as k grows (``--samples`` up to 100,000)
CHUNK_FLOATS = 1 << 22


def _check(model: AbstractGenerativeModel, x: Tensor) -> None:
    if not model.capabilities.missing_values:
        raise ValueError(
            f"imputation needs a model trained with missing values (tabular_vae), got a "
            f"{model.model_type}; train one with 'latentkit train --data FILE.csv'."
        )
    if x.ndim != 2 or x.shape[1] != model.input_shape[0]:
        raise ValueError(f"expected codes of shape (N, {model.input_shape[0]}), got {x.shape}.")


def importance_weights(
    model: AbstractGenerativeModel, x: Tensor, k: int, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """``(params, weights)``: decoder outputs ``(k, N, P)`` for ``k`` posterior draws and their
    self-normalised importance weights ``(k, N)`` (summing to 1 over the draws)."""
    q = model.posterior(x)
    z = q.rsample(generator, sample_shape=(k,))  # (k, N, latent_dim)
    n = x.shape[0]
    params = model.decoder_params(z.reshape(k * n, -1)).view(k, n, -1)  # (k, N, P)
    log_px = model.likelihood.log_prob(params.reshape(k * n, -1), x.repeat(k, 1)).view(k, n)
    log_w = log_px + model.prior.log_prob(z) - q.log_prob(z)  # (k, N)
    return params, torch.softmax(log_w, dim=0)


def _single(
    model: AbstractGenerativeModel, params: Tensor, w: Tensor, schema: TableSchema | None
) -> Tensor:
    """The weighted imputation ``(N, C)`` of every entry (observed ones are put back later)."""
    likelihood = model.likelihood
    k, n, _ = params.shape
    flat = params.reshape(k * n, -1)
    means = likelihood.mean(flat).view(k, n, -1)  # (k, N, C) codes
    out = []
    for j, kind in enumerate(likelihood.kinds):
        if kind == "numeric":
            if schema is None:
                out.append((w * means[:, :, j]).sum(0))
                continue
            mu, sd = (t.view(k, n).double().cpu().numpy() for t in likelihood.gaussian(flat, j))
            # E[g(s)] for s ~ N(mu, sd) and g the column's inverse normalisation
            raw = (
                _WEIGHTS[:, None, None] * schema.denormalize(j, mu + sd * _NODES[:, None, None])
            ).sum(0)
            mean = (w.double().cpu().numpy() * raw).sum(0)
            normal = schema.normalize(j, mean)
            out.append(torch.as_tensor(normal, dtype=params.dtype, device=params.device))
        else:
            probs = likelihood.probabilities(flat, j).view(k, n, -1)  # (k, N, L)
            out.append((w[:, :, None] * probs).sum(0).argmax(1).to(params.dtype))
    return torch.stack(out, dim=1)


def chunk_rows(k: int, width: int, batch_size: int = 512) -> int:
    """Rows per chunk: at most ``batch_size``, and ``k * rows * width`` decoder outputs within
    :data:`CHUNK_FLOATS` (at least one row)."""
    return max(1, min(batch_size, CHUNK_FLOATS // max(1, k * width)))


def impute(
    model: AbstractGenerativeModel,
    x: Tensor,
    *,
    k: int = 100,
    draws: int = 0,
    schema: TableSchema | None = None,
    batch_size: int = 512,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Fill the NaN entries of ``x`` (codes ``(N, C)``).

    Parameters
    ----------
    model : AbstractGenerativeModel
        A model with ``capabilities.missing_values`` (:class:`latentkit.models.tabular.
        TabularVAE`).
    x : Tensor of shape (N, C)
        Codes with NaN where a value is missing.
    k : int
        Importance samples per row.
    draws : int
        0: one imputation (the weighted conditional mean / most likely level); ``M >= 1``: M
        multiple imputations by sampling importance resampling.
    schema : TableSchema, optional
        Numbers are averaged in the column's units (else in normal scores).
    batch_size : int
        The most rows per chunk; fewer when ``k`` is large (:func:`chunk_rows`).
    generator : torch.Generator, optional
        A CPU generator (the draws of the resampling are made on the CPU).

    Returns
    -------
    Tensor of shape (N, C), or (draws, N, C) when ``draws >= 1``
        Codes without NaN; observed entries unchanged.
    """
    _check(model, x)
    if k < 1 or draws < 0 or batch_size < 1:
        raise ValueError(f"k and batch_size must be >= 1 and draws >= 0, got {k}, {draws}.")
    model.eval()
    chunks = []
    size = chunk_rows(k, model.likelihood.n_params, batch_size)
    with torch.no_grad():
        for start in range(0, len(x), size):
            rows = x[start : start + size].to(model.device)
            params, w = importance_weights(model, rows, k, generator)  # (k, n, P), (k, n)
            if draws == 0:
                filled = _single(model, params, w, schema)[None]  # (1, n, C)
            else:
                pick = torch.multinomial(w.T.cpu(), draws, replacement=True, generator=generator)
                n = rows.shape[0]
                cols = torch.arange(n, device=params.device)[None, :]
                chosen = params[pick.T.to(params.device), cols]  # (draws, n, P)
                drawn = model.likelihood.sample(chosen.reshape(draws * n, -1), generator)
                filled = drawn.view(draws, n, -1)
            missing = torch.isnan(rows)[None]
            chunks.append(torch.where(missing, filled, rows[None]).cpu())
    out = torch.cat(chunks, dim=1)
    return out[0] if draws == 0 else out
