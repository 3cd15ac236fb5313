"""A self-contained HTML report of a trained model: config, metrics and every figure that
applies (see :mod:`latentkit.viz.sections` for which ones apply when).

The file needs no network and no JavaScript: figures are base64 PNGs, the stylesheet is inline
(:mod:`latentkit.viz.html`). It is written atomically. Callers (the CLI, the demo) add their own
sections with :class:`~latentkit.viz.html.ReportSection`, and pass anomaly scores and
restoration results as :class:`AnomalyResult` and :class:`Restoration`.

Speed: evaluation numbers, the latent map and the table figures use a seeded random subset of
at most ``eval_points`` data points (2000 by default; rows keep their numbers in the caller's
data), and the IWAE estimate its first ``iwae_points`` with ``iwae_k`` importance samples, so a
report on MNIST takes seconds on a small CPU. A t-SNE latent map (openTSNE installed, codes of
more than two dimensions) adds a few seconds for 2000 points.

The footer lists the sections not shown and why, with two exceptions: sections for another
kind of data (image figures on a table are named once in one sentence; table figures on images
are left out silently), and sections whose kind of figure the caller shows in its own
sections (a demo that draws the manifold of a second, 2-D model gets no "manifold: not shown"
under it).
"""

from __future__ import annotations

import dataclasses
import html
import logging
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import torch

from latentkit._io import atomic_write_bytes
from latentkit.data.dataset import Dataset
from latentkit.data.lazy import LazyRows
from latentkit.evaluation.evaluate import eval_mode
from latentkit.models.base import AbstractModel
from latentkit.viz.charts import LATENT_SCATTER_LABEL, read_metrics
from latentkit.viz.context import (
    AnomalyResult,
    Inapplicable,
    ReportContext,
    Restoration,
    latent_traversals,
)
from latentkit.viz.html import ReportSection, render_page
from latentkit.viz.plots import MANIFOLD_LABEL
from latentkit.viz.sections import BUILDERS

__all__ = [
    "SECTIONS",
    "AnomalyResult",
    "ReportSection",
    "Restoration",
    "build_report",
    "latent_traversals",
]

logger = logging.getLogger(__name__)

#: the built-in section ids, in report order
SECTIONS: tuple[str, ...] = tuple(BUILDERS)
#: figure labels (``Figure.get_label()``) of caller figures -> the built-in section they cover
_COVERED_BY = {MANIFOLD_LABEL: "manifold", LATENT_SCATTER_LABEL: "latent-scatter"}


def _load_run(
    run: str | Path | AbstractModel, device: str | torch.device
) -> tuple[AbstractModel, dict[str, Any], Path | None]:
    """The model, its config document and the run folder (None for an in-memory model)."""
    if isinstance(run, AbstractModel):
        document = {"model_type": run.model_type, "config": run.config.to_dict()}
        return run, document, None
    if not isinstance(run, str | Path):
        raise TypeError(
            "run must be a run folder (str or Path) or a latentkit model, "
            f"got {type(run).__name__}."
        )
    from latentkit.config import read_json
    from latentkit.errors import CheckpointError
    from latentkit.models.persistence import CONFIG_FILE, load

    folder = Path(run)
    model = load(folder, device=device)
    return model, read_json(folder / CONFIG_FILE, error=CheckpointError), folder


def _metric_rows(
    metrics: str | Path | Sequence[dict[str, Any]] | None, folder: Path | None
) -> list[dict[str, Any]] | None:
    if metrics is None:
        path = None if folder is None else folder / "metrics.jsonl"
        return read_metrics(path) if path is not None and path.is_file() else None
    if isinstance(metrics, str | Path):
        return read_metrics(metrics)
    return [dict(row) for row in metrics]


def _check_data(model: AbstractModel, data: Dataset) -> None:
    if not isinstance(data, Dataset):
        raise TypeError(
            f"data must be a latentkit Dataset (latentkit.datasets.load(...)), "
            f"got {type(data).__name__}."
        )
    if len(data) == 0:
        raise ValueError("data is empty: the report needs data points to evaluate on.")
    if data.shape != model.input_shape:
        raise ValueError(
            f"data points have shape {data.shape} but the model expects {model.input_shape}; "
            "pass the data (and transform) the model was trained on."
        )
    if model.needs_labels and data.y is None:
        raise ValueError(f"{type(model).__name__} needs labels: pass a Dataset with y.")


def build_report(
    run: str | Path | AbstractModel,
    data: Dataset,
    out: str | Path,
    *,
    title: str | None = None,
    sections: Collection[str] | None = None,
    extra_sections: Sequence[ReportSection] = (),
    metrics: str | Path | Sequence[dict[str, Any]] | None = None,
    anomaly: AnomalyResult | None = None,
    restorations: Sequence[Restoration] = (),
    eval_points: int = 2000,
    iwae_k: int = 32,
    iwae_points: int = 256,
    seed: int = 0,
    device: str | torch.device = "cpu",
    to_original: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> Path:
    """Write one self-contained HTML report of a model and return its path.

    Parameters
    ----------
    run : str, Path or AbstractModel
        A run or model folder (``config.json`` + ``model.safetensors``, and ``metrics.jsonl``
        when trained by the Trainer), or a model in memory.
    data : Dataset
        Evaluation data (e.g. the test split) with ``x`` of shape ``(N, *input_shape)``;
        labels ``y`` enable the latent scatter plot.
    out : str or Path
        The HTML file to write (atomically; parent folders are created).
    title : str, optional
        Page title; default ``"<model_type> report"``.
    sections : collection of str, optional
        Built-in sections to include, a subset of :data:`SECTIONS`; default all that apply
        to this model and data. Sections that do not apply are listed in the footer.
    extra_sections : sequence of ReportSection
        Caller sections appended after the built-in ones (ids must not clash).
    metrics : str, Path or sequence of dict, optional
        Training records (a ``metrics.jsonl`` path or its rows); default the run folder's.
    anomaly : AnomalyResult, optional
        Scores of normal and anomalous data: adds a histogram and a ROC curve.
    restorations : sequence of Restoration
        Denoise / inpaint / colorize results: adds before/after panels.
    eval_points : int
        Evaluate and plot on a seeded random subset of at most this many points.
    iwae_k, iwae_points : int
        Importance samples and data points of the IWAE log-likelihood estimate.
    seed : int
        Seed of the subset, the samples and every Monte Carlo estimate.
    device : str or torch.device
        Where a model loaded from a folder runs.
    to_original : callable, optional
        For tables: maps rows ``(N, D)`` as the model sees them back to the file's units (the
        run's scaler's ``inverse_transform``), so that the most anomalous rows are listed with
        the values of the file. Without it they are shown as the model sees them.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ValueError
        If a section name is unknown, the data does not fit the model, or ids clash.
    """
    unknown = sorted(set(sections or ()) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown report sections {unknown}; choose from {list(SECTIONS)}.")
    ids = [*(SECTIONS if sections is None else set(sections)), *(s.id for s in extra_sections)]
    clashes = sorted({i for i in ids if ids.count(i) > 1})
    if clashes:
        raise ValueError(f"section ids must be unique; repeated: {clashes}.")
    for name, value in (("eval_points", eval_points), ("iwae_k", iwae_k)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}.")
    started = time.perf_counter()
    model, document, folder = _load_run(run, device)
    _check_data(model, data)
    row_ids, source = None, data
    if len(data) > eval_points:  # rows in ascending order, keeping their numbers
        generator = torch.Generator().manual_seed(seed)
        row_ids = torch.randperm(len(data), generator=generator)[:eval_points].sort().values
        data = data.subset(row_ids)
    if isinstance(data.x, LazyRows):  # rows made on demand (dsprites): made once, here
        data = dataclasses.replace(data, x=data.x[:])
    ctx = ReportContext(
        model=model, document=document, rows=_metric_rows(metrics, folder), data=data,
        seed=seed, max_points=eval_points, iwae_k=iwae_k, iwae_points=max(1, iwae_points),
        anomaly=anomaly, restorations=list(restorations), row_ids=row_ids,
        to_original=to_original, source=source,
    )  # fmt: skip
    covered = {
        _COVERED_BY[figure.get_label()]
        for section in extra_sections
        for figure in section.figures
        if not isinstance(figure, bytes) and figure.get_label() in _COVERED_BY
    }
    built: list[ReportSection] = []
    skipped: dict[str, str] = {}
    other_kind: list[str] = []  # image sections not drawn for a table or sequences
    with eval_mode(model):
        for name, builder in BUILDERS.items():
            if sections is not None and name not in sections:
                continue
            result = builder(ctx)
            if result is None:  # an optional caller input that was not given
                if sections is not None:
                    skipped[name] = "its results were not passed to build_report"
                continue
            if not isinstance(result, str):
                built.append(result)
                continue
            log = logger.warning if sections is not None else logger.debug
            log("report section %r not shown: %s", name, result)
            if sections is None and isinstance(result, Inapplicable):
                if result.kind == "images":
                    other_kind.append(name)
            elif name not in covered:
                skipped[name] = result
    built.extend(extra_sections)

    from latentkit import __version__

    model_type = document.get("model_type", type(model).__name__)
    subtitle = (
        f"{model_type} · latent_dim {model.latent_dim} · input {model.input_shape} · "
        f"data {data.name} ({len(data)} points)"
    )
    notes = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in skipped.items())
    footer = f"Written by latentkit {html.escape(__version__)}."
    if other_kind:
        footer += (
            f"<p>Image figures ({html.escape(', '.join(other_kind))}) are drawn for image "
            f"data; this data is {'sequences of tokens' if ctx.sequence else 'a table'}.</p>"
        )
    if notes:
        footer += f"<p>Not shown:</p><ul>{notes}</ul>"
    page = render_page(
        title or f"{model_type} report", built, subtitle=subtitle, footer_html=footer
    )
    out = Path(out)
    atomic_write_bytes(out, page.encode("utf-8"))
    logger.info(
        "wrote report %s (%d sections, %.1f s)", out, len(built), time.perf_counter() - started
    )
    return out
