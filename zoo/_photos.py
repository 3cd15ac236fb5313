"""The photos the pretrained photo models are trained and tested on.

Training photos are the colour photographs of ``<data>/images/natural`` that are not test
images: BSDS500 train, val and test minus the 68 images marked ``in_cbsd68`` in its
``manifest.csv`` (the usual "CBSD432"), plus SunHays80. Left out on purpose: CBSD68 (the
denoisers' test set), McMaster and Set14 (the colorizer's test sets), Set5 (an evaluation set)
and Train400, whose overlap with CBSD68 was never checked (``images/natural/README.md``). A
training photo whose name is also a CBSD68 test image is refused, whatever the manifest says.

Photos are decoded with Pillow (``convert("RGB")``, which reproduces the CBSD68 PNGs exactly
from the BSDS JPEGs) into float tensors in [0, 1]; gray versions use the BT.601 luma of
:func:`latentkit.data.transforms.rgb_to_gray`, rounded to 8 bits like a gray photo file.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from latentkit.data.paths import search_folders
from latentkit.data.transforms import rgb_to_gray
from latentkit.errors import DataError

__all__ = [
    "images_root",
    "random_patches",
    "read_rgb",
    "test_photos",
    "to_gray",
    "training_photos",
]

#: Evaluation sets: never trained on.
TEST_SETS = ("CBSD68", "McMaster", "Set14", "Set5")


def images_root() -> Path:
    """``<data>/images`` (``$LATENTKIT_DATA/images`` or the cache), holding ``natural/``."""
    for folder in search_folders("images"):
        if (folder / "natural" / "manifest.csv").is_file():
            return folder
    raise DataError(
        "the photo sets were not found: set LATENTKIT_DATA to the folder holding "
        "images/natural/manifest.csv and images/CBSD68 (see the data README)."
    )


def training_photos(root: Path | None = None) -> list[Path]:
    """The training photos (sorted paths): BSDS500 without CBSD68, and SunHays80."""
    root = root or images_root()
    natural = root / "natural"
    with open(natural / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    test_names = {p.stem for s in TEST_SETS for p in (root / s).glob("*.png")}
    photos = []
    for row in rows:
        if row["in_cbsd68"] != "0":
            continue
        path = natural / row["path"]
        if path.stem in test_names:
            raise DataError(f"{path}: is a test image ({path.stem}) but not marked in_cbsd68.")
        photos.append(path)
    if not photos:
        raise DataError(f"{natural / 'manifest.csv'}: lists no training photos.")
    return sorted(photos)


def test_photos(name: str, root: Path | None = None) -> list[Path]:
    """The PNG files of the test set ``name`` (``"CBSD68"``, ``"McMaster"``, ``"Set14"``)."""
    folder = (root or images_root()) / name
    paths = sorted(folder.glob("*.png"))
    if not paths:
        raise DataError(f"{folder}: no PNG test images found.")
    return paths


def read_rgb(path: Path) -> Tensor:
    """One photo as a float tensor ``(3, H, W)`` in [0, 1]."""
    from PIL import Image

    with Image.open(path) as image:
        array = np.asarray(image.convert("RGB"), dtype=np.uint8)  # (H, W, 3)
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float() / 255.0


def to_gray(rgb: Tensor) -> Tensor:
    """BT.601 luma of ``(N, 3, H, W)`` images, rounded to 8 bits: ``(N, 1, H, W)``."""
    return (rgb_to_gray(rgb) * 255.0).round() / 255.0


def random_patches(
    photos: list[Path], per_photo: int, size: int, *, gray: bool = False, seed: int = 0
) -> Tensor:
    """``per_photo`` random ``size`` x ``size`` patches of each photo: ``(N, C, size, size)``.

    Positions are drawn from a generator seeded with ``seed`` (the same patches every run);
    ``gray`` gives one-channel 8-bit luma patches, else RGB.
    """
    generator = torch.Generator().manual_seed(seed)
    out = []
    for path in photos:
        image = read_rgb(path)
        h, w = image.shape[-2:]
        if min(h, w) < size:
            raise DataError(f"{path}: {h}x{w} is smaller than the patch size {size}.")
        top = torch.randint(h - size + 1, (per_photo,), generator=generator)
        left = torch.randint(w - size + 1, (per_photo,), generator=generator)
        for i, j in zip(top.tolist(), left.tolist(), strict=True):
            out.append(image[:, i : i + size, j : j + size])
    patches = torch.stack(out)  # (N, 3, size, size)
    return to_gray(patches) if gray else patches
