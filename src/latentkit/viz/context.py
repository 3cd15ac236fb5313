"""What a report is built from: the caller's results, the shared context and the numbers
computed once for every section.

- :class:`AnomalyResult` and :class:`Restoration` carry results computed by ``latentkit.apps``.
- :class:`ReportContext` holds the model, the evaluation subset and caches (codes).
- :func:`evaluate` gives the evaluation table: reconstruction error and PSNR, the model's own
  reconstruction term, the negative ELBO and an IWAE estimate of the NLL (Burda et al. 2015)
  with a small k, and the active units (Burda et al. 2015, section 5.2: posterior-mean
  variance above 0.01).
- :func:`latent_traversals` decodes one code with one dimension varied at a time.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from latentkit.data.dataset import Dataset
from latentkit.models.base import AbstractModel

__all__ = [
    "AnomalyResult",
    "ReportContext",
    "Restoration",
    "active_mask",
    "batched",
    "evaluate",
    "latent_traversals",
]


@dataclasses.dataclass
class AnomalyResult:
    """Anomaly scores to show in a report (higher = more anomalous).

    Attributes
    ----------
    normal : Tensor of shape (N,)
        Scores of normal held-out data.
    anomalous : Tensor of shape (M,)
        Scores of anomalous data.
    threshold : float, optional
        Decision threshold, drawn on the histogram.
    score_name : str
        What the score is (e.g. ``"negative ELBO"``).
    """

    normal: Tensor
    anomalous: Tensor
    threshold: float | None = None
    score_name: str = "anomaly score"


@dataclasses.dataclass
class Restoration:
    """One restoration result: images ``(N, C, H, W)`` in [0, 1] before and after.

    ``corrupted`` may be the gray version (C = 1) of an RGB ``clean`` for colorization.
    """

    task: str  # "denoise", "inpaint", "colorize", ...
    corrupted: Tensor
    output: Tensor
    clean: Tensor


@dataclasses.dataclass
class ReportContext:
    """What every section builder may read."""

    model: AbstractModel
    document: dict[str, Any]  # the run's config.json (or the model's config)
    rows: list[dict[str, Any]] | None  # metrics.jsonl records
    data: Dataset  # the evaluation subset
    seed: int
    max_points: int
    iwae_k: int
    iwae_points: int
    anomaly: AnomalyResult | None
    restorations: Sequence[Restoration]

    @property
    def generative(self) -> bool:
        return hasattr(self.model, "sample") and hasattr(self.model, "posterior")

    @property
    def labels(self) -> Tensor | None:
        """Labels to condition on, for models that need them."""
        return self.data.y if self.model.needs_labels else None

    def generator(self) -> torch.Generator:
        return torch.Generator(device=self.model.device).manual_seed(self.seed)

    @functools.cached_property
    def gaussian(self) -> bool:
        """True for the VAE family with a Gaussian posterior (codes live on the N(0, 1) scale)."""
        if not self.generative:
            return False
        y = None if self.labels is None else self.labels[:1].to(self.model.device)
        with torch.inference_mode():
            return hasattr(
                self.model.posterior(self.data.x[:1].to(self.model.device), y), "kl_per_dim"
            )

    @functools.cached_property
    def codes(self) -> Tensor:
        """Deterministic codes of the evaluation data, ``(N, latent_dim)`` (computed once)."""
        return batched(self.model.encode, self)


@torch.inference_mode()
def batched(fn: Callable[..., Tensor], ctx: ReportContext, batch_size: int = 512) -> Tensor:
    """``fn(x_batch, y_batch)`` over the evaluation data, concatenated on the CPU."""
    x, y, out = ctx.data.x, ctx.labels, []
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size].to(ctx.model.device)
        yb = None if y is None else y[start : start + batch_size].to(ctx.model.device)
        out.append(fn(xb, yb).float().cpu())
    return torch.cat(out)


@torch.inference_mode()
def latent_traversals(
    model: AbstractModel,
    x: Tensor,
    *,
    dims: Sequence[int] | None = None,
    values: Tensor | None = None,
    y: Tensor | None = None,
) -> Tensor:
    """Decode the code of one input with one latent dimension at a time set to each value.

    Parameters
    ----------
    x : Tensor of shape (1, *input_shape)
        The input whose code is varied.
    dims : sequence of int, optional
        Dimensions to vary; default the first ``min(10, latent_dim)``.
    values : Tensor of shape (S,), optional
        Values given to the varied dimension; default ``linspace(-3, 3, 9)`` (the bulk of a
        standard normal prior).
    y : Tensor of shape (1,), optional
        Label of ``x``, for conditional models.

    Returns
    -------
    Tensor of shape (len(dims), S, *input_shape)
    """
    if x.shape[0] != 1:
        raise ValueError(f"x must hold exactly one input, shape (1, ...), got {tuple(x.shape)}.")
    dims = list(range(min(10, model.latent_dim))) if dims is None else list(dims)
    bad = [d for d in dims if not 0 <= d < model.latent_dim]
    if bad:
        raise ValueError(f"dims {bad} are outside [0, {model.latent_dim}).")
    values = torch.linspace(-3.0, 3.0, 9) if values is None else values.float()
    model.eval()
    device = model.device
    code = model.encode(x.to(device), None if y is None else y.to(device))  # (1, D)
    z = code.repeat(len(dims), len(values), 1)  # (dims, S, D)
    for row, d in enumerate(dims):
        z[row, :, d] = values.to(device)
    y_rep = None if y is None else y.to(device).repeat(len(dims) * len(values))
    images = model.decode(z.reshape(-1, code.shape[1]), y_rep)
    return images.view(len(dims), len(values), *model.input_shape).cpu()


def active_mask(ctx: ReportContext) -> Tensor:
    """Active units (Burda et al. 2015): posterior-mean variance above 0.01, shape (D,)."""
    return ctx.codes.var(dim=0) > 0.01


def evaluate(ctx: ReportContext) -> dict[str, Any]:
    """Evaluation numbers on the report's data (means per sample; nats where stated)."""
    from latentkit.evaluation import elbo, log_likelihood
    from latentkit.evaluation.metrics import psnr

    model, x = ctx.model, ctx.data.x
    recon = batched(model.reconstruct, ctx)
    out: dict[str, Any] = {"data points": len(x)}
    out["reconstruction MSE (per feature)"] = float((recon - x).square().mean())
    if ctx.data.is_image:
        out["reconstruction PSNR (dB)"] = float(psnr(recon.clamp(0, 1), x).mean())
    gen = ctx.generator()
    terms = batched(lambda xb, yb: model.loss(xb, y=yb, generator=gen).reconstruction, ctx)
    out["reconstruction term of the loss"] = float(terms.mean())
    if hasattr(model, "log_importance_weights"):
        out["negative ELBO (nats)"] = -float(
            elbo(model, x, y=ctx.labels, generator=ctx.generator()).mean()
        )
        m = min(ctx.iwae_points, len(x))
        y = None if ctx.labels is None else ctx.labels[:m]
        nll = -log_likelihood(model, x[:m], k=ctx.iwae_k, y=y, generator=ctx.generator())
        out[f"IWAE NLL, k={ctx.iwae_k} (nats, first {m} points)"] = float(nll.mean())
    if ctx.generative:
        active = active_mask(ctx)
        out["active units"] = f"{int(active.sum())} of {len(active)}"
    return out
