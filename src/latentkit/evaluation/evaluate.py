"""The one evaluation path: batching, eval mode, and the per-sample numbers of a trained model.

This module owns how a trained model is run over data outside the training loop:

- :func:`eval_mode` puts a model in eval mode for a block and restores its previous mode;
- :func:`batches` slices ``(x, y)`` into batches moved to a device, :func:`batched` applies a
  function to every batch and concatenates the results on the CPU;
- :func:`evaluate` computes every per-sample number a caller may want (the model's own loss
  terms, the squared reconstruction error, PSNR for images, the ELBO and an importance-sampled
  log-likelihood for the VAE family) and their summaries, once.

The command line (``latentkit evaluate``), the HTML report, the scikit-learn estimators,
anomaly scoring and semi-supervised learning all run models through these functions; what a
model can do is read from its declared ``capabilities``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import Tensor, nn

from latentkit.models.base import AbstractModel

__all__ = ["Evaluation", "batched", "batches", "eval_mode", "evaluate"]

Output = Tensor | tuple[Tensor, ...]


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Run the block with ``model.eval()``; restore the previous train/eval mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def batches(
    x: Tensor,
    y: Tensor | None = None,
    *,
    batch_size: int = 512,
    device: torch.device | str | None = None,
) -> Iterator[tuple[Tensor, Tensor | None]]:
    """Consecutive slices ``(x[i:i + batch_size], y[i:i + batch_size])``, moved to ``device``.

    Parameters
    ----------
    x : Tensor of shape (N, ...)
    y : Tensor of shape (N,), optional
        Sliced alongside ``x``; None yields None.
    batch_size : int
        Rows per slice (the last one may be smaller).
    device : torch.device or str, optional
        Where the slices go (default: where they are).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    if y is not None and len(y) != len(x):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}; pass one label per row.")
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size]
        yb = None if y is None else y[start : start + batch_size]
        if device is not None:
            xb = xb.to(device)
            yb = None if yb is None else yb.to(device)
        yield xb, yb


def _concat(parts: list[Output]) -> Output:
    if isinstance(parts[0], tuple):
        return tuple(torch.cat(column) for column in zip(*parts, strict=True))
    return torch.cat(parts)  # type: ignore[arg-type]


def batched(
    fn: Callable[[Tensor, Tensor | None], Output],
    x: Tensor,
    y: Tensor | None = None,
    *,
    model: nn.Module | None = None,
    batch_size: int = 512,
    device: torch.device | str | None = None,
) -> Output:
    """``fn(x_batch, y_batch)`` over all rows, concatenated on the CPU, without gradients.

    Parameters
    ----------
    fn : callable
        Takes a batch ``(B, ...)`` and its labels ``(B,)`` or None; returns a tensor with B
        rows, or a tuple of them.
    x : Tensor of shape (N, ...)
    y : Tensor of shape (N,), optional
    model : nn.Module, optional
        Run in eval mode for the call (its mode is restored), and batches go to its device.
    batch_size : int
    device : torch.device or str, optional
        Where batches go when no ``model`` is given.

    Returns
    -------
    Tensor of shape (N, ...) or tuple of such tensors
        On the CPU, in the dtype ``fn`` returned. Outputs are ordinary tensors (no graph, not
        inference tensors), so they may feed later training.
    """
    if len(x) == 0:
        raise ValueError("x is empty: nothing to evaluate.")
    if model is not None:
        device = next(model.parameters()).device
    context = eval_mode(model) if model is not None else contextlib.nullcontext()
    parts: list[Output] = []
    with context, torch.no_grad():
        for xb, yb in batches(x, y, batch_size=batch_size, device=device):
            out = fn(xb, yb)
            parts.append(tuple(t.cpu() for t in out) if isinstance(out, tuple) else out.cpu())
    return _concat(parts)


@dataclasses.dataclass
class Evaluation:
    """What :func:`evaluate` measured.

    Attributes
    ----------
    per_sample : dict of str to Tensor of shape (N,) or (M,)
        On the CPU: the model's loss terms (``reconstruction``, ``kl``, ...), ``squared_error``
        (summed over features; a mixed table's observed codes only), ``psnr`` (images),
        ``elbo`` and ``log_likelihood`` (nats, VAE family; ``log_likelihood`` covers the first
        ``M = iwae_points`` rows).
    summary : dict of str to float or int
        ``samples``, the mean of each per-sample term, ``negative_elbo``,
        ``nll_iwae_k{k}`` (the mean negative log-likelihood) and ``active_units``
        (Gaussian posteriors: posterior-mean variance above 0.01, Burda et al. 2015).
    codes : Tensor of shape (N, latent_dim)
        The deterministic codes (``encode``), on the CPU.
    """

    per_sample: dict[str, Tensor]
    summary: dict[str, Any]
    codes: Tensor


def evaluate(
    model: AbstractModel,
    x: Tensor,
    y: Tensor | None = None,
    *,
    k: int = 100,
    seed: int = 0,
    batch_size: int = 512,
    iwae_points: int | None = None,
    images: bool = False,
) -> Evaluation:
    """Every per-sample number of ``model`` on ``x``, computed once, with summaries.

    Parameters
    ----------
    model : AbstractModel
        A trained model; it is run in eval mode (its mode is restored).
    x : Tensor of shape (N, *input_shape)
    y : Tensor of shape (N,), optional
        Labels; used only by models that declare ``capabilities.conditional``.
    k : int
        Importance samples of the log-likelihood estimate (Burda et al. 2015).
    seed : int
        Seed of every random draw (loss sampling, ELBO, IWAE): results are reproducible.
    batch_size : int
        Rows per forward pass.
    iwae_points : int, optional
        Estimate the log-likelihood on the first this many rows only (default: all).
    images : bool
        Also give per-image PSNR in dB of the reconstruction clipped to [0, 1].

    Returns
    -------
    Evaluation
    """
    from latentkit.evaluation.likelihood import elbo, log_likelihood
    from latentkit.evaluation.metrics import psnr

    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}.")
    caps = model.capabilities
    labels = y if caps.conditional else None
    device = model.device

    def generator() -> torch.Generator:
        return torch.Generator(device=device).manual_seed(seed)

    loss_gen = generator()
    names: list[str] = []  # the loss terms' names, in the order one_batch returns them

    def one_batch(xb: Tensor, yb: Tensor | None) -> tuple[Tensor, ...]:
        terms = model.loss(xb, y=yb, generator=loss_gen).per_sample()
        names[:] = list(terms)
        code = model.encode(xb, yb)  # (B, latent_dim)
        recon = model.decode(code, yb)  # (B, *input_shape)
        error = (recon - xb).masked_fill(torch.isnan(xb), 0)  # gaps (NaN in x) left out only
        squared = error.square().flatten(1).sum(1)  # (B,); a NaN reconstruction stays NaN
        quality = psnr(recon.clamp(0, 1), xb).to(squared.dtype) if images else squared
        return (code, squared, quality, *terms.values())

    code, squared, quality, *values = batched(
        one_batch, x, labels, model=model, batch_size=batch_size
    )
    per_sample = dict(zip(names, values, strict=True))
    per_sample["squared_error"] = squared
    if images:
        per_sample["psnr"] = quality
    summary: dict[str, Any] = {"samples": len(x)}
    summary.update({name: _mean(value) for name, value in per_sample.items()})
    if caps.likelihood_bound:
        batch = max(1, batch_size // 4)
        elbos = elbo(model, x, y=labels, batch_size=batch, generator=generator())
        m = len(x) if iwae_points is None else max(1, min(iwae_points, len(x)))
        y_m = None if labels is None else labels[:m]
        nll = log_likelihood(model, x[:m], k=k, y=y_m, batch_size=batch, generator=generator())
        per_sample["elbo"], per_sample["log_likelihood"] = elbos, nll
        summary["negative_elbo"] = -_mean(elbos)
        summary[f"nll_iwae_k{k}"] = -_mean(nll)
    if caps.gaussian_posterior and len(code) > 1:  # a variance needs two codes
        summary["active_units"] = int((code.double().var(dim=0) > 0.01).sum())
    return Evaluation(per_sample, summary, code)


def _mean(values: Tensor) -> float:
    return float(values.double().mean())
