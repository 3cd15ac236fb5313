"""Charts of numbers: latent scatter plots, training curves, KL per dimension, anomaly scores.

Like :mod:`latentkit.viz.plots`, every function takes computed values and returns a
:class:`matplotlib.figure.Figure`. Latent codes of more than two dimensions are projected to
2-D with a named projection, PCA by default (t-SNE, van der Maaten and Hinton 2008, on
request: slower and not a linear map), and the projection's name is written in the axis
labels. Scatter plots draw a seeded random subset of at most ``max_points`` points so that
they stay fast and readable on large data.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from latentkit.errors import DataError
from latentkit.viz.grids import new_figure

__all__ = [
    "plot_anomaly_histogram",
    "plot_kl_per_dimension",
    "plot_latent_scatter",
    "plot_roc",
    "plot_training_curves",
    "read_metrics",
]

ArrayLike = torch.Tensor | np.ndarray | Sequence[float]
Projection = Literal["pca", "tsne"]
_PROJECTION_NAMES = {"pca": "PCA", "tsne": "t-SNE"}
#: metric keys such as ``train_loss``, ``val_kl`` (trainer) or ``train/loss``
_METRIC_KEY = re.compile(r"^(train|val)[_/](.+)$")


def _vector(values: ArrayLike, what: str) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().double().numpy()
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{what} must be a non-empty vector of shape (N,), got {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contains NaN or infinite values.")
    return array


def plot_latent_scatter(
    codes: ArrayLike,
    labels: ArrayLike | None = None,
    *,
    projection: Projection = "pca",
    max_points: int = 2000,
    seed: int = 0,
    class_names: Sequence[str] | None = None,
) -> Figure:
    """Scatter plot of latent codes, coloured by label.

    Parameters
    ----------
    codes : Tensor or ndarray of shape (N, D), D >= 2
        Codes (posterior means); projected to 2-D with ``projection`` when ``D > 2``.
    labels : Tensor or ndarray of shape (N,), optional
        Integer classes used for colours and the legend.
    projection : {"pca", "tsne"}
        How to reduce ``D > 2`` dimensions to two.
    max_points : int
        Draw a random subset (seeded by ``seed``) of at most this many points.
    class_names : sequence of str, optional
        Legend entry of each class index.
    """
    if projection not in _PROJECTION_NAMES:
        raise ValueError(
            f"projection must be one of {list(_PROJECTION_NAMES)}, got {projection!r}."
        )
    if isinstance(codes, torch.Tensor):
        codes = codes.detach().cpu().double().numpy()
    z = np.asarray(codes, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] < 2 or len(z) < 2:
        raise ValueError(
            f"codes must have shape (N, D) with N >= 2 and D >= 2, got {z.shape}; "
            "a 1-D latent space has no scatter plot (plot a histogram of the codes instead)."
        )
    if not np.isfinite(z).all():
        raise ValueError("codes contain NaN or infinite values.")
    y = None if labels is None else _vector(labels, "labels").astype(np.int64)
    if y is not None and len(y) != len(z):
        raise ValueError(f"{len(z)} codes but {len(y)} labels; they must have the same count.")
    if len(z) > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(len(z), max_points, replace=False))
        z, y = z[keep], None if y is None else y[keep]
    if z.shape[1] == 2:
        xy, axis = z, ["z[0]", "z[1]"]
        title = "Latent codes"
    else:
        xy = _project(z, projection, seed)
        name = _PROJECTION_NAMES[projection]
        axis = [f"{name} 1", f"{name} 2"]
        title = f"Latent codes ({name} of {z.shape[1]}-D codes)"
    fig = new_figure(6.0, 5.0)
    ax = fig.add_subplot()
    if y is None:
        ax.scatter(xy[:, 0], xy[:, 1], s=6, alpha=0.6, linewidths=0)
    else:
        classes = np.unique(y)
        cmap = "tab10" if len(classes) <= 10 else "tab20"
        points = ax.scatter(
            xy[:, 0], xy[:, 1], c=y, cmap=cmap, s=6, alpha=0.7, linewidths=0,
            vmin=classes.min() - 0.5, vmax=classes.max() + 0.5,
        )  # fmt: skip
        if len(classes) <= 20:
            names = [class_names[c] if class_names else str(c) for c in classes]
            handles = [ax.scatter([], [], color=points.cmap(points.norm(c)), s=20) for c in classes]
            ax.legend(handles, names, title="label", loc="center left", bbox_to_anchor=(1, 0.5))
        else:
            fig.colorbar(points, ax=ax, label="label")
    ax.set_xlabel(axis[0])
    ax.set_ylabel(axis[1])
    ax.set_title(title)
    return fig


def _project(z: np.ndarray, projection: Projection, seed: int) -> np.ndarray:
    """2-D projection of ``(N, D)`` codes: ``(N, 2)``."""
    if projection == "pca":  # top two principal axes by SVD, signs fixed for reproducibility
        centered = z - z.mean(0)
        _, _, vt = np.linalg.svd(centered, full_matrices=False)  # vt: (min(N, D), D)
        axes = vt[:2] * np.sign(vt[:2, [0]] + (vt[:2, [0]] == 0))
        return centered @ axes.T
    from sklearn.manifold import TSNE

    perplexity = float(min(30.0, max(2.0, (len(z) - 1) / 3)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(
        z
    )


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a ``metrics.jsonl`` file (one JSON object per line; blank lines skipped).

    The trainer appends one line per epoch; a last line that opens an object but has neither
    its end nor its newline is an append cut short (the process was killed mid-write) and is
    left out, as the next training run drops it too. Any other malformed line is an error.
    """
    rows = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc}); expected JSON lines.") from exc
    last = text[text.rfind("\n") + 1 :]
    if last.startswith("{"):  # an object without its newline: a torn last append
        try:
            json.loads(last)
        except (json.JSONDecodeError, RecursionError):
            text = text[: len(text) - len(last)]
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}, line {number}: not valid JSON ({exc.msg}).") from exc
        except RecursionError as exc:
            raise DataError(f"{path}, line {number}: JSON nested too deeply.") from exc
        if not isinstance(row, dict):
            raise DataError(f"{path}, line {number}: expected a JSON object, got {row!r:.40}.")
        rows.append(row)
    return rows


def _series(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, np.ndarray]]:
    """``{term: {"train"|"val": values per row (NaN where missing)}}``."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for key in dict.fromkeys(k for row in rows for k in row):
        match = _METRIC_KEY.match(key)
        if match is None:
            continue
        split, term = match.groups()
        values = [row.get(key) for row in rows]
        out.setdefault(term, {})[split] = np.array(
            [v if isinstance(v, int | float) and math.isfinite(v) else np.nan for v in values],
            dtype=float,
        )
    return out


def plot_training_curves(
    rows: Sequence[Mapping[str, Any]],
    *,
    terms: Sequence[str] = ("loss", "reconstruction", "kl"),
) -> Figure:
    """Per-epoch training (solid) and validation (dashed) curves, one panel per term.

    Parameters
    ----------
    rows : sequence of dict
        The records of ``metrics.jsonl`` (see :func:`read_metrics`): ``epoch`` and keys like
        ``train_loss``, ``val_kl`` (``train/loss`` is accepted too).
    terms : sequence of str
        Which terms to draw, in order; terms absent from ``rows`` are left out.
    """
    if not rows:
        raise ValueError("rows is empty: need at least one epoch of metrics.")
    series = _series(rows)
    shown = [t for t in terms if t in series]
    if not shown:
        found = sorted(series) or "none"
        raise ValueError(f"none of the terms {list(terms)} is in the metrics (found: {found}).")
    epochs = np.array([row.get("epoch", i + 1) for i, row in enumerate(rows)], dtype=float)
    fig = new_figure(3.6 * len(shown), 3.4)
    for i, term in enumerate(shown):
        ax = fig.add_subplot(1, len(shown), i + 1)
        for split, style in (("train", "-"), ("val", "--")):
            if split in series[term]:
                ax.plot(epochs, series[term][split], style, marker=".", label=split)
        ax.set_title(term)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("Training curves (per-sample means)")
    return fig


def plot_kl_per_dimension(
    kl: ArrayLike, *, active: ArrayLike | None = None, threshold: float = 0.01
) -> Figure:
    """Bar chart of the mean KL (nats) of each latent dimension, active units highlighted.

    Parameters
    ----------
    kl : Tensor or ndarray of shape (D,)
        From :func:`latentkit.evaluation.kl_per_dimension`.
    active : Tensor or ndarray of shape (D,), bool, optional
        Which dimensions are active (Burda et al. 2015: posterior-mean variance above 0.01).
        Without it, a dimension counts as active when its KL exceeds ``threshold`` nats.
    """
    values = _vector(kl, "kl")
    if active is None:
        mask = values > threshold
        rule = f"KL > {threshold:g} nats"
    else:
        mask = _vector(active, "active") > 0
        if len(mask) != len(values):
            raise ValueError(f"active has {len(mask)} entries but kl has {len(values)}.")
        rule = "posterior-mean variance > 0.01"
    dims = np.arange(len(values))
    fig = new_figure(float(np.clip(0.25 * len(values) + 2.5, 5.0, 12.0)), 3.6)
    ax = fig.add_subplot()
    ax.bar(dims[mask], values[mask], color="tab:blue", label=f"active ({rule})")
    if (~mask).any():  # no legend entry for a category with no bar
        ax.bar(dims[~mask], values[~mask], color="tab:gray", label="inactive (collapsed)")
    if len(values) <= 32:
        ax.set_xticks(dims)
    ax.set_xlabel("latent dimension")
    ax.set_ylabel("KL (nats)")
    ax.set_title(f"KL per latent dimension: {int(mask.sum())} of {len(values)} active")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    return fig


def plot_anomaly_histogram(
    normal: ArrayLike,
    anomalous: ArrayLike,
    *,
    threshold: float | None = None,
    score_name: str = "anomaly score",
    bins: int = 50,
) -> Figure:
    """Overlaid density histograms of the scores of normal and anomalous data.

    Parameters
    ----------
    normal, anomalous : Tensor or ndarray of shape (N,) and (M,)
        Scores (higher = more anomalous).
    threshold : float, optional
        Decision threshold, drawn as a vertical line.
    """
    a, b = _vector(normal, "normal scores"), _vector(anomalous, "anomalous scores")
    edges = np.histogram_bin_edges(np.concatenate([a, b]), bins=bins)
    fig = new_figure(6.0, 3.8)
    ax = fig.add_subplot()
    ax.hist(a, bins=edges, density=True, alpha=0.6, label=f"normal (n={len(a)})")
    ax.hist(b, bins=edges, density=True, alpha=0.6, label=f"anomalous (n={len(b)})")
    if threshold is not None:
        ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.3g}")
    ax.set_xlabel(score_name)
    ax.set_ylabel("density")
    ax.set_title("Anomaly scores")
    ax.legend()
    return fig


def plot_roc(scores: ArrayLike, is_anomaly: ArrayLike) -> Figure:
    """ROC curve of anomaly ``scores`` ``(N,)`` against 0/1 labels ``is_anomaly`` ``(N,)``."""
    from sklearn.metrics import roc_curve

    from latentkit.evaluation.metrics import auroc

    s = _vector(scores, "scores")
    y = _vector(is_anomaly, "is_anomaly")
    if len(s) != len(y):
        raise ValueError(f"{len(s)} scores but {len(y)} labels; they must have the same count.")
    if not np.isin(y, (0, 1)).all() or y.min() == y.max():
        raise ValueError("is_anomaly must hold 0/1 (or bool) values with both classes present.")
    fpr, tpr, _ = roc_curve(y.astype(int), s)
    fig = new_figure(4.6, 4.4)
    ax = fig.add_subplot()
    ax.plot(fpr, tpr, label=f"AUROC {auroc(s, y.astype(int)):.3f}")
    ax.plot([0, 1], [0, 1], ":", color="gray", label="chance")
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_title("ROC curve")
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return fig
