"""Report figures for tables: which features the model reconstructs badly, and which rows.

- :func:`plot_feature_errors`: a bar per feature of its mean squared reconstruction error, in
  the units the model sees (standardised by the run's scaler for a run trained by
  ``latentkit train``, so features are comparable: 1.0 is an error of one training standard
  deviation). Over :data:`MAX_BARS` features, the largest ones are drawn and the title says so.
- :func:`worst_rows_html`: the rows with the largest anomaly scores and, for each, the
  features with the largest errors, their values and their reconstructions (in the file's
  units when the caller can map rows back, as ``latentkit report`` does with the run's scaler).
- :func:`feature_errors_section` and :func:`row_scores_section` are the report's builders
  (registered in :mod:`latentkit.viz.sections`); the anomaly score of a row is its squared
  reconstruction error summed over features, the ``"reconstruction"`` score of
  :mod:`latentkit.apps.anomaly`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from latentkit.viz.charts import plot_anomaly_histogram
from latentkit.viz.context import Inapplicable, ReportContext
from latentkit.viz.grids import new_figure
from latentkit.viz.html import ReportSection

__all__ = [
    "MAX_BARS",
    "feature_errors_section",
    "plot_feature_errors",
    "row_scores_section",
    "shown_features",
    "worst_rows_html",
]

#: most features drawn in the per-feature error chart (the largest errors first beyond it)
MAX_BARS = 40
#: rows listed in the worst-rows table, and features named per row
WORST_ROWS, WORST_FEATURES = 10, 3


def shown_features(errors: np.ndarray) -> np.ndarray:
    """Indices of the features :func:`plot_feature_errors` draws, in table order: all of
    them, or the :data:`MAX_BARS` with the largest errors."""
    if len(errors) <= MAX_BARS:
        return np.arange(len(errors))
    return np.sort(np.argsort(-errors, kind="stable")[:MAX_BARS])


def plot_feature_errors(
    errors: torch.Tensor | np.ndarray,
    names: Sequence[str],
    *,
    units: str = "standardised units",
) -> Figure:
    """Horizontal bars of the mean squared reconstruction error of each feature.

    Parameters
    ----------
    errors : Tensor or ndarray of shape (D,)
        Mean squared error of each feature.
    names : sequence of str
        The feature names, ``len(names) == D``.
    units : str
        What the errors are measured in (shown on the axis).
    """
    values = np.asarray(
        errors.detach().cpu().double() if isinstance(errors, torch.Tensor) else errors, float
    )
    if values.ndim != 1 or values.size == 0 or len(names) != len(values):
        raise ValueError(
            f"errors must have shape (D,) with one name per feature; got {values.shape} and "
            f"{len(names)} names."
        )
    if not np.isfinite(values).all():
        raise ValueError("errors contain NaN or infinite values.")
    order = shown_features(values)
    title = f"Reconstruction error per feature ({len(values)} features)"
    if len(order) < len(values):
        title = f"Reconstruction error: the {MAX_BARS} worst of {len(values)} features"
    fig = new_figure(7.0, float(np.clip(0.24 * len(order) + 1.4, 2.6, 11.0)))
    ax = fig.add_subplot()
    rows = np.arange(len(order))
    worst = values[order] >= np.sort(values)[-min(WORST_FEATURES, len(values))]
    ax.barh(rows, values[order], color=np.where(worst, "tab:red", "tab:blue"))
    ax.set_yticks(rows)
    ax.set_yticklabels([names[i] for i in order], fontsize="small")
    ax.invert_yaxis()  # the first feature at the top, as in the file
    ax.set_xlabel(f"mean squared error ({units})")
    ax.set_title(title, fontsize="medium")
    ax.grid(axis="x", alpha=0.3)
    return fig


def _number(value: float) -> str:
    return f"{value:.4g}"


def worst_rows_html(
    scores: torch.Tensor,
    errors: torch.Tensor,
    values: torch.Tensor,
    reconstructions: torch.Tensor,
    names: Sequence[str],
    *,
    row_ids: Sequence[int] | None = None,
    rows: int = WORST_ROWS,
    features: int = WORST_FEATURES,
    units: str = "standardised units",
) -> str:
    """A ``<table>`` of the ``rows`` highest-scoring rows with their ``features`` worst features.

    Parameters
    ----------
    scores : Tensor of shape (N,)
        Anomaly score of each row.
    errors : Tensor of shape (N, D)
        Squared reconstruction error of each feature of each row.
    values, reconstructions : Tensor of shape (N, D)
        The rows and their reconstructions, in the units to show.
    names : sequence of str
        Feature names, ``len(names) == D``.
    row_ids : sequence of int, optional
        The row number shown for each of the N rows (default ``0 .. N-1``).
    """
    n, d = errors.shape
    top = torch.argsort(scores.double(), descending=True, stable=True)[: min(rows, n)]
    k = min(features, d)
    head = "".join(f"<th>feature {j + 1}: value (reconstruction)</th>" for j in range(k))
    out = [
        "<table>",
        f"<caption>The {len(top)} rows with the largest scores and their {k} worst features "
        f"({html.escape(units)})</caption>",
        f"<tr><th>row</th><th>score</th>{head}</tr>",
    ]
    for i in top.tolist():
        row = i if row_ids is None else int(row_ids[i])
        worst = torch.argsort(errors[i].double(), descending=True, stable=True)[:k].tolist()
        cells = "".join(
            f"<td>{html.escape(names[j])} = {_number(float(values[i, j]))} "
            f"({_number(float(reconstructions[i, j]))})</td>"
            for j in worst
        )
        out.append(f'<tr><td class="num">{row}</td><td class="num">{_number(float(scores[i]))}'
                   f"</td>{cells}</tr>")  # fmt: skip
    out.append("</table>")
    return "\n".join(out)


def feature_errors_section(ctx: ReportContext) -> ReportSection | str:
    if ctx.data.is_image or ctx.sequence:
        return Inapplicable("tables")
    per_feature = ctx.feature_errors.mean(0)  # (D,)
    fig = plot_feature_errors(per_feature, ctx.feature_names)
    text = (
        f"<p>Mean squared reconstruction error of each feature over {len(ctx.data)} rows, in "
        "the units the model sees (for a run trained by <code>latentkit train</code>, "
        "standardised by the run's scaler: 1.0 is an error of one training standard "
        f"deviation); the {min(WORST_FEATURES, len(per_feature))} largest are red. The model "
        "has learnt least about the features it reconstructs worst.</p>"
    )
    if ctx.model.capabilities.tabular:  # codes of a mixed table: per-column likelihoods
        text = (
            f"<p>Mean negative log-likelihood of each column's observed values over "
            f"{len(ctx.data)} rows, at the posterior mean (nats; a missing value counts 0); "
            f"the {min(WORST_FEATURES, len(per_feature))} largest are red.</p>"
        )
    bars = shown_features(per_feature.double().numpy())
    alt = f"{fig.axes[0].get_title()}: " + ", ".join(
        f"{ctx.feature_names[j]} {float(per_feature[j]):.3g}" for j in bars.tolist()
    )  # the bars as text, in the figure's order
    return ReportSection(
        "Reconstruction error per feature", text, [fig], alts=[alt], id="feature-errors"
    )


def row_scores_section(ctx: ReportContext) -> ReportSection | str:
    if ctx.data.is_image or ctx.sequence:
        return Inapplicable("tables")
    scores = ctx.row_scores  # (N,)
    if not bool(torch.isfinite(scores).all()):
        return "some rows have non-finite reconstruction errors"
    fig = plot_anomaly_histogram(
        scores, score_name="reconstruction error (sum of squared errors)",
        title=f"Anomaly scores of {len(scores)} rows",
    )  # fmt: skip
    x, recon = ctx.data.x.float(), ctx.reconstructions
    units = "standardised units"
    if ctx.to_original is not None:
        x, recon = ctx.to_original(x), ctx.to_original(recon)
        units = "the file's units"
    table = worst_rows_html(
        scores, ctx.feature_errors, x, recon, ctx.feature_names,
        row_ids=None if ctx.row_ids is None else ctx.row_ids.tolist(), units=units,
    )  # fmt: skip
    text = (
        "<p>The anomaly score of a row is its squared reconstruction error summed over "
        "features (standardised units; higher is more unusual). Rows are numbered from 0 in "
        "the data's order.</p>"
    )
    ax = fig.axes[0]
    alt = f"{ax.get_title()}: histogram of the {ax.get_xlabel()}"
    return ReportSection(
        "Anomaly scores of the rows", text + table, [fig], alts=[alt], id="row-scores"
    )
