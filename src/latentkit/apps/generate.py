"""New data points from a generative model: prior samples with a temperature, optionally
conditioned on a label (ConditionalVAE)."""

from __future__ import annotations

import torch
from torch import Tensor

from latentkit.evaluation.evaluate import eval_mode
from latentkit.models.base import AbstractModel

__all__ = ["generate"]


@torch.inference_mode()
def generate(
    model: AbstractModel,
    n: int,
    *,
    temperature: float = 1.0,
    y: int | Tensor | None = None,
    seed: int | None = 0,
    batch_size: int = 1024,
) -> Tensor:
    """Draw ``n`` samples (decoded means), shape ``(n, *input_shape)``, on the CPU.

    Parameters
    ----------
    temperature : float
        Scales the prior's standard deviation: below 1 gives cleaner, less varied samples.
    y : int or Tensor of shape (n,), optional
        Class label(s), for label-conditioned models (required there).
    seed : int or None
        Seed of the sampling generator (None: the global RNG).
    """
    if not model.capabilities.generative:
        raise TypeError(
            f"{type(model).__name__} has no prior to sample from; generation needs a model of "
            "the VAE family (vae, conditional_vae, hierarchical_vae, ...)."
        )
    if model.needs_labels and y is None:
        raise ValueError(f"{type(model).__name__} generates per class: pass a label y=...")
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    out = []
    with eval_mode(model):
        for start in range(0, n, batch_size):  # batches of samples to draw, not of data
            m = min(batch_size, n - start)
            yb = y[start : start + m] if isinstance(y, Tensor) else y
            out.append(model.sample(m, temperature=temperature, generator=generator, y=yb).cpu())
    return torch.cat(out)
