"""Figures of images: reconstructions, samples, manifolds, interpolations, traversals and
before/after panels for restoration tasks.

Every function takes tensors that were already computed (by a model, ``latentkit.apps`` or
``latentkit.evaluation``) and returns a :class:`matplotlib.figure.Figure`; nothing here runs a
model. Images are ``(N, C, H, W)`` in [0, 1]: gray (C = 1) is drawn with a gray colormap, RGB
(C = 3) as is. Tables ``(N, D)`` raise ``ValueError``. Layouts follow the usual VAE figures:
the "manifold" of a 2-D latent space as in Kingma and Welling (2014, fig. 4) and latent
traversals (one dimension varied at a time) as in Higgins et al. (2017, beta-VAE).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from latentkit.viz.grids import as_image_array, image_grid, new_figure, show_image

__all__ = [
    "plot_image_grid",
    "plot_interpolations",
    "plot_manifold",
    "plot_reconstructions",
    "plot_restoration",
    "plot_samples",
    "plot_traversals",
]

ArrayLike = torch.Tensor | np.ndarray

#: inches per displayed image cell; small images are enlarged with nearest-neighbour pixels
_CELL = 0.55


def _size(picture: np.ndarray, cells: int, *, label_chars: int = 0) -> tuple[float, float]:
    """Figure size (inches) for a tiled ``picture`` ``(H', W', C)`` that is ``cells`` images
    wide, leaving room for row labels of ``label_chars`` characters and a title."""
    extra_w = 0.09 * label_chars + (0.3 if label_chars else 0.0)
    image_w = float(np.clip(cells * _CELL, 2.5, 11.0))
    image_h = image_w * picture.shape[0] / picture.shape[1]
    return image_w + extra_w + 0.2, min(image_h, 14.0) + 0.7


def _row_labelled(
    fig: Figure, picture: np.ndarray, shape: tuple[int, int], labels: Sequence[str], padding: int
) -> None:
    """Draw a tiled picture with one y-tick label per grid row."""
    ax = fig.add_subplot()
    show_image(ax, picture)
    h = shape[0]
    ax.set_yticks([padding + r * (h + padding) + h / 2 - 0.5 for r in range(len(labels))])
    ax.set_yticklabels(labels)
    ax.tick_params(axis="y", length=0)


def plot_image_grid(
    images: ArrayLike, *, nrow: int = 8, title: str | None = None, max_images: int = 64
) -> Figure:
    """A grid of images.

    Parameters
    ----------
    images : Tensor or ndarray of shape (N, C, H, W)
        Values in [0, 1]; the first ``max_images`` are drawn.
    nrow : int
        Images per grid row.
    title : str, optional
        Figure title.
    """
    array = as_image_array(images)[:max_images]
    picture = image_grid(array, nrow)
    fig = new_figure(*_size(picture, min(nrow, len(array))))
    ax = fig.add_subplot()
    show_image(ax, picture)
    if title:
        ax.set_title(title)
    return fig


def plot_samples(samples: ArrayLike, *, nrow: int = 8, title: str = "Samples") -> Figure:
    """A grid of generated samples ``(N, C, H, W)`` (see :func:`plot_image_grid`)."""
    return plot_image_grid(samples, nrow=nrow, title=title)


def plot_reconstructions(
    inputs: ArrayLike, reconstructions: ArrayLike, *, n: int = 16, nrow: int = 8
) -> Figure:
    """Inputs and their reconstructions in alternating grid rows.

    Parameters
    ----------
    inputs, reconstructions : Tensor or ndarray of shape (N, C, H, W)
        Matching images in [0, 1]; the first ``n`` pairs are drawn.
    nrow : int
        Pairs per grid row.
    """
    x = as_image_array(inputs, "inputs")[:n]
    r = as_image_array(reconstructions, "reconstructions")[:n]
    if x.shape != r.shape:
        raise ValueError(
            f"inputs and reconstructions must have the same shape, got {x.shape} and {r.shape}."
        )
    cols = min(nrow, len(x))
    blocks, labels = [], []
    for start in range(0, len(x), cols):
        chunk_x, chunk_r = x[start : start + cols], r[start : start + cols]
        pad = cols - len(chunk_x)
        if pad:  # keep whole grid rows: fill the last one with blank (white) cells
            blank = np.ones((pad, *x.shape[1:]), dtype=np.float32)
            chunk_x, chunk_r = np.concatenate([chunk_x, blank]), np.concatenate([chunk_r, blank])
        blocks += [chunk_x, chunk_r]
        labels += ["input", "reconstruction"]
    padding = 1
    picture = image_grid(np.concatenate(blocks), cols, padding=padding)
    fig = new_figure(*_size(picture, cols, label_chars=14))
    _row_labelled(fig, picture, x.shape[2:], labels, padding)
    fig.suptitle("Inputs and reconstructions")
    return fig


def plot_manifold(grid: ArrayLike, *, title: str = "Decoded 2-D latent manifold") -> Figure:
    """The decoded grid over a 2-D latent space from :func:`latentkit.apps.latent.latent_grid`.

    Parameters
    ----------
    grid : Tensor or ndarray of shape (n, m, C, H, W)
        Row 0 is drawn at the top (the largest second latent coordinate).
    """
    array = np.asarray(grid.detach().cpu() if isinstance(grid, torch.Tensor) else grid)
    if array.ndim != 5:
        raise ValueError(
            f"grid must have shape (n, m, C, H, W) as returned by latent_grid, got {array.shape}."
        )
    rows, cols = array.shape[:2]
    picture = image_grid(array.reshape(rows * cols, *array.shape[2:]), cols, padding=1)
    fig = new_figure(*_size(picture, cols, label_chars=4))
    ax = fig.add_subplot()
    show_image(ax, picture)
    ax.set_xlabel("z[0] →")
    ax.set_ylabel("z[1] →")
    ax.set_title(title)
    return fig


def plot_interpolations(path: ArrayLike, *, title: str = "Latent interpolations") -> Figure:
    """One strip per pair: the decoded walk between two codes, left to right.

    Parameters
    ----------
    path : Tensor or ndarray of shape (T, N, C, H, W)
        As returned by :func:`latentkit.apps.latent.interpolate`: ``T`` steps for ``N`` pairs.
    """
    array = np.asarray(path.detach().cpu() if isinstance(path, torch.Tensor) else path)
    if array.ndim != 5:
        raise ValueError(
            f"path must have shape (steps, pairs, C, H, W) as returned by interpolate, "
            f"got {array.shape}."
        )
    steps, pairs = array.shape[:2]
    strips = array.transpose(1, 0, 2, 3, 4).reshape(pairs * steps, *array.shape[2:])
    padding = 1
    picture = image_grid(strips, steps, padding=padding)
    fig = new_figure(*_size(picture, steps, label_chars=6))
    _row_labelled(fig, picture, array.shape[3:], [f"pair {i + 1}" for i in range(pairs)], padding)
    ax = fig.axes[0]
    ax.set_xticks([padding + array.shape[4] / 2 - 0.5, picture.shape[1] - array.shape[4] / 2 - 1])
    ax.set_xticklabels(["start", "end"])
    ax.tick_params(axis="x", length=0)
    ax.set_title(title)
    return fig


def plot_traversals(
    images: ArrayLike,
    values: ArrayLike,
    *,
    dims: Sequence[int] | None = None,
    title: str = "Latent traversals",
) -> Figure:
    """One row per latent dimension: decodings as that dimension alone is varied.

    Parameters
    ----------
    images : Tensor or ndarray of shape (D, S, C, H, W)
        ``S`` decodings for each of ``D`` dimensions.
    values : Tensor or ndarray of shape (S,) or (D, S)
        The values the dimension took, shared by all rows or one range per row.
    dims : sequence of int, optional
        The latent index of each row (default ``0 .. D-1``), used in the row labels.
    """
    array = np.asarray(images.detach().cpu() if isinstance(images, torch.Tensor) else images)
    if array.ndim != 5:
        raise ValueError(
            f"images must have shape (dims, steps, C, H, W), got {array.shape}; "
            "see latentkit.viz.report.latent_traversals."
        )
    rows, steps = array.shape[:2]
    vals = np.asarray(values.cpu() if isinstance(values, torch.Tensor) else values, dtype=float)
    if vals.shape not in ((steps,), (rows, steps)):
        raise ValueError(
            f"values must have shape ({steps},) or ({rows}, {steps}) to match images "
            f"{array.shape}, got {vals.shape}."
        )
    dims = list(range(rows)) if dims is None else list(dims)
    if len(dims) != rows:
        raise ValueError(f"dims has {len(dims)} entries but images has {rows} rows.")
    padding = 1
    picture = image_grid(array.reshape(rows * steps, *array.shape[2:]), steps, padding=padding)
    if vals.ndim == 1:
        labels = [f"z[{d}]" for d in dims]
    else:
        labels = [f"z[{d}] {v[0]:+.1f}…{v[-1]:+.1f}" for d, v in zip(dims, vals, strict=True)]
    fig = new_figure(*_size(picture, steps, label_chars=max(map(len, labels))))
    _row_labelled(fig, picture, array.shape[3:], labels, padding)
    ax = fig.axes[0]
    if vals.ndim == 1:
        w = array.shape[4]
        ax.set_xticks([padding + k * (w + padding) + w / 2 - 0.5 for k in range(steps)])
        ax.set_xticklabels([f"{v:+.1f}" for v in vals], fontsize="small")
        ax.tick_params(axis="x", length=0)
    ax.set_title(title)
    return fig


def _mean_psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.square(a.astype(np.float64) - b).reshape(len(a), -1).mean(1)
    return float(np.mean(10 * np.log10(1.0 / np.maximum(mse, 1e-12))))


def plot_restoration(
    corrupted: ArrayLike,
    output: ArrayLike,
    clean: ArrayLike,
    *,
    task: str = "denoise",
    n: int = 8,
) -> Figure:
    """Before/after panel of a restoration task (denoise, inpaint, colorize).

    Rows: the corrupted input, the model's output and the clean target; the output and input
    rows carry their mean PSNR (dB, data range 1) against the target in their titles. A gray
    input (C = 1) next to an RGB target (colorize) is repeated over three channels.

    Parameters
    ----------
    corrupted, output, clean : Tensor or ndarray of shape (N, C, H, W)
        Values in [0, 1]; the first ``n`` of each are drawn.
    task : str
        Name shown in the title.
    """
    x = as_image_array(corrupted, "corrupted")[:n]
    y = as_image_array(output, "output")[:n]
    t = as_image_array(clean, "clean")[:n]
    if y.shape != t.shape:
        raise ValueError(f"output and clean must have the same shape, got {y.shape} and {t.shape}.")
    if x.shape[1] == 1 and t.shape[1] == 3:
        x = np.repeat(x, 3, axis=1)
    if x.shape != t.shape:
        raise ValueError(
            f"corrupted must have the shape of clean (or be its gray version), "
            f"got {x.shape} and {t.shape}."
        )
    rows = [
        (x, f"input (PSNR {_mean_psnr(x, t):.1f} dB)"),
        (y, f"{task} output (PSNR {_mean_psnr(y, t):.1f} dB)"),
        (t, "clean target"),
    ]
    pictures = [image_grid(images, len(images)) for images, _ in rows]
    width, height = _size(pictures[0], len(x))
    fig = new_figure(width, 3 * (height - 0.7) + 1.6)
    for i, (picture, (_, label)) in enumerate(zip(pictures, rows, strict=True)):
        ax = fig.add_subplot(3, 1, i + 1)
        show_image(ax, picture)
        ax.set_title(label, fontsize="medium")
    fig.suptitle(task)
    return fig
