"""One-class anomaly scores that do not favour simple images (higher score = more anomalous).

A likelihood model trained on one class gives high likelihood to *simple* inputs (few or faint
pixels, flat textures) whatever their class, so ``-ELBO`` and the IWAE NLL of
:mod:`latentkit.apps.anomaly` rank many anomalies as normal (Nalisnick et al. 2019, "Do deep
generative models know what they don't know?"). The scores here compare a sample with the
training data instead of with the model's density alone.

Parts, each a robust z-score (the median and interquartile range of its values on the
training data are subtracted and divided by), summed when joined by ``+``:

- ``"neighbors"``: the mean Euclidean distance of the sample's code (posterior mean) to its
  ``n_neighbors`` nearest codes of the training data (Ramaswamy et al. 2000's k-NN score, in
  code space, as :class:`latentkit.sklearn.OutlierDetector` does for tables); the training
  codes' own distances, for the z-score, are taken leaving each code out;
- ``"reconstruction"``: the squared reconstruction error of the posterior mean, summed over
  features (for a mixed table, the per-column negative log-likelihoods of
  :func:`latentkit.apps.anomaly.feature_errors`);
- ``"standardized"``: the squared error of each feature divided by that feature's mean
  training error (plus ``ERROR_FLOOR``), summed: an error where the normal class varies
  (the outline of a garment) counts less than one where it never does.

And ``"complexity"``: the input-complexity-corrected likelihood of Serrà et al. 2020 ("Input
complexity and out-of-distribution detection with likelihood-based generative models"),
``S(x) = NLL(x) / ln 2 - L(x)``: the IWAE NLL in bits minus ``L(x)``, the length in bits of
the image quantised to 8 bits and compressed by zlib (DEFLATE, level 9; the compressor of PNG,
without PNG's row filters). A simple image compresses well, so its low NLL is discounted.
The correction needs both terms in the same units: a likelihood over the 8-bit image (a
discretised one), whose NLL is a code length of what zlib compresses. The models here have
Bernoulli or Gaussian likelihoods over grey values, whose NLL is not: on MNIST with a
Bernoulli VAE, L is about ten times the NLL (1463 against 140 bits on average), so
``S(x)`` is almost ``-L(x)`` (correlation 0.998) and ranks simple images as anomalous
whatever their class. It is kept for the benchmark's comparison and is not offered by the
command line.

The default, ``DEFAULT_METHOD = "neighbors+reconstruction"``, is the score with the highest
validation AUROC averaged over the classes of MNIST and Fashion-MNIST together (one rule for
both; ``benchmarks/anomaly_oneclass.py``: a VAE trained on 90% of one class's training images,
validated on the other 10% against 2000 training images of the other classes, never on the
test set). Validation mean AUROC, MNIST / Fashion-MNIST / both, MLP VAE trained 30 epochs:
``neighbors+reconstruction`` 0.973 / 0.923 / 0.948; ``neighbors+reconstruction+standardized``
0.967 / 0.928 / 0.948 (0.9475); ``neighbors+standardized`` 0.959 / 0.931 / 0.945; the
reconstruction error alone 0.968 / 0.911 / 0.940; ``standardized`` 0.952 / 0.921 / 0.937;
``neighbors`` 0.924 / 0.893 / 0.908; ``complexity`` 0.617 / 0.553 / 0.585 (the units
mismatch above: simple *normal* classes such as trousers, sneakers and the digit 1 get test
AUROCs of 0.15-0.29);
the IWAE NLL it corrects 0.913 / 0.726 / 0.820. The test AUROCs of the same run are in
``benchmarks/RESULTS.md`` ("One-class anomaly detection"): 0.972 / 0.923 for the default.
"""

from __future__ import annotations

import dataclasses
import math
import zlib

import numpy as np
import torch
from torch import Tensor

from latentkit.apps.anomaly import feature_errors
from latentkit.evaluation.diagnostics import posterior_means
from latentkit.evaluation.likelihood import log_likelihood
from latentkit.models.base import AbstractModel

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "TrainingReference",
    "complexity_corrected",
    "compressed_bits",
    "knn_distance",
    "oneclass_scores",
    "robust_location_scale",
    "robust_z",
]

#: the scores: "complexity", or sums of robust z-scores of the parts joined by "+"
METHODS: tuple[str, ...] = (
    "neighbors",
    "standardized",
    "neighbors+reconstruction",
    "neighbors+standardized",
    "neighbors+reconstruction+standardized",
    "complexity",
)
DEFAULT_METHOD = "neighbors+reconstruction"
#: added to each feature's mean training error before dividing by it ("standardized"), so
#: that features the model always reconstructs exactly (an image's empty border) do not
#: turn rounding noise into large scores; squared errors of grey values in [0, 1]
ERROR_FLOOR = 1e-3
_DISTANCE_BUDGET = 1 << 22  # entries of one (queries, reference) distance block: 32 MB


def robust_location_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column median and spread of ``x`` of shape (n_samples, n_features).

    The spread is the interquartile range; where it is 0 (a column with mostly one value), the
    standard deviation; where that is 0 too (a constant column), 1.
    """
    q25, median, q75 = np.percentile(x, [25, 50, 75], axis=0)
    spread = q75 - q25
    std = x.std(0)
    spread = np.where(spread > 0, spread, np.where(std > 0, std, 1.0))
    return median, spread


def robust_z(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``values`` standardised by the median and IQR of ``reference`` (both 1-D)."""
    location, spread = robust_location_scale(np.asarray(reference)[:, None])
    return (np.asarray(values) - location[0]) / spread[0]


def knn_distance(
    queries: np.ndarray, reference: np.ndarray, k: int, *, leave_self_out: bool = False
) -> np.ndarray:
    """Mean Euclidean distance of each query row to its ``k`` nearest rows of ``reference``.

    Parameters
    ----------
    queries : ndarray of shape (n_queries, d)
    reference : ndarray of shape (n_reference, d)
    k : int
        Neighbours (capped at the reference rows available).
    leave_self_out : bool
        The queries are the reference rows themselves: each row's own entry (the nearest, at
        distance 0) is left out, which gives the distances a new row would see.

    Returns
    -------
    ndarray of shape (n_queries,)
        Distances are computed in blocks of at most ``_DISTANCE_BUDGET`` entries, so memory
        stays bounded; the time grows with ``n_queries * n_reference``.
    """
    skip = 1 if leave_self_out and len(reference) > 1 else 0  # one row: its own distance
    k = min(k, len(reference) - skip)
    ref = torch.from_numpy(np.ascontiguousarray(reference))
    rows = max(1, _DISTANCE_BUDGET // max(1, len(reference)))
    out = []
    for start in range(0, len(queries), rows):
        block = torch.from_numpy(np.ascontiguousarray(queries[start : start + rows]))
        distances = torch.cdist(block, ref)  # (rows, n_reference)
        nearest = distances.topk(k + skip, dim=1, largest=False).values[:, skip:]
        out.append(nearest.mean(1))
    return torch.cat(out).numpy()


def compressed_bits(x: Tensor, *, level: int = 9) -> Tensor:
    """Length in bits of each image quantised to 8 bits and compressed by zlib.

    Parameters
    ----------
    x : Tensor of shape (N, *shape), values in [0, 1]
        Images (grey values are rounded to ``round(255 x)``, one byte each, in C order).
    level : int
        zlib compression level (0-9).

    Returns
    -------
    Tensor of shape (N,), float64
        ``8 * len(zlib.compress(bytes, level))`` per image (the 2-byte header and 4-byte
        checksum included: a constant that changes no ranking).
    """
    if not 0 <= level <= 9:
        raise ValueError(f"level must be a zlib level in 0..9, got {level}.")
    quantised = (x.detach().double().clamp(0, 1) * 255).round().to(torch.uint8).flatten(1)
    rows = quantised.cpu().numpy()
    return torch.tensor([8.0 * len(zlib.compress(r.tobytes(), level)) for r in rows],
                        dtype=torch.float64)  # fmt: skip


def complexity_corrected(nll: Tensor, x: Tensor) -> Tensor:
    """Serrà et al.'s ``S(x) = nll / ln 2 - L(x)``, shape (N,), float64.

    Parameters
    ----------
    nll : Tensor of shape (N,)
        Negative log-likelihoods of ``x`` in nats (e.g. the IWAE estimate).
    x : Tensor of shape (N, *shape), values in [0, 1]
        The images, for their compressed length :func:`compressed_bits`.
    """
    if nll.shape != (len(x),):
        raise ValueError(f"nll must have shape ({len(x)},), one per image; got {tuple(nll.shape)}.")
    return nll.detach().double().cpu() / math.log(2) - compressed_bits(x)


def _feature_errors(
    model: AbstractModel, x: Tensor, y: Tensor | None, batch_size: int
) -> np.ndarray:
    """Squared reconstruction error per feature, shape (N, D), float64."""
    return feature_errors(model, x, y=y, batch_size=batch_size).flatten(1).double().numpy()


@dataclasses.dataclass
class TrainingReference:
    """What the scores compare a sample with: codes, neighbour distances and reconstruction
    errors of the training data of the normal class.

    Build it with :meth:`fit` on the data the model was trained on.
    """

    codes: np.ndarray  # (n_train, latent_dim) posterior means, float32
    distances: np.ndarray  # (n_train,) leave-self-out neighbour distances
    errors: np.ndarray  # (n_train,) squared reconstruction errors, summed over features
    feature_scale: np.ndarray  # (D,) mean training error of each feature + ERROR_FLOOR
    standardized: np.ndarray  # (n_train,) squared errors divided by feature_scale, summed
    n_neighbors: int = 20

    @classmethod
    def fit(
        cls,
        model: AbstractModel,
        x: Tensor,
        *,
        y: Tensor | None = None,
        n_neighbors: int = 20,
        batch_size: int = 256,
    ) -> TrainingReference:
        """Reference of ``model`` on its training data ``x`` of shape (N, *input_shape)
        (``y`` of shape (N,): their labels, for conditional models)."""
        if n_neighbors < 1:
            raise ValueError(f"n_neighbors must be at least 1, got {n_neighbors}.")
        if len(x) < 2:
            raise ValueError(f"the training reference needs at least 2 samples, got {len(x)}.")
        codes = posterior_means(model, x, y=y, batch_size=batch_size).numpy()
        distances = knn_distance(codes, codes, n_neighbors, leave_self_out=True)
        errors = _feature_errors(model, x, y, batch_size)  # (N, D)
        scale = errors.mean(0) + ERROR_FLOOR
        return cls(codes, distances, errors.sum(1), scale, errors @ (1 / scale), n_neighbors)

    def neighbour_distance(
        self, codes: Tensor | np.ndarray, *, leave_self_out: bool = False
    ) -> np.ndarray:
        """Mean distance of each code (N, latent_dim) to its nearest training codes, (N,).
        ``leave_self_out``: the codes are training codes themselves, so each one's own
        distance (0) is left out, as for the reference's own distances."""
        queries = np.asarray(codes, dtype=self.codes.dtype)
        return knn_distance(queries, self.codes, self.n_neighbors, leave_self_out=leave_self_out)


def oneclass_scores(
    model: AbstractModel,
    x: Tensor,
    reference: TrainingReference | None = None,
    method: str = DEFAULT_METHOD,
    *,
    y: Tensor | None = None,
    k: int = 8,
    seed: int = 0,
    batch_size: int = 256,
    training_rows: bool = False,
) -> Tensor:
    """Per-sample anomaly scores, shape ``(N,)``, float64 (higher = more anomalous).

    Parameters
    ----------
    model : AbstractModel
        A model trained on normal data only (``"complexity"`` needs a likelihood model).
    x : Tensor of shape (N, *input_shape)
        Data to score (values in [0, 1] for ``"complexity"``).
    reference : TrainingReference, optional
        :meth:`TrainingReference.fit` on the training data; required except for
        ``"complexity"``.
    method : str, one of METHODS
        ``"complexity"``, or parts among ``"neighbors"``, ``"reconstruction"`` and
        ``"standardized"`` joined by ``+`` (see the module docstring).
    y : Tensor of shape (N,), optional
        Labels, for conditional models (which need them).
    k : int
        Importance samples of the IWAE NLL (``"complexity"``).
    seed : int
        Seed of the importance sampling (scores are reproducible).
    training_rows : bool
        ``x`` are rows of the reference's own training data: each row's own code is left out
        of its neighbours (as for the reference's distances), else it would sit at distance 0.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}.")
    if method == "complexity":
        generator = torch.Generator().manual_seed(seed)
        nll = -log_likelihood(model, x, k=k, y=y, batch_size=batch_size, generator=generator)
        return complexity_corrected(nll, x)
    if reference is None:
        raise ValueError(
            f"method {method!r} needs reference=TrainingReference.fit(model, training data)."
        )
    parts = method.split("+")
    if "standardized" in parts and model.capabilities.tabular:
        raise ValueError(
            f"method {method!r}: a mixed-table model's errors are per-column negative "
            "log-likelihoods, which may be negative, so they cannot be divided by their mean; "
            "use neighbors+reconstruction."
        )
    total = np.zeros(len(x))
    if "neighbors" in parts:
        codes = posterior_means(model, x, y=y, batch_size=batch_size).numpy()
        distance = reference.neighbour_distance(codes, leave_self_out=training_rows)
        total += robust_z(distance, reference.distances)
    if "reconstruction" in parts or "standardized" in parts:
        errors = _feature_errors(model, x, y, batch_size)  # (N, D)
        if "reconstruction" in parts:
            total += robust_z(errors.sum(1), reference.errors)
        if "standardized" in parts:
            total += robust_z(errors @ (1 / reference.feature_scale), reference.standardized)
    return torch.from_numpy(total)
