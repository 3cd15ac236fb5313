"""Anomaly scores from a trained model (higher score = more anomalous).

Scores, per sample:
- ``"reconstruction"``: squared error between ``x`` and its reconstruction, summed over
  features (every model);
- ``"elbo"``: the negative ELBO, a Monte Carlo average over seeded posterior samples (VAEs);
- ``"nll"``: the importance-sampled negative log-likelihood with ``k`` samples (VAEs);
- ``"latent_distance"``: the Mahalanobis distance of the code to a Gaussian fitted on the
  training codes (every model).
Per-feature scores (which columns of a table look wrong) are the squared reconstruction
errors divided by each feature's mean error on the training data; :func:`top_features` names
the columns that contribute most to a row's reconstruction score. Thresholds come from a
contamination rate on training scores, or a target false-positive rate on normal
validation scores. Scoring is deterministic: posterior means or seeded samples.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
from torch import Tensor

from latentkit.evaluation.diagnostics import posterior_means
from latentkit.evaluation.evaluate import batched
from latentkit.evaluation.likelihood import elbo, log_likelihood
from latentkit.evaluation.metrics import auroc, average_precision
from latentkit.models.base import AbstractModel

__all__ = [
    "METHODS",
    "LatentGaussian",
    "anomaly_scores",
    "detection_metrics",
    "feature_errors",
    "threshold_from_contamination",
    "threshold_from_fpr",
    "top_features",
]

Method = Literal["reconstruction", "elbo", "nll", "latent_distance"]
METHODS: tuple[str, ...] = ("reconstruction", "elbo", "nll", "latent_distance")


@dataclasses.dataclass
class LatentGaussian:
    """A Gaussian fitted to training codes, for Mahalanobis distances."""

    mean: Tensor  # (D,)
    precision: Tensor  # (D, D)

    @classmethod
    def fit(cls, codes: Tensor, ridge: float = 1e-4) -> LatentGaussian:
        codes = codes.double()
        mean = codes.mean(0)
        centred = codes - mean
        cov = centred.T @ centred / max(len(codes) - 1, 1)
        cov = cov + ridge * torch.eye(
            cov.shape[0], dtype=cov.dtype
        ) * cov.diagonal().mean().clamp_min(1e-12)
        return cls(mean.float(), torch.linalg.inv(cov).float())

    def distance(self, codes: Tensor) -> Tensor:
        """Mahalanobis distance per row, shape ``(N,)``."""
        d = codes.float() - self.mean
        return ((d @ self.precision) * d).sum(1).clamp_min(0).sqrt()


def feature_errors(
    model: AbstractModel, x: Tensor, *, y: Tensor | None = None, batch_size: int = 512
) -> Tensor:
    """Squared reconstruction error per feature, shape ``(N, *input_shape)``, float32.

    ``y`` (shape ``(N,)``) holds the labels of conditional models. For a model of a mixed
    table (``capabilities.tabular``: codes of numbers and categories, NaN where missing) the
    error of a column is its negative log-likelihood ``-log p(x_j | z)`` at the posterior mean
    (0 where the value is missing), which compares numbers and categories on one scale."""

    def errors(xb: Tensor, yb: Tensor | None) -> Tensor:
        if model.capabilities.tabular:
            params = model.decoder_params(model.encode(xb))  # type: ignore[operator]
            return -model.likelihood.log_prob_columns(params, xb).float()  # type: ignore[union-attr]
        return (model.reconstruct(xb, yb) - xb).square().float()

    return batched(errors, x, y, model=model, batch_size=batch_size)


def top_features(errors: Tensor, k: int = 3) -> Tensor:
    """The ``k`` features with the largest errors in each row, largest first.

    Parameters
    ----------
    errors : Tensor of shape (N, D)
        Per-feature errors, e.g. :func:`feature_errors` of a table (whose ``sum(1)`` is the
        ``"reconstruction"`` score).
    k : int
        Features per row (at most D).

    Returns
    -------
    Tensor of shape (N, min(k, D)), int64
        Column indices; equal errors go to the earlier column.
    """
    if errors.ndim != 2:
        raise ValueError(f"errors must have shape (N, D), got {tuple(errors.shape)}.")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")
    order = torch.argsort(errors.double(), dim=1, descending=True, stable=True)  # (N, D)
    return order[:, : min(k, errors.shape[1])]


def anomaly_scores(
    model: AbstractModel,
    x: Tensor,
    method: Method = "reconstruction",
    *,
    reference: LatentGaussian | None = None,
    y: Tensor | None = None,
    k: int = 100,
    samples: int = 16,
    seed: int = 0,
    batch_size: int = 256,
) -> Tensor:
    """Per-sample anomaly scores, shape ``(N,)`` (higher = more anomalous).

    Parameters
    ----------
    model : AbstractModel
        A trained model.
    x : Tensor of shape (N, *input_shape)
        Data to score.
    method : {"reconstruction", "elbo", "nll", "latent_distance"}
        The score (see the module docstring).
    reference : LatentGaussian, optional
        Training-code Gaussian, required for ``"latent_distance"``.
    y : Tensor of shape (N,), optional
        Labels, for conditional models (which need them).
    k, samples : int
        Importance samples for ``"nll"``; posterior samples for ``"elbo"``.
    seed : int
        Seed of the sampling generator (scores are reproducible).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}.")
    generator = torch.Generator().manual_seed(seed)
    if method == "reconstruction":
        return feature_errors(model, x, y=y, batch_size=batch_size).flatten(1).sum(1)
    if method == "elbo":
        return -elbo(model, x, samples=samples, y=y, batch_size=batch_size, generator=generator)
    if method == "nll":
        return -log_likelihood(model, x, k=k, y=y, batch_size=batch_size, generator=generator)
    if reference is None:
        raise ValueError(
            "method 'latent_distance' needs reference=LatentGaussian.fit(codes of training data)."
        )
    return reference.distance(posterior_means(model, x, y=y, batch_size=batch_size))


def threshold_from_contamination(train_scores: Tensor, contamination: float) -> float:
    """The score above which a fraction ``contamination`` of the training data lies."""
    if not 0 < contamination < 0.5:
        raise ValueError(f"contamination must be in (0, 0.5), got {contamination}.")
    return float(torch.quantile(train_scores.double(), 1 - contamination))


def threshold_from_fpr(normal_scores: Tensor, fpr: float) -> float:
    """The score threshold that flags a fraction ``fpr`` of normal validation data."""
    if not 0 < fpr < 1:
        raise ValueError(f"target false-positive rate must be in (0, 1), got {fpr}.")
    return float(torch.quantile(normal_scores.double(), 1 - fpr))


def detection_metrics(scores: Tensor, is_anomaly: Tensor, threshold: float | None = None) -> dict:
    """AUROC and average precision, plus flagged rate, precision and recall at a threshold."""
    labels = is_anomaly.long().numpy()
    out = {
        "auroc": auroc(scores.numpy(), labels),
        "average_precision": average_precision(scores.numpy(), labels),
    }
    if threshold is not None:
        flagged = scores > threshold
        true_pos = (flagged & is_anomaly.bool()).sum().item()
        out["threshold"] = threshold
        out["flagged_rate"] = flagged.float().mean().item()
        out["precision"] = true_pos / max(flagged.sum().item(), 1)
        out["recall"] = true_pos / max(is_anomaly.bool().sum().item(), 1)
    return out
