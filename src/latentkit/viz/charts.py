"""Charts of numbers: latent scatter plots, training curves, KL per dimension, anomaly scores.

Like :mod:`latentkit.viz.plots`, every function takes computed values and returns a
:class:`matplotlib.figure.Figure`. Latent codes of more than two dimensions are mapped to the
plane by :func:`latentkit.viz.maps.latent_map` (t-SNE with openTSNE when installed, PCA
otherwise or on request), and the method is named in the title and the axis labels. Scatter
plots draw a seeded random subset of at most ``max_points`` points so that they stay fast and
readable on large data. Score histograms switch to a logarithmic axis (log-spaced bins) when
positive scores span more than two orders of magnitude (:func:`wants_log_axis`), so that a
few huge scores do not squeeze every other one into the first bar.
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
from latentkit.viz.maps import MAP_METHODS, latent_map

__all__ = [
    "plot_anomaly_histogram",
    "plot_kl_per_dimension",
    "plot_latent_scatter",
    "plot_roc",
    "plot_training_curves",
    "read_metrics",
    "wants_log_axis",
]

ArrayLike = torch.Tensor | np.ndarray | Sequence[float]
Projection = Literal["auto", "tsne", "pca"]
#: the figure label of a latent scatter plot (lets a report see that a caller drew one)
LATENT_SCATTER_LABEL = "latentkit:latent-scatter"
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
    projection: Projection = "auto",
    max_points: int = 2000,
    seed: int = 0,
    class_names: Sequence[str] | None = None,
    values: ArrayLike | None = None,
    value_name: str = "value",
) -> Figure:
    """Scatter plot of latent codes, coloured by label (or by a value per point).

    Parameters
    ----------
    codes : Tensor or ndarray of shape (N, D), D >= 2
        Codes (posterior means); mapped to 2-D with ``projection`` when ``D > 2``.
    labels : Tensor or ndarray of shape (N,), optional
        Integer classes used for colours and the legend.
    projection : {"auto", "tsne", "pca"}
        How to map ``D > 2`` dimensions to two (see :func:`latentkit.viz.maps.latent_map`);
        the method is named in the title and axis labels.
    max_points : int
        Draw a random subset (seeded by ``seed``) of at most this many points.
    class_names : sequence of str, optional
        Legend entry of each class index.
    values : Tensor or ndarray of shape (N,), optional
        Without labels: a number per point (e.g. an anomaly score) shown on a colour bar named
        ``value_name`` (log-scaled when it spans orders of magnitude).
    """
    if projection not in MAP_METHODS:
        raise ValueError(f"projection must be one of {list(MAP_METHODS)}, got {projection!r}.")
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
    v = None if values is None or y is not None else _vector(values, "values")
    for name, other in (("labels", y), ("values", v)):
        if other is not None and len(other) != len(z):
            raise ValueError(
                f"{len(z)} codes but {len(other)} {name}; they must have the same count."
            )
    if len(z) > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(len(z), max_points, replace=False))
        z = z[keep]
        y = None if y is None else y[keep]
        v = None if v is None else v[keep]
    mapped = latent_map(z, projection, seed=seed)
    xy = mapped.points
    fig = new_figure(6.0, 5.0)
    fig.set_label(LATENT_SCATTER_LABEL)
    ax = fig.add_subplot()
    if y is not None:
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
    elif v is not None:
        from matplotlib.colors import LogNorm

        norm = LogNorm(v.min(), v.max()) if wants_log_axis(v) else None
        order = np.argsort(v)  # the largest values drawn last, on top
        points = ax.scatter(
            xy[order, 0], xy[order, 1], c=v[order], cmap="viridis", norm=norm, s=7, alpha=0.8,
            linewidths=0,
        )  # fmt: skip
        fig.colorbar(points, ax=ax, label=value_name)
    else:
        ax.scatter(xy[:, 0], xy[:, 1], s=6, alpha=0.6, linewidths=0)
    ax.set_xlabel(mapped.axis_labels[0])
    ax.set_ylabel(mapped.axis_labels[1])
    title = "Latent codes"
    if mapped.method != "latent coordinates":
        title += f": {mapped.method} of {mapped.dim}-D codes"
    if mapped.explained is not None:
        title += f" ({mapped.explained:.0%} of the variance)"
    if mapped.note:
        title += f"\n{mapped.note}"
    ax.set_title(title, fontsize="medium")
    return fig


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


def wants_log_axis(scores: np.ndarray, *, orders: float = 2.0) -> bool:
    """Whether ``scores`` need a log axis: all positive, and the largest more than
    ``10**orders`` times the smallest."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size < 2 or not (scores > 0).all():
        return False
    return bool(scores.max() > 10.0**orders * scores.min())


def plot_anomaly_histogram(
    normal: ArrayLike,
    anomalous: ArrayLike | None = None,
    *,
    threshold: float | None = None,
    score_name: str = "anomaly score",
    bins: int = 50,
    log: bool | None = None,
    title: str = "Anomaly scores",
) -> Figure:
    """Histograms of the scores of normal and anomalous data (overlaid, each summing to 1), or
    of one set of scores (counts) when ``anomalous`` is None.

    Parameters
    ----------
    normal : Tensor or ndarray of shape (N,)
        Scores (higher = more anomalous): of normal data, or of all the rows scored.
    anomalous : Tensor or ndarray of shape (M,), optional
        Scores of known anomalies.
    threshold : float, optional
        Decision threshold, drawn as a vertical line.
    log : bool, optional
        Log-scaled score axis with log-spaced bins; default :func:`wants_log_axis` of all the
        scores (positive and spanning more than two orders of magnitude). The axis label says
        so.
    """
    a = _vector(normal, "normal scores")
    b = None if anomalous is None else _vector(anomalous, "anomalous scores")
    every = a if b is None else np.concatenate([a, b])
    if log is None:
        log = wants_log_axis(every)
    elif log and not (every > 0).all():
        raise ValueError("log=True needs positive scores; some are <= 0.")
    if log:
        lo, hi = every.min(), every.max()
        edges = np.geomspace(lo, hi if hi > lo else lo * 1.01, bins + 1)
    else:
        edges = np.histogram_bin_edges(every, bins=bins)
    fig = new_figure(6.0, 3.8)
    ax = fig.add_subplot()
    if b is None:
        ax.hist(a, bins=edges, alpha=0.8, label=f"rows (n={len(a)})")
        ax.set_ylabel("rows")
    else:
        # each set sums to 1 (a density would shrink the wide bins of a log axis)
        for scores, name in ((a, "normal"), (b, "anomalous")):
            weights = np.full(len(scores), 1.0 / len(scores))
            ax.hist(scores, bins=edges, weights=weights, alpha=0.6,
                    label=f"{name} (n={len(scores)})")  # fmt: skip
        ax.set_ylabel("fraction of each set")
    if threshold is not None:
        ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.3g}")
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(f"{score_name} (log scale)" if log else score_name)
    ax.set_title(title)
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
