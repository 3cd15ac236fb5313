"""Load a folder of images (PNG, JPEG, ...) with Pillow into an ``(N, C, H, W)`` Dataset.

Layout rules, in order:

1. if the folder has a subfolder named like the requested split (``train/``, ``test/``), that
   subfolder is read;
2. image files directly in the folder are read without labels;
3. otherwise each subfolder holding images is a class: labels follow the sorted subfolder
   names, which are stored in ``meta["class_names"]``.

Images of different sizes cannot be stacked: pass ``size=(H, W)`` to resize them all (bilinear),
or ``patch_size=P`` to cut equally sized patches from each (see
:func:`latentkit.data.patches.extract_patches`).

Pixel values are divided by the largest value of their bit depth: 255 for 8-bit images, 65535
for 16-bit grayscale (Pillow modes ``I;16*``, and ``I`` when every value fits 16 bits; wider
values are refused). Pillow reads 16-bit colour PNGs as 8-bit ``RGB``, so they are scaled
right at 8-bit precision. A 16-bit image read with ``mode="rgb"`` repeats its one channel.

Memory is bounded (see :mod:`latentkit.data.limits`): every file's header is read first
(Pillow's ``Image.open`` is lazy), each image must have at most
:func:`~latentkit.data.limits.max_image_pixels` pixels, and the float32 result, whose shape
follows from the headers, must fit :func:`~latentkit.data.limits.max_data_bytes`, all before
any image is decoded. The result is then allocated once and filled one image at a time.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from latentkit.data.dataset import Dataset
from latentkit.data.limits import check_data_bytes, check_image_pixels
from latentkit.data.patches import PatchMode, extract_patches, patches_per_image
from latentkit.errors import DataError

__all__ = ["IMAGE_SUFFIXES", "load_image_folder"]

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp"})

_PIL_MODE: dict[str, str] = {"gray": "L", "rgb": "RGB"}

#: Pillow modes of 16-bit grayscale images (``I`` is 32-bit; its values must fit 16 bits)
_SIXTEEN_BIT = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _unreadable(path: Path, exc: Exception) -> DataError:
    if isinstance(exc, Image.DecompressionBombError):
        return DataError(
            f"{path}: refused, the image is too large to decode safely ({exc}). Expected an "
            "image of at most PIL.Image.MAX_IMAGE_PIXELS pixels; shrink or remove the file."
        )
    return DataError(
        f"{path}: cannot read this image ({exc}). Expected a PNG or JPEG file that Pillow "
        "can decode; remove or replace the file."
    )


_READ_ERRORS = (UnidentifiedImageError, OSError, ValueError, SyntaxError)


def _image_size(path: Path) -> tuple[int, int]:
    """(H, W) from the header only, after checking the pixel limit; nothing is decoded."""
    try:
        with Image.open(path) as img:
            width, height = img.size
    except (Image.DecompressionBombError, *_READ_ERRORS) as exc:
        raise _unreadable(path, exc) from exc
    check_image_pixels(path, width, height)
    return height, width


def _read_image(path: Path, mode: str, size: tuple[int, int] | None) -> tuple[np.ndarray, float]:
    """Decode one file to an array of shape (H, W, C) and the value that stands for 1.0.

    8-bit images give uint8 and 255; 16-bit grayscale gives float32 and 65535.
    """
    try:
        with Image.open(path) as img:
            check_image_pixels(path, *img.size)  # again: the file may have changed
            sixteen = img.mode in _SIXTEEN_BIT
            target = "F" if sixteen else _PIL_MODE[mode]  # "F" holds 16-bit values exactly
            scale = 65535.0 if sixteen else 255.0
            if img.mode != target:
                img = img.convert(target)
            if size is not None and img.size != (size[1], size[0]):
                img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            pixels = np.array(img, dtype=np.float32 if sixteen else np.uint8)  # writable
    except (Image.DecompressionBombError, *_READ_ERRORS) as exc:
        raise _unreadable(path, exc) from exc
    pixels = pixels.reshape(pixels.shape[0], pixels.shape[1], -1)  # (H, W, C)
    if scale > 255:
        low, high = (float(pixels.min()), float(pixels.max())) if pixels.size else (0.0, 0.0)
        if low < 0 or high > scale:
            raise DataError(
                f"{path}: pixel values from {low:g} to {high:g} do not fit 16 bits; expected "
                "8-bit images or 16-bit images with values 0..65535. Convert the file."
            )
        if mode == "rgb":
            pixels = np.repeat(pixels, 3, axis=2)  # (H, W, 3)
    return pixels, scale


def _list_files(folder: Path) -> tuple[list[Path], list[int] | None, list[str] | None]:
    files = _images_in(folder)
    if files:
        return files, None, None
    classes = sorted(d for d in folder.iterdir() if d.is_dir() and _images_in(d))
    if not classes:
        kinds = ", ".join(sorted(IMAGE_SUFFIXES))
        raise DataError(
            f"{folder}: no images found; expected image files ({kinds}) in the folder or in "
            "one subfolder per class."
        )
    files, labels = [], []
    for label, class_dir in enumerate(classes):
        found = _images_in(class_dir)
        files += found
        labels += [label] * len(found)
    return files, labels, [d.name for d in classes]


def load_image_folder(
    path: str | Path,
    split: str = "train",
    *,
    mode: Literal["gray", "rgb"] = "rgb",
    size: tuple[int, int] | None = None,
    patch_size: int | tuple[int, int] | None = None,
    patches: PatchMode = "grid",
    n_patches: int | None = None,
    seed: int = 0,
) -> Dataset:
    """Read every image of a folder (or one image file) into one Dataset.

    Parameters
    ----------
    path : str or Path
        The folder, or one image file (a dataset of one image, or of its patches).
    split : str
        A subfolder of that name is read when present; otherwise ``"train"`` or ``"all"``
        read the whole folder.
    mode : {"gray", "rgb"}
        Convert each image to 1 (ITU-R BT.601 luma, by Pillow) or 3 channels.
    size : (int, int), optional
        Resize every image to height ``H`` and width ``W``.
    patch_size : int or (int, int), optional
        Cut patches of this size from each image instead of keeping whole images.
    patches : {"grid", "random"}
        How patches are placed (see :func:`~latentkit.data.patches.extract_patches`).
    n_patches : int, optional
        Patches per image in random mode.
    seed : int
        Seed of the random patch positions.

    Returns
    -------
    Dataset
        ``x`` float32 of shape (N, C, H, W) in [0, 1]; ``y`` int64 of shape (N,) when the
        images sit in class subfolders, else None.

    Raises
    ------
    DataError
        On an unreadable image (naming the file), an empty folder, images of different sizes
        without ``size`` or ``patch_size``, an unknown mode or split, an image over the pixel
        limit or a result over the data limit (see :mod:`latentkit.data.limits`).
    """
    folder = Path(path).expanduser()
    if mode not in _PIL_MODE:
        raise DataError(f"mode must be one of {', '.join(_PIL_MODE)}, got {mode!r}.")
    if folder.is_file():  # one image file: a dataset of one image (or of its patches)
        if folder.suffix.lower() not in IMAGE_SUFFIXES:
            kinds = ", ".join(sorted(IMAGE_SUFFIXES))
            raise DataError(f"{folder}: not an image file; expected one of {kinds}.")
        if split not in ("train", "all"):
            raise DataError(
                f"{folder}: one image file has no {split!r} split; pass split='all' (or 'train')."
            )
        files, labels, class_names = [folder], None, None
        folder = folder.parent
    else:
        if (folder / split).is_dir():
            folder = folder / split
        elif split not in ("train", "all"):
            raise DataError(
                f"{folder}: no subfolder {split!r}; pass split='all' (or 'train') to read the "
                "whole folder."
            )
        files, labels, class_names = _list_files(folder)
    channels = len(_PIL_MODE[mode])  # "L" -> 1, "RGB" -> 3
    shapes = [_image_size(f) for f in files]  # (H, W) of each, from the headers
    if patch_size is not None:
        counts = []
        for f, (h, w) in zip(files, shapes, strict=True):
            if size is not None:
                h, w = size
            try:
                counts.append(
                    patches_per_image(h, w, patch_size, mode=patches, n_patches=n_patches)
                )
            except ValueError as exc:
                raise DataError(f"{f}: {exc}") from exc
        pair = (patch_size, patch_size) if isinstance(patch_size, int) else tuple(patch_size)
        item = (channels, *pair)
    else:
        counts = [1] * len(files)
        odd = next((i for i, hw in enumerate(shapes) if hw != shapes[0]), None)
        if size is None and odd is not None:
            raise DataError(
                f"{folder}: images differ in size ({files[0].name} is {shapes[0]}, "
                f"{files[odd].name} is {shapes[odd]}); pass size=(H, W) to resize "
                "them or patch_size=P to cut equally sized patches."
            )
        item = (channels, *(size if size is not None else shapes[0]))
    n = sum(counts)
    label_bytes = 0 if labels is None else 8 * n
    check_data_bytes(
        folder,
        f"{len(files)} images as {n} float32 samples of shape {item}",
        n * int(np.prod(item)) * 4 + label_bytes,
    )
    x = np.empty((n, *item), dtype=np.float32)  # (N, C, H, W): the one full-size allocation
    generator = torch.Generator().manual_seed(seed)
    start = 0
    for f, count, shape in zip(files, counts, shapes, strict=True):
        pixels, scale = _read_image(f, mode, size)  # (H, W, C)
        if pixels.shape[:2] != (size or shape):
            raise DataError(f"{f}: the file changed while the folder was read; load again.")
        image = torch.from_numpy(pixels).permute(2, 0, 1)[None]  # (1, C, H, W)
        if patch_size is not None:
            try:
                image, _ = extract_patches(
                    image, patch_size, mode=patches, n_patches=n_patches, generator=generator
                )  # (count, C, P_h, P_w)
            except ValueError as exc:
                raise DataError(f"{f}: {exc}") from exc
        block = x[start : start + count]  # (count, C, H, W) view
        block[...] = image.numpy()
        np.divide(block, np.float32(scale), out=block)  # as exact as dividing a float32 tensor
        start += count
    y = None
    if labels is not None:
        y = torch.tensor(labels, dtype=torch.int64).repeat_interleave(torch.tensor(counts))
    meta = {
        "split": split if folder.name == split else "all",
        "folder": str(folder),
        "files": [str(f.relative_to(folder)) for f in files],
        "mode": mode,
        "size": None if size is None else list(size),
        "patch_size": patch_size if not isinstance(patch_size, tuple) else list(patch_size),
        "patches": patches if patch_size is not None else None,
        "seed": seed,
    }
    if class_names is not None:
        meta["class_names"] = class_names
    logger.debug("read %d images from %s", len(files), folder)
    return Dataset(torch.from_numpy(x), y, str(path), meta)
