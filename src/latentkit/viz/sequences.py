"""The report section of a sequence model: samples, reconstructions and an interpolation, as
molecules drawn by RDKit or as text.

For a model whose tokens are molecules (``token_kind`` ``"smiles"`` or ``"selfies"``) and
with RDKit installed (the ``chem`` extra), the section shows

- a grid of the first :data:`SHOWN` valid molecules among :data:`SAMPLES` strings sampled
  from the prior (tokens drawn at temperature 1), beside the MOSES numbers of those samples
  (:func:`latentkit.apps.molecules.generation_metrics`): validity, uniqueness, novelty against
  (at most :data:`REFERENCE` random rows of) the data given to the report, and internal
  diversity;
- the first :data:`RECONSTRUCTED` molecules of the report's data beside their reconstructions
  (greedy or beam, the model's ``decoding``; an invalid reconstruction is an empty cell);
- the straight line between the codes of the first two distinct strings among those
  :data:`RECONSTRUCTED` molecules, decoded at :data:`STEPS` points, the valid steps only and a
  molecule repeated on consecutive steps once
  (:func:`latentkit.apps.sequences.interpolate_molecules`).

Other sequences (``"chars"``: proteins, any text), and molecules without RDKit, get the same
three parts as text: sampled strings with the share of distinct ones and of ones not in the
data, inputs beside their reconstructions, and every decoded step of the line (consecutive
repeats once). Without RDKit a molecule model's section says in one line that the ``chem``
extra draws molecules. SELFIES are shown as SMILES when the ``selfies`` package is there.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import torch

from latentkit.apps.sequences import interpolate_molecules, sample_strings, strings_of
from latentkit.errors import DataError
from latentkit.viz.context import Inapplicable, ReportContext
from latentkit.viz.html import ReportSection, table_html
from latentkit.viz.molecules import CHEM_NOTE, can_draw_kind, molecule_grid, png_bytes

__all__ = ["REFERENCE", "SAMPLES", "SHOWN", "STEPS", "sequences_section"]

SAMPLES = 1000  # strings sampled for the numbers
SHOWN = 24  # samples drawn or listed
RECONSTRUCTED = 6  # data rows shown beside their reconstructions
REFERENCE = 10_000  # data rows novelty is measured against (a seeded random subset)
STEPS = 12  # points of the interpolation line


def _strings(ctx: ReportContext, ids: torch.Tensor, molecules: bool) -> list[str]:
    """Strings of ids; SMILES for a molecule model when they can be made (else as tokens)."""
    try:
        return strings_of(ctx.model, ids, molecules=molecules)
    except DataError:  # SELFIES without the selfies package: shown as they are
        return strings_of(ctx.model, ids)


def _reference(ctx: ReportContext, molecules: bool) -> list[str]:
    """At most REFERENCE rows of the caller's whole data as strings (seeded subset)."""
    x = ctx.source.x if ctx.source is not None else ctx.data.x
    if len(x) > REFERENCE:
        generator = torch.Generator().manual_seed(ctx.seed)
        x = x[torch.randperm(len(x), generator=generator)[:REFERENCE]]
    return _strings(ctx, x, molecules)


def _text_table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td><code>{html.escape(str(c))}</code></td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _path(ctx: ReportContext, start: torch.Tensor, end: torch.Tensor) -> list[tuple[float, str]]:
    """Every decoded step of the line between two codes, consecutive repeats once."""
    t = torch.linspace(0, 1, STEPS)
    line = (1 - t)[:, None] * start + t[:, None] * end  # (STEPS, D)
    with torch.inference_mode():
        ids = ctx.model.decode(line.to(ctx.model.device))
    out: list[tuple[float, str]] = []
    for ti, text in zip(t.tolist(), _strings(ctx, ids, True), strict=True):
        if not out or out[-1][1] != text:
            out.append((ti, text))
    return out


def _ends(strings: Sequence[str]) -> tuple[int, int] | None:
    """Rows of the first two distinct strings."""
    for j in range(1, len(strings)):
        if strings[j] != strings[0]:
            return 0, j
    return None


def sequences_section(ctx: ReportContext) -> ReportSection | str:
    """The "Molecules" (SMILES or SELFIES tokens) or "Sequences" section (module docstring);
    silent (:class:`Inapplicable`) for models of images and tables."""
    if not ctx.sequence:
        return Inapplicable("sequences")
    kind = ctx.model.tokenizer.kind  # type: ignore[attr-defined]
    molecules = kind in ("smiles", "selfies")
    draw = can_draw_kind(kind)
    generator = torch.Generator().manual_seed(ctx.seed)
    with torch.inference_mode():
        sampled = sample_strings(ctx.model, SAMPLES, generator=generator)
        n = min(RECONSTRUCTED, len(ctx.data))
        x = ctx.data.x[:n].to(ctx.model.device)
        rebuilt = ctx.model.reconstruct(x)
    if molecules:
        try:
            from latentkit.apps.molecules import to_smiles

            sampled = to_smiles(sampled, kind)
        except DataError:
            pass
    inputs = _strings(ctx, ctx.data.x[:n], molecules)
    outputs = _strings(ctx, rebuilt, molecules)
    reference = _reference(ctx, molecules)
    parts: list[str] = []
    figures: list[bytes] = []
    captions: list[str] = []
    if molecules and not draw:
        parts.append(f'<p class="note">{html.escape(CHEM_NOTE)}</p>')
    if draw:
        _molecule_parts(ctx, sampled, inputs, outputs, reference, parts, figures, captions)
    else:
        _text_parts(ctx, sampled, inputs, outputs, reference, parts)
    title = "Molecules" if molecules else "Sequences"
    return ReportSection(title, "\n".join(parts), figures, captions, id="sequences")


def _molecule_parts(
    ctx: ReportContext,
    sampled: list[str],
    inputs: list[str],
    outputs: list[str],
    reference: list[str],
    parts: list[str],
    figures: list[bytes],
    captions: list[str],
) -> None:
    from latentkit.apps.molecules import canonical, generation_metrics

    known = {c for s in reference if (c := canonical(s)) is not None}
    metrics = generation_metrics(sampled, known, ks=())
    numbers = {
        "samples": metrics["n"],
        "validity": metrics["validity"],
        "uniqueness (distinct share of the valid)": metrics["unique"],
        f"novelty (not among {len(reference):,} rows of {ctx.data.name})": metrics["novelty"],
        "internal diversity": metrics["int_div"],
    }
    parts.append(
        '<div class="tables">'
        + table_html(numbers, caption=f"{len(sampled):,} strings sampled from the prior")
        + "</div>"
    )
    valid = [c for s in sampled if (c := canonical(s)) is not None][:SHOWN]
    if valid:
        image = molecule_grid(valid, per_row=6, size=180)
        figures.append(png_bytes(image))
        captions.append(f"the first {len(valid)} valid samples (tokens drawn at temperature 1)")
    else:
        parts.append(f'<p class="note">none of the {len(sampled):,} samples is a molecule.</p>')
    if inputs:
        cells, legends = [], []
        for i, (a, b) in enumerate(zip(inputs, outputs, strict=True)):
            same = canonical(a) is not None and canonical(a) == canonical(b)
            verdict = "same" if same else "invalid" if canonical(b) is None else "different"
            cells += [a, b]
            legends += [f"input {i + 1}", f"decoded {i + 1}: {verdict}"]
        try:
            figures.append(png_bytes(molecule_grid(cells, legends, per_row=6, size=180,
                                                   keep_invalid=True)))  # fmt: skip
            captions.append(
                f"the first {len(inputs)} molecules of {ctx.data.name} beside their "
                f"{ctx.model.config.decoding} reconstructions from the posterior mean"
            )
        except DataError:  # none valid: the text table below says it all
            pass
        rows = [(a, b) for a, b in zip(inputs, outputs, strict=True)]
        parts.append(_text_table(rows, ("input", "decoded")))
    ends = _ends(inputs)
    if ends is None:
        parts.append('<p class="note">interpolation needs two distinct molecules.</p>')
        return
    start, end = inputs[ends[0]], inputs[ends[1]]
    path = interpolate_molecules(ctx.model, start, end, steps=STEPS)
    if path:
        figures.append(png_bytes(molecule_grid([s for _, s in path],
                                               [f"t = {t:.2f}" for t, _ in path],
                                               per_row=6, size=180)))  # fmt: skip
        captions.append(
            f"decoded line between {start} and {end} ({STEPS} steps; the valid ones, a "
            "molecule repeated on consecutive steps shown once)"
        )
    else:
        parts.append(f'<p class="note">no step of the line from {html.escape(start)} to '
                     f"{html.escape(end)} decodes to a valid molecule.</p>")  # fmt: skip


def _text_parts(
    ctx: ReportContext,
    sampled: list[str],
    inputs: list[str],
    outputs: list[str],
    reference: list[str],
    parts: list[str],
) -> None:
    distinct = list(dict.fromkeys(sampled))
    known = set(reference)
    numbers = {
        "samples": len(sampled),
        "distinct share": len(distinct) / len(sampled),
        f"not among {len(reference):,} rows of {ctx.data.name}": (
            sum(s not in known for s in distinct) / len(distinct)
        ),
    }
    parts.append(
        '<div class="tables">'
        + table_html(numbers, caption=f"{len(sampled):,} strings sampled from the prior")
        + "</div>"
    )
    parts.append(
        "<h3>Samples</h3>" + _text_table([(s,) for s in sampled[:SHOWN]], ("sampled string",))
    )
    if inputs:
        rows = [(a, b, a == b) for a, b in zip(inputs, outputs, strict=True)]
        parts.append("<h3>Reconstructions</h3>" + _text_table(rows, ("input", "decoded", "same")))
    ends = _ends(inputs)
    if ends is not None:
        z = ctx.codes[list(ends)]  # (2, D)
        path = _path(ctx, z[0], z[1])
        parts.append(
            "<h3>Interpolation</h3>"
            + _text_table([(f"{t:.2f}", s) for t, s in path], ("t", "decoded"))
        )
