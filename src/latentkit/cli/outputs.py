"""The command line's one output layer for images: where each result goes, and in which format.

For the restoration commands (``latentkit denoise``, ``inpaint``, ``colorize``) on image files:

- ``--out DIR`` (an existing folder, a path ending in ``/``, or a path without extension):
  one file per input at ``DIR/<name>``, ``<name>`` being the input's name (its path inside a
  folder given as input), in the input's format (GIF inputs are written as PNG);
- ``--out FILE`` with an image extension, for exactly one input: that file, in the format the
  extension names;
- ``--out FILE.npy``: every result in one array ``(N, C, H, W)`` (the images must share a size).

Each result keeps its input's bit depth where the format holds it (16-bit PNG and TIFF stay
16-bit; JPEG, BMP and WebP hold 8 bits, said in one line) and its ICC colour profile. An output
that is one of the inputs is refused before anything is processed, as are two inputs that would
land on one file. Writes are atomic (:mod:`latentkit._io`). The before/after panel
(``--panel FILE.png``) shows thumbnails: every image resized to the first one's size.

Reference images (``--reference FILE_OR_DIR``) are found by name: the file itself for one
input, else ``DIR/<name>``, or the same name with another image extension.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from latentkit.cli.common import say
from latentkit.cli.inputs import PhotoInput
from latentkit.cli.main import UsageError

__all__ = [
    "is_folder",
    "plan_outputs",
    "reference_for",
    "refuse_inputs",
    "write_panel",
    "write_result",
]

#: the largest side of a panel's thumbnails, in pixels
THUMBNAIL = 160


def _writable() -> dict[str, str]:
    from latentkit.data.photos import FORMATS, WRITABLE

    return {suffix: fmt for suffix, fmt in FORMATS.items() if fmt in WRITABLE}


def is_folder(text: str) -> bool:
    """``--out`` names a folder: an existing one, a path ending in a separator, or no suffix."""
    path = Path(text)
    return path.is_dir() or text.endswith(("/", os.sep)) or not path.suffix


def plan_outputs(out: str, items: list[PhotoInput]) -> list[Path] | None:
    """The output file of each input (None: all in one ``.npy`` array); refusals first.

    Raises
    ------
    UsageError
        An extension that is not an image format, several inputs for one file, an output
        that is an input, or two inputs onto one output.
    """
    if Path(out).suffix.lower() == ".npy" and not Path(out).is_dir():
        refuse_inputs([Path(out)], items, "--out")
        return None
    writable = _writable()
    if is_folder(out):
        folder = Path(out)
        paths = []
        for item in items:
            name = item.name
            if name.suffix.lower() not in writable:
                name = name.with_suffix(".png")
                say(f"{item.name}: written as PNG ({name})")
            paths.append(folder / name)
    else:
        path = Path(out)
        if path.suffix.lower() not in writable:
            raise UsageError(
                f"cannot write {path.name}: the extension must be one of "
                f"{', '.join(sorted(writable))}, .npy, or a folder for one file per input"
            )
        if len(items) != 1:
            raise UsageError(
                f"--out {out} names one file but there are {len(items)} inputs; pass a folder "
                "(e.g. --out restored/) for one file per input, and --panel FILE.png for a "
                "before/after panel"
            )
        paths = [path]
    refuse_inputs(paths, items, "--out")
    seen: dict[Path, Path] = {}
    for item, path in zip(items, paths, strict=True):
        key = path.resolve()
        if key in seen:
            raise UsageError(
                f"{seen[key]} and {item.name} would both be written to {path}; give them "
                "different names or restore them separately"
            )
        seen[key] = item.name
    return paths


def refuse_inputs(paths: list[Path], items: list[PhotoInput], flag: str) -> None:
    """Refuse any of ``paths`` that is one of the inputs (inputs are never overwritten)."""
    inputs = {item.path.resolve(): item for item in items}
    for path in paths:
        item = inputs.get(path.resolve())
        if item is not None:
            raise UsageError(
                f"{flag} {path} is the input {item.path}: inputs are never overwritten; write "
                "the result to another file or folder"
            )


def write_result(path: Path, pixels: Any, photo: Any) -> Path:
    """Write one result ``(C, H, W)`` for the input ``photo``, keeping its bit depth where the
    format holds it; prints where it went."""
    from latentkit.data.photos import FORMATS, WRITABLE, write_photo

    fmt = FORMATS[path.suffix.lower()]
    bits = photo.bits if photo.bits in WRITABLE[fmt] else 8
    if bits != photo.bits:
        say(f"{path.name}: {fmt} holds 8 bits; the {photo.bits}-bit result is written at 8 bits")
    same_space = pixels.shape[0] == photo.channels  # a gray profile does not fit RGB results
    write_photo(path, pixels, bits=bits, icc_profile=photo.icc_profile if same_space else None)
    height, width = pixels.shape[-2:]
    say(f"wrote {path} ({fmt}, {bits}-bit, {width} x {height})")
    return path


def reference_for(reference: str, item: PhotoInput, single: bool) -> Path:
    """The reference file of ``item``: ``reference`` itself (one input, a file), or the file
    of the same name (any image extension) inside the folder ``reference``."""
    root = Path(reference)
    if root.is_file():
        if not single:
            raise UsageError(
                f"--reference {reference} is one file but there are several inputs; pass a "
                "folder holding a reference of the same name for each"
            )
        return root
    if not root.is_dir():
        raise UsageError(f"--reference {reference}: no such file or folder")
    exact = root / item.name
    if exact.is_file():
        return exact
    suffixes = _writable().keys() | {".gif"}
    for candidate in sorted(exact.parent.glob(f"{exact.stem}.*") if exact.parent.is_dir() else []):
        if candidate.suffix.lower() in suffixes:
            return candidate
    raise UsageError(
        f"--reference {reference}: no reference for {item.name} (expected {exact}, or the "
        "same name with another image extension)"
    )


def write_panel(path: str, rows: list[tuple[str, list[Any]]], title: str) -> None:
    """A before/after panel PNG: one row per ``(label, images)``, thumbnails of ``(C, H, W)``
    images (gray made RGB when any is RGB), the labels in the title."""
    import torch

    from latentkit._io import atomic_write_bytes
    from latentkit.data.photos import fit_to_shape
    from latentkit.viz.grids import figure_to_png_bytes
    from latentkit.viz.plots import plot_image_grid

    if Path(path).suffix.lower() != ".png":
        raise UsageError(f"cannot write the panel {Path(path).name}: it is a .png file")
    images = [image for _, row in rows for image in row]
    channels = 3 if any(image.shape[0] == 3 for image in images) else 1
    height, width = images[0].shape[-2:]
    scale = min(1.0, THUMBNAIL / max(height, width))
    size = (channels, max(8, round(height * scale)), max(8, round(width * scale)))
    grid = torch.cat([fit_to_shape(image[None].float(), size) for image in images])
    labels = ", ".join(f"{label} ({i + 1})" for i, (label, _) in enumerate(rows))
    figure = plot_image_grid(grid, nrow=len(rows[0][1]), title=f"{title}: rows {labels}")
    atomic_write_bytes(path, figure_to_png_bytes(figure))
    say(f"wrote {path}")
