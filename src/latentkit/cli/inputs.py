"""The command line's one input layer: what a user passes as data, read one way everywhere.

What may be passed (``--data``, or image arguments of the restoration commands):

- a named dataset (``latentkit datasets``: ``mnist``, ``fashion-mnist``, ``digits``);
- a table file (``.csv``, ``.parquet``, ``.npy``, ``.npz``);
- an image file (PNG, JPEG, TIFF, BMP, WebP, GIF; 8 or 16 bits; gray, RGB, RGBA, palette...:
  read by :func:`latentkit.data.photos.read_photo`, each conversion printed as one line such
  as ``photo.png: RGBA converted to RGB (alpha dropped)``);
- a folder of images: with the layout of :func:`latentkit.data.images.load_image_folder`
  (images in it, a ``train/``/``test/`` subfolder, or one subfolder per class, giving labels),
  or any tree of image files, read recursively.

Two ways to receive it:

- :func:`read_data` gives one :class:`~latentkit.data.dataset.Dataset` for a model of fixed
  input shape (``cli.runs.load_data_for``: encode, evaluate, reconstruct, anomaly, report,
  serve, interpolate). Images of another size or channel count than the model's input are
  converted (gray/RGB) and resized to it, with one line saying how many.
- :func:`photo_inputs` lists image files for the restoration commands (denoise, inpaint,
  colorize), which read and process them one by one at their own size
  (:func:`read_photo_input`), and write one output per input named as the input
  (:attr:`PhotoInput.name`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

from latentkit.cli.common import say

__all__ = [
    "PhotoInput",
    "is_model_folder",
    "kind_of",
    "looks_like_images",
    "photo_inputs",
    "read_data",
    "read_photo_input",
]

Kind = Literal["dataset", "table", "image", "folder"]


def _image_suffixes() -> frozenset[str]:
    from latentkit.data.photos import FORMATS

    return frozenset(FORMATS)


def is_model_folder(path: Path) -> bool:
    """A saved model or run folder (it holds ``config.json``)."""
    return path.is_dir() and (path / "config.json").is_file()


def looks_like_images(text: str) -> bool:
    """What a restoration command's first argument names: images (True) or a model (False).

    An image file (by its suffix, existing or not, so that a missing one is reported as a
    missing file) or a folder that is not a model folder. Cheap: nothing is imported or read.
    """
    path = Path(text).expanduser()
    if path.suffix.lower() in _image_suffixes() and not path.is_dir():
        return True
    return path.is_dir() and not is_model_folder(path)


def kind_of(text: str) -> Kind | None:
    """What ``text`` names: a dataset name, a table file, an image file, a folder, or None."""
    from latentkit.data.tables import TABLE_SUFFIXES
    from latentkit.datasets import available

    if text.lower() in available():  # as datasets.load: a registered name wins
        return "dataset"
    path = Path(text).expanduser()
    if path.is_dir():
        return "folder"
    suffix = path.suffix.lower()
    if suffix in _image_suffixes():
        return "image"
    if suffix in TABLE_SUFFIXES:
        return "table"
    return None


@dataclasses.dataclass(frozen=True)
class PhotoInput:
    """One image file to process.

    Attributes
    ----------
    path : Path
        The file.
    name : Path
        Its name for outputs and messages: the file name for a file given by itself, its path
        inside the folder for a file found in a folder.
    """

    path: Path
    name: Path


def photo_inputs(
    texts: list[str], *, split: str | None = None, limit: int | None = None
) -> list[PhotoInput]:
    """The image files that ``texts`` (files and folders) name, folders read recursively.

    A folder with a subfolder named ``split`` is read from that subfolder. The same file named
    twice is kept once. ``limit`` keeps the first files.

    Raises
    ------
    DataError
        A missing path, a file that is not an image, or a folder without images.
    """
    from latentkit.data.photos import photo_files
    from latentkit.errors import DataError

    kinds = ", ".join(sorted(_image_suffixes()))
    items: list[PhotoInput] = []
    seen: set[Path] = set()
    for text in texts:
        path = Path(text).expanduser()
        if path.is_dir():
            root = path / split if split and (path / split).is_dir() else path
            found = [PhotoInput(f, f.relative_to(root)) for f in photo_files(root)]
            if not found:
                raise DataError(f"{root}: no image files ({kinds}) in it or its subfolders.")
        elif path.is_file():
            if path.suffix.lower() not in _image_suffixes():
                raise DataError(
                    f"{path}: not an image file; expected {kinds}, a folder of images, a "
                    "table file or a dataset name."
                )
            found = [PhotoInput(path, Path(path.name))]
        else:
            raise DataError(f"{path}: no such file or folder; check the path.")
        for item in found:
            key = item.path.resolve()
            if key not in seen:
                seen.add(key)
                items.append(item)
    return items[:limit] if limit is not None else items


def read_photo_input(item: PhotoInput) -> Any:
    """Read one input (:class:`latentkit.data.photos.Photo`), printing each conversion."""
    from latentkit.data.photos import read_photo

    photo = read_photo(item.path)
    for note in photo.notes:
        say(f"{item.name}: {note}")
    return photo


def read_data(
    name: str,
    split: str,
    *,
    options: dict[str, Any] | None = None,
    shape: tuple[int, ...] | None = None,
) -> Any:
    """One Dataset from whatever ``name`` names (see the module docstring).

    Parameters
    ----------
    name : str
        Dataset name, table file, image file or folder.
    split : str
        Passed to :func:`latentkit.datasets.load` (a folder's subfolder of that name).
    options : dict, optional
        Options of :func:`latentkit.datasets.load`; a folder given ``mode``, ``size`` or
        ``patch_size`` is read exactly as asked.
    shape : tuple, optional
        The model's input shape: images are converted and resized to an image shape
        ``(C, H, W)`` (C 1 or 3).

    Returns
    -------
    Dataset
    """
    from latentkit.datasets import load

    options = dict(options or {})
    image_shape = shape if shape is not None and len(shape) == 3 and shape[0] in (1, 3) else None
    kind = kind_of(name)
    if kind == "image":
        return _stacked(name, photo_inputs([name]), image_shape)
    if kind == "folder" and not options.keys() & {"mode", "size", "patch_size"}:
        folder = Path(name).expanduser()
        files = _layout_files(folder / split if (folder / split).is_dir() else folder)
        if not files:  # no load_image_folder layout: every image file of the tree
            return _stacked(name, photo_inputs([name], split=split), image_shape)
        if image_shape is not None:
            _say_fitted(name, [_header(f) for f in files], image_shape)
            options.update(mode="gray" if image_shape[0] == 1 else "rgb", size=image_shape[1:])
    return load(name, split, **options)


def _layout_files(folder: Path) -> list[Path]:
    """The files :func:`load_image_folder` reads when it reads all of the tree: images in
    ``folder`` with no subfolder holding any, or one level of class subfolders; otherwise
    (images at several depths) empty, and the tree is read recursively without labels."""
    suffixes = _image_suffixes()

    def images(d: Path) -> list[Path]:
        return [p for p in d.iterdir() if p.is_file() and p.suffix.lower() in suffixes]

    direct = images(folder)
    subfolders = [d for d in sorted(folder.iterdir()) if d.is_dir() and not d.name.startswith(".")]
    nested = [f for d in subfolders for f in images(d)]
    deeper = any(g.is_dir() and images(g) for d in subfolders for g in d.iterdir())
    if deeper or (direct and nested):
        return []
    return direct or nested


def _header(path: Path) -> tuple[int, int, int] | None:
    """(channels, H, W) from the header alone (None if unreadable: the loader says why)."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            gray = img.mode in ("1", "L", "LA", "La", "I", "F") or img.mode.startswith("I;16")
            return (1 if gray else 3), img.size[1], img.size[0]
    except (OSError, ValueError, SyntaxError):
        return None


def _say_fitted(name: str, shapes: list[tuple[int, int, int] | None], shape: tuple) -> None:
    """One line when images are converted or resized to the model's input shape."""
    channels, height, width = shape
    known = [s for s in shapes if s is not None]
    resized = sum(1 for s in known if s[1:] != (height, width))
    converted = sum(1 for s in known if s[0] != channels)
    if not resized and not converted:
        return
    parts = []
    if resized:
        parts.append(f"resized to {height} x {width}")
    if converted:
        parts.append(f"converted to {'gray' if channels == 1 else 'RGB'}")
    if len(known) == 1:
        say(f"{name}: {' and '.join(parts)} (the model's input)")
    else:
        counts = [resized, converted] if resized else [converted]
        detail = ", ".join(f"{n} {part}" for n, part in zip(counts, parts, strict=True))
        say(f"{name}: {len(known)} images; {detail} (the model's input)")


def _stacked(name: str, items: list[PhotoInput], shape: tuple | None) -> Any:
    """Read ``items`` into one Dataset, fitted to ``shape`` when given."""
    import numpy as np
    import torch

    from latentkit.data.dataset import Dataset
    from latentkit.data.limits import check_data_bytes
    from latentkit.data.photos import fit_to_shape
    from latentkit.errors import DataError

    if shape is not None:
        check_data_bytes(name, f"{len(items)} images of shape {shape}",
                         len(items) * int(np.prod(shape)) * 4)  # fmt: skip
    images, headers, total = [], [], 0
    for item in items:
        pixels = read_photo_input(item).pixels[None]  # (1, C, H, W)
        total += pixels.numel() * 4
        check_data_bytes(name, f"{len(images) + 1} images as float32", total)
        headers.append(tuple(pixels.shape[1:]))
        images.append(pixels if shape is None else fit_to_shape(pixels, shape))
        if shape is None and images[-1].shape != images[0].shape:
            raise DataError(
                f"{name}: images differ in size ({items[0].name} is "
                f"{tuple(images[0].shape[1:])}, {item.name} is {tuple(pixels.shape[1:])}); "
                "this command needs one size: resize them first."
            )
    if shape is not None:
        _say_fitted(name, headers, shape)
    x = torch.cat(images)  # (N, C, H, W)
    meta = {"split": "all", "files": [str(i.name) for i in items], "folder": name}
    return Dataset(x.contiguous(), None, name, meta)
