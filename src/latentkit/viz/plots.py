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
    "plot_attribute_edits",
    "plot_image_grid",
    "plot_interpolations",
    "plot_manifold",
    "plot_reconstructions",
    "plot_restoration",
    "plot_samples",
    "plot_traversals",
]

ArrayLike = torch.Tensor | np.ndarray

#: the figure label of a decoded manifold (lets a report see that a caller drew one)
MANIFOLD_LABEL = "latentkit:manifold"
#: colour (RGB in [0, 1]) that tints the missing pixels of an inpainting input
MASK_TINT = np.array([1.0, 0.2, 0.6], dtype=np.float32)
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


def _default_grid_values(n: int, span: float = 0.95) -> np.ndarray:
    """The coordinates :func:`latentkit.apps.latent.latent_grid` uses by default, ``(n,)``."""
    q = torch.linspace(1 - span, span, n)
    return torch.distributions.Normal(0.0, 1.0).icdf(q).double().numpy()


def _tick_indices(n: int, most: int = 8) -> list[int]:
    """Up to ``most`` evenly spaced indices of ``n`` cells, first and last included (every
    k-th cell for the smallest k dividing ``n - 1`` that keeps at most ``most`` ticks)."""
    if n <= most:
        return list(range(n))
    for step in range(2, n):
        if (n - 1) % step == 0 and (n - 1) // step + 1 <= most:
            if (n - 1) // step >= 2:
                return list(range(0, n, step))
            break
    return sorted({round(i * (n - 1) / (most - 1)) for i in range(most)})


def plot_manifold(
    grid: ArrayLike,
    *,
    values: ArrayLike | None = None,
    title: str = "Decoded 2-D latent manifold",
) -> Figure:
    """The decoded grid over a 2-D latent space from :func:`latentkit.apps.latent.latent_grid`.

    Parameters
    ----------
    grid : Tensor or ndarray of shape (n, m, C, H, W)
        Row 0 is drawn at the top (the largest second latent coordinate).
    values : Tensor or ndarray of shape (m,), optional
        The latent coordinate of each grid column (and, top row last, of each row), drawn as
        tick values on both axes; default the normal quantiles ``latent_grid`` uses with its
        default ``span`` (a square grid).
    """
    array = np.asarray(grid.detach().cpu() if isinstance(grid, torch.Tensor) else grid)
    if array.ndim != 5:
        raise ValueError(
            f"grid must have shape (n, m, C, H, W) as returned by latent_grid, got {array.shape}."
        )
    rows, cols = array.shape[:2]
    if values is None:
        vals = _default_grid_values(cols)
    else:
        vals = np.asarray(values.cpu() if isinstance(values, torch.Tensor) else values, float)
    if vals.shape != (cols,) or rows != cols:
        raise ValueError(
            f"values must hold one coordinate per grid column, shape ({cols},), for a square "
            f"grid; got values of shape {vals.shape} for a {rows} x {cols} grid."
        )
    padding = 1
    picture = image_grid(array.reshape(rows * cols, *array.shape[2:]), cols, padding=padding)
    fig = new_figure(*_size(picture, cols, label_chars=4))
    fig.set_label(MANIFOLD_LABEL)
    ax = fig.add_subplot()
    show_image(ax, picture)
    h, w = array.shape[3:]
    ticks = _tick_indices(cols)
    ax.set_xticks([padding + k * (w + padding) + w / 2 - 0.5 for k in ticks])
    ax.set_xticklabels([f"{vals[k]:+.1f}" for k in ticks], fontsize="small")
    ax.set_yticks([padding + k * (h + padding) + h / 2 - 0.5 for k in ticks])
    ax.set_yticklabels([f"{vals[::-1][k]:+.1f}" for k in ticks], fontsize="small")
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
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
    labels: Sequence[str] | None = None,
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
    labels : sequence of str, optional
        One label per row instead of ``z[d]`` (e.g. with the KL and the factor it captures).
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
    if labels is not None:
        labels = list(labels)
        if len(labels) != rows:
            raise ValueError(f"labels has {len(labels)} entries but images has {rows} rows.")
    elif vals.ndim == 1:
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


def plot_attribute_edits(
    inputs: ArrayLike,
    edits: ArrayLike,
    strengths: ArrayLike,
    *,
    title: str = "Attribute vector",
) -> Figure:
    """One row per input: the input, then its edit at each strength (latent arithmetic).

    Parameters
    ----------
    inputs : Tensor or ndarray of shape (N, C, H, W)
        The images whose codes were edited.
    edits : Tensor or ndarray of shape (S, N, C, H, W)
        As returned by :func:`latentkit.apps.latent.apply_attribute`: ``decode(encode(x) +
        s * vector)`` for each of ``S`` strengths.
    strengths : Tensor or ndarray of shape (S,)
        The strengths, shown under the columns (0 is the reconstruction).
    """
    x = as_image_array(inputs)
    array = np.asarray(edits.detach().cpu() if isinstance(edits, torch.Tensor) else edits)
    vals = np.asarray(
        strengths.cpu() if isinstance(strengths, torch.Tensor) else strengths, dtype=float
    )
    if array.ndim != 5 or array.shape[1:] != x.shape or vals.shape != (array.shape[0],):
        raise ValueError(
            f"edits must have shape (S, N, C, H, W) with (N, C, H, W) = {x.shape} and "
            f"strengths shape (S,); got edits {array.shape} and strengths {vals.shape}."
        )
    steps, rows = array.shape[:2]
    cells = np.concatenate([x[None], array]).transpose(1, 0, 2, 3, 4)  # (N, 1 + S, C, H, W)
    padding = 1
    picture = image_grid(cells.reshape(-1, *x.shape[1:]), steps + 1, padding=padding)
    labels = [f"input {i + 1}" for i in range(rows)]
    fig = new_figure(*_size(picture, steps + 1, label_chars=max(map(len, labels))))
    _row_labelled(fig, picture, x.shape[2:], labels, padding)
    ax = fig.axes[0]
    w = x.shape[3]
    ax.set_xticks([padding + k * (w + padding) + w / 2 - 0.5 for k in range(steps + 1)])
    names = ["input"] + [f"{v:+.1f}" if v else "0 (rec.)" for v in vals]
    ax.set_xticklabels(names, fontsize="small")
    ax.tick_params(axis="x", length=0)
    ax.set_title(title)
    return fig


def _mean_psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.square(a.astype(np.float64) - b).reshape(len(a), -1).mean(1)
    return float(np.mean(10 * np.log10(1.0 / np.maximum(mse, 1e-12))))


def _tint(images: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """RGB copies of ``images`` ``(N, C, H, W)`` with the ``missing`` pixels ``(N, H, W)``
    blended half-way towards :data:`MASK_TINT`, visible on black and on white alike."""
    rgb = np.repeat(images, 3, axis=1) if images.shape[1] == 1 else images.copy()
    tint = MASK_TINT[None, :, None, None]
    return np.where(missing[:, None], 0.5 * rgb + 0.5 * tint, rgb)


def _mask_array(mask: ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
    """A missing-pixel mask ``(N, C or 1, H, W)`` as bool ``(N, H, W)`` (missing in any
    channel), checked against the images' ``shape``."""
    m = np.asarray(mask.detach().cpu() if isinstance(mask, torch.Tensor) else mask)
    n, _, h, w = shape
    if m.ndim != 4 or m.shape[0] < n or m.shape[2:] != (h, w):
        raise ValueError(
            f"mask must have shape (N, C, H, W) (True = missing) matching the images {shape}, "
            f"got {m.shape}."
        )
    return m[:n].astype(bool).any(axis=1)


def plot_restoration(
    corrupted: ArrayLike,
    output: ArrayLike,
    clean: ArrayLike,
    *,
    task: str = "denoise",
    n: int = 8,
    mask: ArrayLike | None = None,
) -> Figure:
    """Before/after panel of a restoration task (denoise, inpaint, colorize).

    Rows: the corrupted input, the model's output and the clean target; the output and input
    rows carry their mean PSNR (dB, data range 1) against the target in their titles, and the
    task is the figure's title (once). A gray input (C = 1) next to an RGB target (colorize) is
    repeated over three channels. For inpainting, ``mask`` marks the missing pixels: they are
    tinted in the input row (a black box on a black background would be invisible) and
    outlined in the output row.

    Parameters
    ----------
    corrupted, output, clean : Tensor or ndarray of shape (N, C, H, W)
        Values in [0, 1]; the first ``n`` of each are drawn.
    task : str
        Name shown in the title.
    mask : Tensor or ndarray of shape (N, C, H, W) or (N, 1, H, W), bool, optional
        True where a pixel was missing (as returned by the corruptions).
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
    missing = None if mask is None else _mask_array(mask, x.shape)
    shown = x if missing is None else _tint(x, missing)
    input_label = f"input (PSNR {_mean_psnr(x, t):.1f} dB)"
    if missing is not None:
        input_label = f"input, missing pixels tinted (PSNR {_mean_psnr(x, t):.1f} dB)"
    rows = [
        (shown, input_label),
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
        if missing is not None and i == 1:  # the filled-in region of the output
            outline = image_grid(missing[:, None].astype(np.float32), len(x), pad_value=0.0)
            ax.contour(outline[..., 0], levels=[0.5], colors=[tuple(MASK_TINT)], linewidths=1.0)
    fig.suptitle(task)
    return fig
