"""Self-contained HTML pages: sections of text, tables and figures embedded as base64 PNG.

A page written by :func:`render_page` needs nothing but a browser: the stylesheet is inline,
figures are ``data:image/png;base64`` URIs, and there is no JavaScript and no network
reference. :class:`ReportSection` is the unit callers add to a report (see
:func:`latentkit.viz.report.build_report`).
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure

from latentkit.viz.grids import figure_to_png_bytes

__all__ = ["ReportSection", "json_html", "png_data_uri", "render_page", "table_html"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ID = re.compile(r"^[a-z][a-z0-9_-]*$")
_SCALAR_LIST = re.compile(r"\[\s*([^\[\]{}\"]*?)\s*\]")  # a JSON list without strings/nesting

STYLE = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       color: var(--fg); background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
header h1 { margin: 0 0 .25rem; font-size: 1.7rem; }
header p { margin: 0; color: var(--muted); }
nav { margin: 1rem 0 1.5rem; padding: .6rem .8rem; background: var(--bg);
      border: 1px solid var(--line); border-radius: 6px; }
nav a { color: var(--accent); text-decoration: none; margin-right: 1rem; white-space: nowrap; }
section { margin: 0 0 2rem; padding-top: .5rem; border-top: 1px solid var(--line); }
h2 { font-size: 1.3rem; margin: .6rem 0 .8rem; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .8rem;
      overflow: auto; max-height: 28rem; font-size: 13px; }
table { border-collapse: collapse; margin: .2rem 0 1rem; min-width: 24rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .8rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.tables { display: flex; flex-wrap: wrap; gap: 0 2.5rem; align-items: flex-start; }
.figures { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); }
figure { margin: 0; padding: .5rem; border: 1px solid var(--line); border-radius: 6px; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: .3rem; text-align: center; }
.note { color: var(--muted); font-size: 13px; }
footer { color: var(--muted); font-size: 13px; border-top: 1px solid var(--line);
         padding-top: .8rem; }
"""


def png_data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for PNG bytes (refuses anything that is not a PNG)."""
    if not png.startswith(_PNG_SIGNATURE):
        raise ValueError("expected PNG bytes (they must start with the PNG signature).")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug if slug and slug[0].isalpha() else f"section-{slug}".rstrip("-")


@dataclasses.dataclass
class ReportSection:
    """One section of a report: an ``<h2>`` title, an HTML fragment and figures.

    Attributes
    ----------
    title : str
        The heading (escaped when rendered).
    html : str
        A trusted HTML fragment inserted as is below the heading (escape user text with
        :func:`html.escape`; tables can come from :func:`table_html`). It must not reference
        the network, to keep the report self-contained.
    figures : sequence of Figure or bytes
        Matplotlib figures or PNG bytes, embedded as base64 images in a responsive grid.
    captions : sequence of str
        Optional caption of each figure (same order; may be shorter than ``figures``).
    alts : sequence of str
        Optional text alternative of each figure (its ``alt``, read by screen readers and
        search tools; not shown), e.g. what the figure's title says; default its caption.
    id : str, optional
        The section's HTML id (lowercase letters, digits, ``-`` and ``_``); defaults to a slug
        of the title.
    """

    title: str
    html: str = ""
    figures: Sequence[Figure | bytes] = ()
    captions: Sequence[str] = ()
    id: str | None = None
    alts: Sequence[str] = ()

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError("ReportSection.title must not be empty.")
        self.id = _slug(self.title) if self.id is None else self.id
        if not _ID.match(self.id):
            raise ValueError(
                f"ReportSection.id must be lowercase letters, digits, '-' or '_' starting with a "
                f"letter, got {self.id!r}."
            )
        for what, texts in (("captions", self.captions), ("alts", self.alts)):
            if len(texts) > len(self.figures):
                raise ValueError(
                    f"ReportSection {self.id!r}: {len(texts)} {what} for "
                    f"{len(self.figures)} figures."
                )
        for figure in self.figures:
            if not isinstance(figure, Figure | bytes):
                raise TypeError(
                    f"ReportSection {self.id!r}: figures must be matplotlib Figures or PNG bytes, "
                    f"got {type(figure).__name__}."
                )

    def render(self) -> str:
        """The ``<section>`` element."""
        parts = [f'<section id="{self.id}">', f"<h2>{html.escape(self.title)}</h2>"]
        if self.html:
            parts.append(self.html)
        if self.figures:
            parts.append('<div class="figures">')
            for i, figure in enumerate(self.figures):
                png = figure if isinstance(figure, bytes) else figure_to_png_bytes(figure)
                caption = self.captions[i] if i < len(self.captions) else ""
                alt = self.alts[i] if i < len(self.alts) else ""
                alt = html.escape(alt or caption or f"{self.title} figure {i + 1}", quote=True)
                parts.append(f'<figure><img src="{png_data_uri(png)}" alt="{alt}">')
                if caption:
                    parts.append(f"<figcaption>{html.escape(caption)}</figcaption>")
                parts.append("</figure>")
            parts.append("</div>")
        parts.append("</section>")
        return "\n".join(parts)


def _format(value: Any) -> tuple[str, bool]:
    """Text of a table cell and whether it is numeric."""
    if isinstance(value, bool) or value is None:
        return ("—" if value is None else str(value)), False
    if isinstance(value, int):
        return f"{value:,}", True
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value), True
        return (f"{value:.4g}" if abs(value) < 1e5 else f"{value:.4e}"), True
    return str(value), False


def table_html(
    rows: Mapping[str, Any] | Sequence[tuple[str, Any]],
    *,
    caption: str | None = None,
    header: tuple[str, str] = ("metric", "value"),
) -> str:
    """A two-column ``<table>`` of names and values (numbers formatted to 4 significant digits).

    Parameters
    ----------
    rows : mapping or sequence of (name, value)
        Values may be numbers, strings, bools or None (shown as a dash).
    """
    items = rows.items() if isinstance(rows, Mapping) else rows
    out = ["<table>"]
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    out.append(f"<tr><th>{html.escape(header[0])}</th><th>{html.escape(header[1])}</th></tr>")
    for name, value in items:
        text, numeric = _format(value)
        cls = ' class="num"' if numeric else ""
        out.append(f"<tr><td>{html.escape(str(name))}</td><td{cls}>{html.escape(text)}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def json_html(document: Any) -> str:
    """Pretty-printed JSON in a ``<pre>`` element."""
    text = json.dumps(document, indent=2, sort_keys=False, default=str)
    # lists of scalars on one line: "input_shape": [1, 28, 28]
    text = _SCALAR_LIST.sub(lambda m: "[" + ", ".join(re.split(r",\s*", m.group(1))) + "]", text)
    return f"<pre>{html.escape(text)}</pre>"


def render_page(
    title: str,
    sections: Sequence[ReportSection],
    *,
    subtitle: str = "",
    footer_html: str = "",
) -> str:
    """A complete HTML document with a table of contents linking to every section.

    Raises
    ------
    ValueError
        If two sections share an id.
    """
    ids = [s.id for s in sections]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"section ids must be unique; repeated: {duplicates}.")
    nav = " ".join(f'<a href="#{s.id}">{html.escape(s.title)}</a>' for s in sections)
    body = "\n".join(s.render() for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>\n"
        f"<nav>{nav}</nav>\n{body}\n"
        f"<footer>{footer_html}</footer>\n</main>\n</body>\n</html>\n"
    )
