"""The built-in sections of a model report and the numbers and pictures they show.

Each builder takes the shared :class:`~latentkit.viz.context.ReportContext` and returns a
:class:`~latentkit.viz.html.ReportSection`, or a string saying why the section does not apply
to this model and data (it is then listed as "not shown" in the report's footer), or None
when the caller did not pass the optional results it draws (anomaly scores, restorations),
which needs no note. A section for another kind of data returns
:class:`~latentkit.viz.context.Inapplicable`: image figures on a table are stated once, table
figures on images are left out silently. Builders are looked up in the :data:`BUILDERS`
registry by section id, in report order.

Which figures apply: reconstructions and interpolations for every image model; samples and
traversals for the VAE family on images (rows ordered by KL); the attribute vector (mean code
of label 1 minus that of label 0, added to label-0 inputs at several strengths) for images with
binary labels, or with factor labels whose label is a factor (dsprites: ellipse - square), and
a model not conditioned on them; KL per dimension for the VAE family; a
factor-by-latent information heatmap for data with factor labels; the decoded
manifold only for 2-D latent spaces; the latent map for every model with a code of two or more
dimensions (coloured by label, or for an unlabelled table by each row's anomaly score); for
tables, the reconstruction error per feature and the rows' anomaly scores with the worst rows
(:mod:`latentkit.viz.tables`); for sequence models samples, reconstructions and an
interpolation drawn as molecules or written as text (:mod:`latentkit.viz.sequences`, in place of
the image and table figures); training curves when there is a ``metrics.jsonl``; anomaly and
restoration panels when the caller passes their results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from latentkit.evaluation.evaluate import batched
from latentkit.viz import charts, plots
from latentkit.viz.columns import columns_section
from latentkit.viz.context import (
    Inapplicable,
    ReportContext,
    active_mask,
    evaluate,
    latent_traversals,
)
from latentkit.viz.factors import factors_section, traversal_labels
from latentkit.viz.html import ReportSection, json_html, table_html
from latentkit.viz.sequences import sequences_section
from latentkit.viz.tables import feature_errors_section, row_scores_section

__all__ = ["BUILDERS"]


def config_section(ctx: ReportContext) -> ReportSection:
    return ReportSection("Configuration", json_html(ctx.document), id="config")


def _final_training(rows: list[dict[str, Any]]) -> dict[str, Any]:
    last = rows[-1]
    out = {"epochs": last.get("epoch", len(rows))}
    for key, value in last.items():
        if key.startswith(("train", "val")) and isinstance(value, int | float | None):
            out[key] = value
    return out


def metrics_section(ctx: ReportContext) -> ReportSection:
    parts = []
    if ctx.rows:
        parts.append(table_html(_final_training(ctx.rows), caption="Training (final epoch)"))
    caption = f"Evaluation on {ctx.data.name} ({len(ctx.data)} points)"
    parts.append(table_html(evaluate(ctx), caption=caption))
    body = '<div class="tables">' + "\n".join(parts) + "</div>"
    return ReportSection("Metrics", body, id="metrics")


def training_curves_section(ctx: ReportContext) -> ReportSection | str:
    if not ctx.rows:
        return "no metrics.jsonl"
    return ReportSection(
        "Training curves", figures=[charts.plot_training_curves(ctx.rows)], id="training-curves"
    )


def reconstructions_section(ctx: ReportContext) -> ReportSection | str:
    if not ctx.data.is_image:
        return Inapplicable("images")
    n = min(32, len(ctx.data))
    x = ctx.data.x[:n]
    y = None if ctx.labels is None else ctx.labels[:n]
    device = ctx.model.device
    with torch.inference_mode():
        r = ctx.model.reconstruct(x.to(device), None if y is None else y.to(device))
    fig = plots.plot_reconstructions(x, r.cpu(), n=n)
    return ReportSection("Reconstructions", figures=[fig], id="reconstructions")


def samples_section(ctx: ReportContext) -> ReportSection | str:
    from latentkit.apps.generate import generate

    if not ctx.data.is_image:
        return Inapplicable("images")
    if not ctx.generative:
        return "the model has no prior to sample from"
    y = None
    if ctx.model.needs_labels:
        classes = int(getattr(ctx.model.config, "num_classes", ctx.data.num_classes or 1))
        y = torch.arange(64) % classes
    fig = plots.plot_samples(generate(ctx.model, 64, y=y, seed=ctx.seed))
    caption = "one column per class" if y is not None else "decoded means of prior samples"
    return ReportSection("Samples", figures=[fig], captions=[caption], id="samples")


def manifold_section(ctx: ReportContext) -> ReportSection | str:
    from latentkit.apps.latent import latent_grid

    if not ctx.data.is_image:
        return Inapplicable("images")
    if ctx.model.latent_dim != 2:
        return f"latent_dim is {ctx.model.latent_dim}, the manifold needs 2"
    if ctx.model.needs_labels:
        return "needs an unconditional model"
    fig = plots.plot_manifold(latent_grid(ctx.model, 15))
    return ReportSection("Latent manifold", figures=[fig], id="manifold")


def latent_scatter_section(ctx: ReportContext) -> ReportSection | str:
    if ctx.model.latent_dim < 2:
        return "a 1-D latent space has no map"
    if len(ctx.data) < 2:
        return "needs at least two data points"
    names = ctx.data.meta.get("class_names")
    values = None
    if ctx.data.y is None and not ctx.data.is_image and not ctx.sequence:  # tables only: the
        scores = ctx.row_scores  # squared errors of token ids would mean nothing
        values = scores if bool(torch.isfinite(scores).all()) else None
    fig = charts.plot_latent_scatter(
        ctx.codes, ctx.data.y, max_points=ctx.max_points, seed=ctx.seed,
        class_names=names if isinstance(names, list) else None,
        values=values, value_name="anomaly score (reconstruction error)",
    )  # fmt: skip
    alt = fig.axes[0].get_title().replace("\n", "; ")  # names the map's method
    return ReportSection("Latent space", figures=[fig], alts=[alt], id="latent-scatter")


def traversals_section(ctx: ReportContext) -> ReportSection | str:
    if not ctx.data.is_image:
        return Inapplicable("images")
    if not ctx.gaussian:
        return "traversals are drawn for the VAE family with a Gaussian posterior"
    y = None if ctx.labels is None else ctx.labels[:1]
    values = torch.linspace(-3.0, 3.0, 9)
    dims = ctx.latent_order[:10]
    images = latent_traversals(ctx.model, ctx.data.x[:1], dims=dims, values=values, y=y)
    labels = traversal_labels(dims, ctx.kl, ctx.factor_labels)
    fig = plots.plot_traversals(images, values, dims=dims, labels=labels)
    caption = (
        "the first input's code with one dimension set to each value; rows by KL (nats), "
        "largest first" + (", with the factor each latent tells most about" if
                           ctx.factor_labels is not None else "")
    )  # fmt: skip
    return ReportSection("Latent traversals", figures=[fig], captions=[caption], id="traversals")


def interpolations_section(ctx: ReportContext) -> ReportSection | str:
    from latentkit.apps.latent import interpolate

    if not ctx.data.is_image:
        return Inapplicable("images")
    if len(ctx.data) < 2:
        return "needs at least two images"
    if ctx.model.needs_labels:
        return "interpolation between inputs of different classes is undefined here"
    pairs = min(4, len(ctx.data) // 2)
    x = ctx.data.x
    fig = plots.plot_interpolations(interpolate(ctx.model, x[:pairs], x[pairs : 2 * pairs]))
    return ReportSection("Interpolations", figures=[fig], id="interpolations")


#: strengths of the attribute-vector figure (0: the reconstruction)
ATTRIBUTE_STRENGTHS = (-1.0, 0.0, 0.5, 1.0, 1.5, 2.0)


def attribute_section(ctx: ReportContext) -> ReportSection | str | None:
    from latentkit.apps.latent import code_difference, edit_codes

    if not ctx.data.is_image:
        return Inapplicable("images")
    y = ctx.data.y
    classes = [] if y is None else sorted(torch.unique(y).tolist())
    # binary labels (smiling or not), or data with factors whose label is a factor (dsprites:
    # the shape): value 1 minus value 0, e.g. ellipse - square added to squares
    by_factor = ctx.data.factors is not None and classes[:2] == [0, 1]
    if classes != [0, 1] and not by_factor:
        return None  # silent for other labels (ten digits), like table figures on images

    if ctx.model.needs_labels:
        return "the model is conditioned on the label: change the label instead"
    vector = code_difference(ctx.codes, y, 1, 0)  # (D,): mean code of 1s minus that of 0s
    rows = torch.nonzero(y == 0)[:4, 0]
    moved = edit_codes(ctx.codes[rows], vector, ATTRIBUTE_STRENGTHS)  # (S, n, D)
    model = ctx.model
    decoded = batched(lambda z, _: model.decode(z), moved.flatten(0, 1), model=model)
    edits = decoded.view(len(ATTRIBUTE_STRENGTHS), len(rows), *ctx.data.shape)
    names = ctx.data.meta.get("class_names")
    pos, neg = (names[1], names[0]) if isinstance(names, list) and len(names) >= 2 else (1, 0)
    fig = plots.plot_attribute_edits(
        ctx.data.x[rows], edits, ATTRIBUTE_STRENGTHS, title=f"Attribute vector: {pos} − {neg}"
    )
    caption = (
        f"latent arithmetic on inputs labelled {neg}: decode(code + s · v), where v is the mean "
        f"code of the {int((y == 1).sum())} points labelled {pos} minus that of the "
        f"{int((y == 0).sum())} labelled {neg} in this data (|v| = {float(vector.norm()):.2f})"
    )
    return ReportSection("Attribute vector", figures=[fig], captions=[caption], id="attribute")


def kl_section(ctx: ReportContext) -> ReportSection | str:
    from latentkit.evaluation import kl_per_dimension

    if not ctx.generative:
        return "a plain autoencoder has no KL term"
    try:
        kl = kl_per_dimension(ctx.model, ctx.data.x, y=ctx.labels)
    except TypeError as exc:  # the documented signal: no Gaussian posterior
        return str(exc)
    fig = charts.plot_kl_per_dimension(kl, active=active_mask(ctx))
    return ReportSection("KL per latent dimension", figures=[fig], id="kl-per-dimension")


def anomaly_section(ctx: ReportContext) -> ReportSection | str | None:
    from latentkit.evaluation.metrics import auroc, average_precision

    a = ctx.anomaly
    if a is None:  # an optional input of the caller: nothing to say
        return None
    scores = torch.cat([a.normal.flatten().cpu(), a.anomalous.flatten().cpu()]).double()
    labels = torch.cat([torch.zeros(a.normal.numel()), torch.ones(a.anomalous.numel())]).long()
    numbers = {
        "score": a.score_name,
        "AUROC": auroc(scores.numpy(), labels.numpy()),
        "average precision": average_precision(scores.numpy(), labels.numpy()),
    }
    figs = [
        charts.plot_anomaly_histogram(
            a.normal, a.anomalous, threshold=a.threshold, score_name=a.score_name
        ),
        charts.plot_roc(scores, labels),
    ]
    return ReportSection("Anomaly detection", table_html(numbers), figs, id="anomaly")


def restoration_section(ctx: ReportContext) -> ReportSection | str | None:
    if not ctx.restorations:  # an optional input of the caller: nothing to say
        return None
    figs = [
        plots.plot_restoration(r.corrupted, r.output, r.clean, task=r.task, mask=r.mask)
        for r in ctx.restorations
    ]  # each names its task in its title: no caption repeats it
    return ReportSection("Restoration", figures=figs, id="restoration")


#: section id -> builder, in report order
BUILDERS: dict[str, Callable[[ReportContext], ReportSection | str | None]] = {
    "config": config_section,
    "metrics": metrics_section,
    "training-curves": training_curves_section,
    "reconstructions": reconstructions_section,
    "sequences": sequences_section,
    "feature-errors": feature_errors_section,
    "columns": columns_section,
    "samples": samples_section,
    "manifold": manifold_section,
    "latent-scatter": latent_scatter_section,
    "traversals": traversals_section,
    "interpolations": interpolations_section,
    "attribute": attribute_section,
    "kl-per-dimension": kl_section,
    "factors": factors_section,
    "row-scores": row_scores_section,
    "anomaly": anomaly_section,
    "restoration": restoration_section,
}
