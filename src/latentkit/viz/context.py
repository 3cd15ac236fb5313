"""What a report is built from: the caller's results, the shared context and the numbers
computed once for every section.

- :class:`AnomalyResult` and :class:`Restoration` carry results computed by ``latentkit.apps``.
- :class:`ReportContext` holds the model, the evaluation subset and caches (codes, and for
  tables the squared reconstruction error of every feature of every row).
- :class:`Inapplicable` is the reason a builder gives when its section is for another kind of
  data (images or tables): the report states those once, not one note per section.
- :func:`evaluate` gives the evaluation table from :func:`latentkit.evaluation.evaluate` (the
  one evaluation path): reconstruction error and PSNR (for token sequences the share of tokens
  and of whole sequences that reconstruction gets right, :func:`token_accuracy`), the
  model's own reconstruction term, the negative ELBO and an IWAE estimate of the NLL (Burda et
  al. 2015) with a small k, and the active units (Burda et al. 2015, section 5.2:
  posterior-mean variance above 0.01).
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
from latentkit.evaluation.evaluate import batched
from latentkit.evaluation.evaluate import evaluate as evaluate_model
from latentkit.models.base import AbstractModel

__all__ = [
    "AnomalyResult",
    "Inapplicable",
    "ReportContext",
    "Restoration",
    "active_mask",
    "evaluate",
    "latent_traversals",
    "token_accuracy",
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

    ``corrupted`` may be the gray version (C = 1) of an RGB ``clean`` for colorization;
    ``mask`` (True = missing, shaped like ``clean`` or with one channel) marks the pixels an
    inpainting task filled in, drawn tinted in the figure.
    """

    task: str  # "denoise", "inpaint", "colorize", ...
    corrupted: Tensor
    output: Tensor
    clean: Tensor
    mask: Tensor | None = None


class Inapplicable(str):
    """Why a section is not shown: it is drawn for another kind of data.

    ``kind`` is the data the section is for: ``"images"`` (the report says once that image
    figures apply to images only) or ``"tables"`` (silent on images).
    """

    kind: str

    def __new__(cls, kind: str) -> Inapplicable:
        self = super().__new__(cls, f"drawn for {kind} only")
        self.kind = kind
        return self


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
    row_ids: Tensor | None = None  # (N,) row of each data point in the caller's data
    to_original: Callable[[Tensor], Tensor] | None = None  # rows back to the file's units
    source: Dataset | None = None  # the caller's whole data (``data`` may be a subset of it)

    @property
    def generative(self) -> bool:
        """True for models with a prior to sample from (the VAE family)."""
        return self.model.capabilities.generative

    @property
    def sequence(self) -> bool:
        """True for models of token sequences (data are ids ``(N, L)``; see
        :mod:`latentkit.viz.sequences`)."""
        return self.model.capabilities.sequence

    @property
    def labels(self) -> Tensor | None:
        """Labels to condition on, for models that need them."""
        return self.data.y if self.model.needs_labels else None

    @property
    def gaussian(self) -> bool:
        """True for the VAE family with a Gaussian posterior (codes live on the N(0, 1) scale)."""
        return self.model.capabilities.gaussian_posterior

    @functools.cached_property
    def codes(self) -> Tensor:
        """Deterministic codes of the evaluation data, ``(N, latent_dim)`` (computed once)."""
        model = self.model
        return batched(model.encode, self.data.x, self.labels, model=model).float()

    @functools.cached_property
    def kl(self) -> Tensor | None:
        """Mean KL of each latent to N(0, 1) on the evaluation data, ``(latent_dim,)``, for
        Gaussian posteriors; None otherwise."""
        if not self.gaussian:
            return None
        from latentkit.evaluation.diagnostics import kl_per_dimension

        return kl_per_dimension(self.model, self.data.x, y=self.labels)

    @functools.cached_property
    def latent_order(self) -> list[int]:
        """The latents by KL, largest first (index order without a Gaussian posterior)."""
        if self.kl is None:
            return list(range(self.model.latent_dim))
        return torch.argsort(self.kl, descending=True, stable=True).tolist()

    @functools.cached_property
    def factor_labels(self) -> list[str | None] | None:
        """The factor each latent carries most information about (data with ``factors``)."""
        if self.data.factors is None or self.model.latent_dim < 1:
            return None
        from latentkit.evaluation.disentanglement import latent_factors

        names = self.data.meta.get("factor_names")
        return latent_factors(self.codes, self.data.factors, names if names else None)

    @functools.cached_property
    def reconstructions(self) -> Tensor:
        """Reconstructions of the evaluation data, shaped like it (computed once)."""
        model = self.model
        return batched(model.reconstruct, self.data.x, self.labels, model=model).float()

    @functools.cached_property
    def feature_errors(self) -> Tensor:
        """Squared reconstruction error of each feature of each row, ``(N, D)`` for tables (a
        model of mixed tables: each column's negative log-likelihood, 0 where missing)."""
        if self.model.capabilities.tabular:
            from latentkit.apps.anomaly import feature_errors

            return feature_errors(self.model, self.data.x, y=self.labels).flatten(1)
        return (self.reconstructions - self.data.x.float()).square().flatten(1)

    @property
    def row_scores(self) -> Tensor:
        """Anomaly score of each row, ``(N,)``: the squared reconstruction error summed over
        features (the ``"reconstruction"`` score of :mod:`latentkit.apps.anomaly`)."""
        return self.feature_errors.sum(1)

    @functools.cached_property
    def feature_names(self) -> list[str]:
        """A name per feature of a table: the file's column names when the data records them
        (``meta["columns"]``), else ``f0``, ``f1``, ... Numeric names (the columns of an
        array file) become ``f<index>``."""
        width = self.data.x[0].numel()
        names = self.data.meta.get("columns")
        if isinstance(names, list) and len(names) == width:
            return [f"f{n}" if str(n).isdigit() else str(n) for n in names]
        return [f"f{i}" for i in range(width)]

    def row_id(self, i: int) -> int:
        """The caller's row number of evaluation point ``i``."""
        return i if self.row_ids is None else int(self.row_ids[i])


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


def token_accuracy(ids: Tensor, decoded: Tensor) -> dict[str, float]:
    """Reconstructions (the model's decoding: greedy or beam) of token ids ``(N, L)`` against
    the ids: the share of tokens right (each sequence's tokens and its end id; padding left
    out) and of sequences right in all of them."""
    from latentkit.data.sequences import PAD

    mask = ids != PAD  # (N, L): tokens and the end id
    right = (decoded == ids) | ~mask
    return {
        "reconstructed tokens right": int((right & mask).sum()) / int(mask.sum()),
        "sequences reconstructed exactly": float(right.all(1).float().mean()),
    }


def evaluate(ctx: ReportContext) -> dict[str, Any]:
    """Evaluation numbers on the report's data (means per sample; nats where stated)."""
    x, images = ctx.data.x, ctx.data.is_image
    result = evaluate_model(
        ctx.model, x, ctx.labels, k=ctx.iwae_k, seed=ctx.seed, iwae_points=ctx.iwae_points,
        images=images,
    )  # fmt: skip
    terms, summary = result.per_sample, result.summary
    ctx.__dict__.setdefault("codes", result.codes.float())  # the codes encoded once, not twice
    out: dict[str, Any] = {"data points": len(x)}
    if ctx.sequence:  # squared differences of token ids mean nothing: tokens right instead
        out.update(token_accuracy(x, ctx.reconstructions))
    else:
        out["reconstruction MSE (per feature)"] = summary["squared_error"] / x[0].numel()
    if images:
        out["reconstruction PSNR (dB)"] = summary["psnr"]
    out["reconstruction term of the loss"] = summary["reconstruction"]
    if "negative_elbo" in summary:
        k, m = ctx.iwae_k, len(terms["log_likelihood"])
        out["negative ELBO (nats)"] = summary["negative_elbo"]
        out[f"IWAE NLL, k={k} (nats, first {m} points)"] = summary[f"nll_iwae_k{k}"]
    if ctx.generative:
        active = active_mask(ctx)
        out["active units"] = f"{int(active.sum())} of {len(active)}"
    return out
