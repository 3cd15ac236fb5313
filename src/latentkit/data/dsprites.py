"""dSprites, drawn procedurally: ``latentkit.datasets.load("dsprites")``, no download.

dSprites (Matthey, Higgins, Hassabis and Lerchner 2017, github.com/deepmind/dsprites-dataset)
is every combination of five factors, once each: shape (square, ellipse, heart), scale (6
values, ``linspace(0.5, 1, 6)``), orientation (40 values), x position and y position (32
values each, ``linspace(0, 1, 32)``): 3 * 6 * 40 * 32 * 32 = 737,280 binary 64 x 64 images.
Here they are drawn from the factors, so nothing is downloaded and nothing is stored:

- **order** as in the original file (``latents_classes``, colour dropped as it is constant):
  row ``i`` has factor classes ``(shape, scale, orientation, x, y)`` in row-major order with
  ``y`` fastest, ``i = (((shape * 6 + scale) * 40 + orientation) * 32 + x) * 32 + y``.
- **values** (``meta["factor_values"]``): shape 1, 2, 3 (square, ellipse, heart), scale
  ``linspace(0.5, 1, 6)``, x and y ``linspace(0, 1, 32)`` as in the original; orientation
  ``2 pi k / 40`` for k = 0..39, i.e. in [0, 2 pi) as this project's issue asks (the original
  file uses ``linspace(0, 2 pi, 40)``, whose first and last values are the same angle).
- **drawing**: a sprite of scale s is drawn in a 32 x 32 patch around its centre, in units of
  ``10 s`` pixels: the square is ``max(|u|, |v|) <= 1`` (20 s pixels wide), the ellipse
  ``u^2 + (v / 0.5)^2 <= 1`` (20 s by 10 s pixels), the heart ``(X^2 + Y^2 - 1)^3 <= X^2 Y^3``
  with ``X = 1.125 u``, ``Y = 1.125 v + 0.125`` (about 20 s pixels tall, tip down), where
  ``(u, v)`` are the pixel centre's coordinates rotated by minus the orientation
  (counter-clockwise as seen). A pixel is 1 when its centre is inside. The patch's top-left
  corner is at pixel ``(y class, x class)``, so the centre moves one pixel per class, from
  pixel 16 to 47 (x rightwards, y downwards); every sprite stays inside the image at every
  orientation. The original's sprites come from its own renderer: shapes, sizes and the
  position range are close to it but not pixel-identical, so scores compare with published
  ones as on the same factors, not the same pixels.
- **memory**: the 720 sprite patches (3 shapes * 6 scales * 40 orientations, 32 x 32 bits,
  0.7 MB) are drawn once and cached; ``x`` is a :class:`~latentkit.data.lazy.LazyRows` that
  places the patches for the rows asked for, so ``x[i:j]`` of shape ``(j - i, 1, 64, 64)``
  costs only itself (the full float32 array would be 12 GB).
- **labels**: ``y`` is the shape class (0 square, 1 ellipse, 2 heart); ``factors`` is the
  (N, 5) int64 tensor of factor classes; ``meta`` holds ``factor_names``, ``factor_sizes``
  and ``factor_values``.

The images are the same on every call (the drawing is a pure function of the factors; the
tests pin a checksum). ``split`` is ``"train"`` or ``"all"``, both the full grid: like
disentanglement_lib, models train on it and metrics are computed on seeded samples of it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from latentkit.data.dataset import Dataset
from latentkit.data.lazy import LazyRows
from latentkit.errors import DataError

__all__ = [
    "FACTOR_NAMES",
    "FACTOR_SIZES",
    "SHAPES",
    "DSpritesSource",
    "factor_values",
    "factors_of",
    "index_of",
    "render",
]

FACTOR_NAMES = ("shape", "scale", "orientation", "x", "y")
FACTOR_SIZES = (3, 6, 40, 32, 32)
SHAPES = ("square", "ellipse", "heart")
IMAGE_SIZE = 64
PATCH = 32  # the sprite's patch; its top-left corner moves over 32 positions
UNIT = 10.0  # pixels per sprite unit at scale 1


def factor_values() -> list[list[float]]:
    """The value of every class of every factor (see the module docstring)."""
    return [
        [1.0, 2.0, 3.0],
        np.linspace(0.5, 1.0, 6).tolist(),
        [2 * math.pi * k / 40 for k in range(40)],
        np.linspace(0.0, 1.0, 32).tolist(),
        np.linspace(0.0, 1.0, 32).tolist(),
    ]


def factors_of(ids: np.ndarray) -> np.ndarray:
    """Factor classes of rows ``ids``: int64 of shape (B, 5), in ``FACTOR_NAMES`` order."""
    ids = np.asarray(ids, dtype=np.int64)
    out = np.empty((len(ids), len(FACTOR_SIZES)), dtype=np.int64)
    rest = ids.copy()
    for k in range(len(FACTOR_SIZES) - 1, -1, -1):  # y is the fastest
        out[:, k] = rest % FACTOR_SIZES[k]
        rest //= FACTOR_SIZES[k]
    return out


def index_of(factors: np.ndarray) -> np.ndarray:
    """Row ids of factor classes (B, 5): the inverse of :func:`factors_of`."""
    factors = np.asarray(factors, dtype=np.int64)
    if factors.ndim != 2 or factors.shape[1] != len(FACTOR_SIZES):
        raise DataError(f"dsprites: expected factor classes of shape (B, 5), got {factors.shape}.")
    if (factors < 0).any() or (factors >= np.array(FACTOR_SIZES)).any():
        raise DataError(f"dsprites: factor classes must lie below {FACTOR_SIZES}.")
    ids = np.zeros(len(factors), dtype=np.int64)
    for k, size in enumerate(FACTOR_SIZES):
        ids = ids * size + factors[:, k]
    return ids


@functools.lru_cache(maxsize=1)
def _sprites() -> np.ndarray:
    """The 720 sprite patches: bool of shape (3, 6, 40, 32, 32), drawn once."""
    centre = np.arange(PATCH, dtype=np.float64) + 0.5 - PATCH / 2  # pixel centres around 0
    dx = centre[None, :]  # (1, 32): rightwards
    dy = -centre[:, None]  # (32, 1): upwards
    scales = np.linspace(0.5, 1.0, 6)
    out = np.zeros((3, 6, 40, PATCH, PATCH), dtype=bool)
    for o in range(40):
        theta = 2 * math.pi * o / 40
        c, s = math.cos(theta), math.sin(theta)
        u0, v0 = c * dx + s * dy, -s * dx + c * dy  # (32, 32): rotated by -theta
        for j, scale in enumerate(scales):
            u, v = u0 / (UNIT * scale), v0 / (UNIT * scale)
            out[0, j, o] = np.maximum(np.abs(u), np.abs(v)) <= 1.0
            out[1, j, o] = u**2 + (v / 0.5) ** 2 <= 1.0
            hx, hy = 1.125 * u, 1.125 * v + 0.125
            out[2, j, o] = (hx**2 + hy**2 - 1.0) ** 3 <= hx**2 * hy**3
    return out


def render(ids: np.ndarray) -> Tensor:
    """The images of rows ``ids`` (int64 of shape (B,)): float32 of shape (B, 1, 64, 64), 0/1."""
    f = factors_of(ids)  # (B, 5)
    patches = _sprites()[f[:, 0], f[:, 1], f[:, 2]]  # (B, 32, 32)
    images = np.zeros((len(f), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    offs = np.arange(PATCH)
    rows = f[:, 4, None, None] + offs[None, :, None]  # (B, 32, 1): y class is the top row
    cols = f[:, 3, None, None] + offs[None, None, :]  # (B, 1, 32): x class is the left column
    images[np.arange(len(f))[:, None, None], rows, cols] = patches
    return torch.from_numpy(images).unsqueeze(1).float()


@dataclasses.dataclass(frozen=True)
class DSpritesSource:
    """The procedural dSprites as a named source (see the module docstring)."""

    name: str = "dsprites"
    evaluation_split: str = "train"  # no test split: reports and evaluations read the grid

    def load(self, split: str = "train", root: str | Path | None = None) -> Dataset:
        """The full grid of 737,280 images, drawn on demand.

        Parameters
        ----------
        split : {"train", "all"}
            Both give the full grid (dSprites has no test split).
        root : str or Path, optional
            Ignored (nothing is read).

        Returns
        -------
        Dataset
            ``x`` a LazyRows of shape (737280, 1, 64, 64) (float32 rows of 0 and 1 when
            indexed), ``y`` the shape class (int64), ``factors`` (737280, 5) int64.
        """
        if split not in ("train", "all"):
            raise DataError(
                f"dsprites: unknown split {split!r}; expected train or all (both the full "
                "grid: dSprites has no test split; score on seeded samples of it)."
            )
        total = int(np.prod(FACTOR_SIZES))
        x = LazyRows(render, total, (1, IMAGE_SIZE, IMAGE_SIZE), (0.0, 1.0), self.name)
        factors = torch.from_numpy(factors_of(np.arange(total)))  # (N, 5) int64, 29 MB
        meta = {
            "split": split,
            "files": [],
            "source": "drawn procedurally by latentkit.data.dsprites (dSprites' factor grid)",
            "class_names": list(SHAPES),
            "factor_names": list(FACTOR_NAMES),
            "factor_sizes": list(FACTOR_SIZES),
            "factor_values": factor_values(),
        }
        return Dataset(x, factors[:, 0].clone(), self.name, meta, factors=factors)

    def describe(self, root: str | Path | None = None) -> str:
        """dSprites is drawn, so always available."""
        return "dsprites: drawn procedurally (737,280 images of 64x64), always available offline"


DSPRITES = DSpritesSource()
