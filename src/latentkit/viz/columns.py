"""Report section for a mixed table: each column's distribution, real against synthetic.

For a run of the mixed-table model (``capabilities.tabular``, the data's schema in
``data.meta["schema"]``), rows are drawn from the model (:func:`latentkit.apps.synthesize.
synthesize`, as many as the evaluation rows, at most :data:`MAX_ROWS`) and compared column by
column with the evaluation rows: numbers as histograms on shared bins, categories as the share
of each level (the most frequent :data:`MAX_LEVELS`). The table beside gives each column's
distance: the Kolmogorov-Smirnov statistic for numbers and the total variation distance for
categories (0: the same distribution; sdmetrics' "column shapes" score is 1 minus these).
"""

from __future__ import annotations

import numpy as np
import torch

from latentkit.viz.context import Inapplicable, ReportContext
from latentkit.viz.grids import new_figure
from latentkit.viz.html import ReportSection, table_html

__all__ = ["MAX_COLUMNS", "column_distance", "columns_section"]

MAX_COLUMNS = 12  # columns drawn (the first ones; the table lists every column)
MAX_LEVELS = 10  # levels drawn per category
MAX_ROWS = 5000  # synthetic rows drawn


def column_distance(real: np.ndarray, synthetic: np.ndarray, numeric: bool) -> float:
    """KS statistic (numbers) or total variation distance (categories) of two samples,
    missing values left out."""
    if numeric:
        a = np.sort(real.astype(float)[~np.isnan(real.astype(float))])
        b = np.sort(synthetic.astype(float)[~np.isnan(synthetic.astype(float))])
        grid = np.concatenate([a, b])
        cdf_a = np.searchsorted(a, grid, side="right") / len(a)
        cdf_b = np.searchsorted(b, grid, side="right") / len(b)
        return float(np.abs(cdf_a - cdf_b).max())
    a = [v for v in real.tolist() if v is not None and v == v]
    b = [v for v in synthetic.tolist() if v is not None and v == v]
    levels = {str(v) for v in a} | {str(v) for v in b}
    share_a = {k: 0.0 for k in levels}
    share_b = dict(share_a)
    for v in a:
        share_a[str(v)] += 1 / len(a)
    for v in b:
        share_b[str(v)] += 1 / len(b)
    return 0.5 * sum(abs(share_a[k] - share_b[k]) for k in levels)


def columns_section(ctx: ReportContext) -> ReportSection | str | None:
    from latentkit.apps.synthesize import synthesize
    from latentkit.data.schema import TableSchema

    if ctx.data.is_image or ctx.sequence:
        return Inapplicable("tables")
    if not ctx.model.capabilities.tabular or "schema" not in ctx.data.meta:
        return None  # a table of numbers: nothing to say
    schema = TableSchema.from_dict(ctx.data.meta["schema"])
    real = schema.decode(ctx.data.x.double().numpy())
    n = min(len(real), MAX_ROWS)
    generator = torch.Generator().manual_seed(ctx.seed)
    synthetic = synthesize(ctx.model, schema, n, generator=generator)
    shown = schema.columns[:MAX_COLUMNS]
    rows = max(1, -(-len(shown) // 3))
    fig = new_figure(9.0, 2.4 * rows)
    distances = []
    for i, spec in enumerate(schema.columns):
        a, b = real[spec.name].to_numpy(dtype=object), synthetic[spec.name].to_numpy(dtype=object)
        distances.append(column_distance(a, b, spec.is_number))
        if i >= MAX_COLUMNS:
            continue
        ax = fig.add_subplot(rows, 3, i + 1)
        if spec.is_number:
            a, b = a.astype(float), b.astype(float)
            low, high = np.nanpercentile(a, [1, 99])
            bins = np.linspace(low, high if high > low else low + 1, 30)
            ax.hist(a[~np.isnan(a)], bins=bins, density=True, alpha=0.5, label="real")
            ax.hist(b, bins=bins, density=True, histtype="step", linewidth=1.5, label="synthetic")
        else:
            levels = real[spec.name].astype(str).value_counts().index[:MAX_LEVELS].tolist()
            share_a = real[spec.name].astype(str).value_counts(normalize=True)
            share_b = synthetic[spec.name].astype(str).value_counts(normalize=True)
            at = np.arange(len(levels))
            ax.bar(at - 0.2, [share_a.get(k, 0.0) for k in levels], 0.4, label="real")
            ax.bar(at + 0.2, [share_b.get(k, 0.0) for k in levels], 0.4, label="synthetic")
            ax.set_xticks(at, [k[:10] for k in levels], rotation=60, fontsize=6)
        ax.set_title(f"{spec.name} ({distances[-1]:.2f})", fontsize=8)
        ax.tick_params(labelsize=6)
        if i == 0:
            ax.legend(fontsize=6)
    pairs = zip(schema.columns, distances, strict=True)
    table = table_html(
        [(f"{spec.name} ({spec.kind})", f"{d:.3f}") for spec, d in pairs],
        header=("column", "distance (KS or TV)"),
    )
    text = (
        f"<p>{len(real)} evaluation rows against {n} rows drawn from the model, column by "
        "column: numbers as histograms, categories as level shares (the most frequent "
        f"{MAX_LEVELS}); the first {len(shown)} columns are drawn. Distance: Kolmogorov-"
        "Smirnov for numbers, total variation for categories (0 is identical).</p>" + table
    )
    alt = "per-column histograms and level shares, real against synthetic rows: " + ", ".join(
        f"{spec.name} {d:.2f}" for spec, d in zip(schema.columns, distances, strict=True)
    )
    return ReportSection("Columns: real and synthetic", text, [fig], alts=[alt], id="columns")
