"""Load a folder of images (PNG, JPEG, ...) with Pillow into an ``(N, C, H, W)`` Dataset.

Layout rules, in order:

1. if the folder has a subfolder named like the requested split (``train/``, ``test/``), that
   subfolder is read;
2. image files directly in the folder are read without labels;
3. otherwise each subfolder holding images is a class: labels follow the sorted subfolder
   names, which are stored in ``meta["class_names"]``.

Images of different sizes cannot be stacked: pass ``size=(H, W)`` to resize them all (bilinear),
or ``patch_size=P`` to cut equally sized patches from each (see
:func:`latentkit.data.patches.extract_patches`). Pixel values are divided by 255, so 16-bit
images are not supported.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from latentkit.data.dataset import Dataset
from latentkit.data.patches import PatchMode, extract_patches
from latentkit.errors import DataError

__all__ = ["IMAGE_SUFFIXES", "load_image_folder"]

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp"})

_PIL_MODE: dict[str, str] = {"gray": "L", "rgb": "RGB"}


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _read_image(path: Path, mode: str, size: tuple[int, int] | None) -> np.ndarray:
    """Decode one file to uint8 of shape (H, W, C)."""
    try:
        with Image.open(path) as img:
            img = img.convert(_PIL_MODE[mode])
            if size is not None and img.size != (size[1], size[0]):
                img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            pixels = np.array(img, dtype=np.uint8)  # writable copy
    except Image.DecompressionBombError as exc:
        raise DataError(
            f"{path}: refused, the image is too large to decode safely ({exc}). Expected an "
            "image of at most PIL.Image.MAX_IMAGE_PIXELS pixels; shrink or remove the file."
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DataError(
            f"{path}: cannot read this image ({exc}). Expected a PNG or JPEG file that Pillow "
            "can decode; remove or replace the file."
        ) from exc
    return pixels.reshape(pixels.shape[0], pixels.shape[1], -1)  # (H, W, C)


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
    """Read every image of a folder into one Dataset.

    Parameters
    ----------
    path : str or Path
        The folder.
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
        without ``size`` or ``patch_size``, or an unknown mode or split.
    """
    folder = Path(path).expanduser()
    if mode not in _PIL_MODE:
        raise DataError(f"mode must be one of {', '.join(_PIL_MODE)}, got {mode!r}.")
    if (folder / split).is_dir():
        folder = folder / split
    elif split not in ("train", "all"):
        raise DataError(
            f"{folder}: no subfolder {split!r}; pass split='all' (or 'train') to read the "
            "whole folder."
        )
    files, labels, class_names = _list_files(folder)
    arrays = [_read_image(f, mode, size) for f in files]  # each (H, W, C) uint8
    generator = torch.Generator().manual_seed(seed)
    y = None if labels is None else torch.tensor(labels, dtype=torch.int64)
    if patch_size is not None:
        chunks, sources = [], []
        for i, pixels in enumerate(arrays):
            image = torch.from_numpy(pixels).permute(2, 0, 1)[None]  # (1, C, H, W) uint8
            try:
                found, _ = extract_patches(
                    image, patch_size, mode=patches, n_patches=n_patches, generator=generator
                )
            except ValueError as exc:
                raise DataError(f"{files[i]}: {exc}") from exc
            chunks.append(found)
            sources.append(torch.full((len(found),), i, dtype=torch.int64))
        stacked = torch.cat(chunks)  # (N * P, C, P_h, P_w) uint8
        if y is not None:
            y = y[torch.cat(sources)]
    else:
        odd = next((i for i, a in enumerate(arrays) if a.shape != arrays[0].shape), None)
        if odd is not None:
            raise DataError(
                f"{folder}: images differ in size ({files[0].name} is {arrays[0].shape[:2]}, "
                f"{files[odd].name} is {arrays[odd].shape[:2]}); pass size=(H, W) to resize "
                "them or patch_size=P to cut equally sized patches."
            )
        stacked = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)  # (N, C, H, W)
    x = stacked.to(torch.float32).div_(255.0).contiguous()
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
    return Dataset(x, y, str(path), meta)
