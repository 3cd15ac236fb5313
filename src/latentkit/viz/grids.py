"""Image tiling and figure output shared by the plotting functions.

Images are ``(N, C, H, W)`` tensors (or arrays) in [0, 1] with ``C`` = 1 (gray) or 3 (RGB).
Tables ``(N, D)`` have no pixel layout and are refused with a ``ValueError``. Figures are plain
:class:`matplotlib.figure.Figure` objects rendered through the Agg canvas: nothing here touches
``pyplot`` or its global state, so importing :mod:`latentkit.viz` selects no backend.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from latentkit._io import atomic_write_bytes

__all__ = [
    "as_image_array",
    "figure_to_png_bytes",
    "image_grid",
    "new_figure",
    "save_figure",
    "show_image",
]

logger = logging.getLogger(__name__)

#: resolution of every PNG written by latentkit
DPI = 100


def as_image_array(images: torch.Tensor | np.ndarray, what: str = "images") -> np.ndarray:
    """Check ``images`` and return them as a float32 array of shape ``(N, C, H, W)`` in [0, 1].

    Parameters
    ----------
    images : Tensor or ndarray of shape (N, C, H, W)
        ``C`` must be 1 (gray) or 3 (RGB). Values outside [0, 1] are clipped.
    what : str
        Name used in error messages.

    Raises
    ------
    ValueError
        For tables ``(N, D)``, other ranks, channel counts other than 1 or 3, empty input or
        non-finite values.
    """
    if isinstance(images, torch.Tensor):
        images = images.detach().float().cpu().numpy()
    array = np.asarray(images, dtype=np.float32)
    if array.ndim == 2:
        raise ValueError(
            f"{what} has shape {array.shape}: tabular rows (N, D) cannot be shown as images. "
            "Plot codes or scores instead, or reshape the rows to (N, C, H, W) if they are images."
        )
    if array.ndim != 4:
        raise ValueError(f"{what} must have shape (N, C, H, W), got {array.shape}.")
    if array.shape[1] not in (1, 3):
        raise ValueError(
            f"{what} must have 1 (gray) or 3 (RGB) channels, got C={array.shape[1]} "
            f"in shape {array.shape}."
        )
    if array.shape[0] == 0:
        raise ValueError(f"{what} is empty: need at least one image.")
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contains NaN or infinite values.")
    return np.clip(array, 0.0, 1.0)


def image_grid(
    images: torch.Tensor | np.ndarray, nrow: int = 8, *, padding: int = 1, pad_value: float = 1.0
) -> np.ndarray:
    """Tile images into one picture, ``nrow`` images per row (as torchvision's ``make_grid``).

    Parameters
    ----------
    images : Tensor or ndarray of shape (N, C, H, W)
        Values in [0, 1]; C = 1 or 3.
    nrow : int
        Images per grid row; the last row is filled with ``pad_value``.
    padding : int
        Pixels between images and around the border.
    pad_value : float
        Gray level of the padding.

    Returns
    -------
    ndarray of shape (H', W', C), float32
        With ``H' = rows * (H + padding) + padding`` and ``W' = ncol * (W + padding) + padding``,
        where ``ncol = min(nrow, N)``.
    """
    if nrow < 1:
        raise ValueError(f"nrow must be >= 1, got {nrow}.")
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}.")
    array = as_image_array(images)
    n, c, h, w = array.shape
    ncol = min(nrow, n)
    nrows = -(-n // ncol)
    out = np.full(
        (nrows * (h + padding) + padding, ncol * (w + padding) + padding, c),
        pad_value,
        dtype=np.float32,
    )
    for i in range(n):
        r, k = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + k * (w + padding)
        out[top : top + h, left : left + w] = array[i].transpose(1, 2, 0)  # (H, W, C)
    return out


def show_image(ax: Axes, picture: np.ndarray) -> None:
    """Draw an ``(H, W, C)`` picture on ``ax``: gray colormap for C = 1, RGB as is; no ticks."""
    if picture.shape[-1] == 1:
        ax.imshow(picture[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(picture, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def new_figure(width: float, height: float) -> Figure:
    """A pyplot-free figure of ``width`` x ``height`` inches with an Agg canvas attached."""
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure_to_png_bytes(fig: Figure) -> bytes:
    """Render ``fig`` to PNG and return the file's bytes."""
    if not isinstance(fig, Figure):
        raise TypeError(f"expected a matplotlib Figure, got {type(fig).__name__}.")
    buffer = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as a PNG file at ``path`` atomically; return the path.

    Raises
    ------
    ValueError
        If ``path`` does not end in ``.png``.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"save_figure writes PNG files; give a path ending in .png, got {path}.")
    atomic_write_bytes(path, figure_to_png_bytes(fig))
    logger.debug("wrote figure %s", path)
    return path
