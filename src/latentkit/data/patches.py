"""Patch extraction from image batches: a regular grid or random positions, vectorised.

Patch-based training (e.g. DnCNN, Zhang et al., "Beyond a Gaussian Denoiser", IEEE TIP 2017)
turns a few large images into many small, equally sized samples. Both modes gather all patches
of a batch with one indexing operation; random positions come from an explicit
``torch.Generator`` so a seed reproduces the same patches.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

__all__ = ["PatchMode", "extract_patches", "patches_per_image"]

PatchMode = Literal["grid", "random"]


def _pair(value: int | tuple[int, int], what: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or any(not isinstance(v, int) or v < 1 for v in pair):
        raise ValueError(f"{what} must be a positive int or a pair (H, W) of them, got {value!r}.")
    return pair  # type: ignore[return-value]


def patches_per_image(
    height: int,
    width: int,
    patch_size: int | tuple[int, int],
    *,
    mode: PatchMode = "grid",
    stride: int | tuple[int, int] | None = None,
    n_patches: int | None = None,
) -> int:
    """How many patches :func:`extract_patches` cuts from one image of ``height`` x ``width``.

    Lets a caller size its output before decoding any image. The options and errors are those
    of :func:`extract_patches`.

    Raises
    ------
    ValueError
        If a patch is larger than the image, or the options do not fit the mode.
    """
    ph, pw = _pair(patch_size, "patch_size")
    if ph > height or pw > width:
        raise ValueError(
            f"patch_size ({ph}, {pw}) is larger than the images ({height}, {width}); "
            "pass a smaller patch_size or resize the images first."
        )
    if mode == "grid":
        if n_patches is not None:
            raise ValueError("n_patches is for mode='random'; grid mode takes every patch.")
        sh, sw = _pair(stride if stride is not None else (ph, pw), "stride")
        return ((height - ph) // sh + 1) * ((width - pw) // sw + 1)
    if mode == "random":
        if stride is not None:
            raise ValueError("stride is for mode='grid'; random mode draws positions.")
        if n_patches is None or n_patches < 1:
            raise ValueError(f"mode='random' needs n_patches >= 1, got {n_patches!r}.")
        return n_patches
    raise ValueError(f"mode must be 'grid' or 'random', got {mode!r}.")


def extract_patches(
    x: Tensor,
    patch_size: int | tuple[int, int],
    *,
    mode: PatchMode = "grid",
    stride: int | tuple[int, int] | None = None,
    n_patches: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Cut patches out of a batch of images.

    Parameters
    ----------
    x : Tensor of shape (N, C, H, W)
        Images.
    patch_size : int or (int, int)
        Patch height and width ``(P_h, P_w)``; an int gives square patches.
    mode : {"grid", "random"}
        ``"grid"``: every patch on a regular grid with step ``stride`` (default: the patch
        size, i.e. non-overlapping; a border narrower than a patch is dropped).
        ``"random"``: ``n_patches`` patches per image at uniformly drawn positions.
    stride : int or (int, int), optional
        Grid step (grid mode only).
    n_patches : int, optional
        Patches per image (random mode only, required there).
    generator : torch.Generator, optional
        Source of the random positions.

    Returns
    -------
    patches : Tensor of shape (N * P, C, P_h, P_w)
        The patches, image by image (all patches of image 0 first).
    source : Tensor of shape (N * P,), int64
        Index of the image each patch comes from (to carry labels along).

    Raises
    ------
    ValueError
        If ``x`` is not 4-d, a patch is larger than the images, or the options do not fit
        the mode.
    """
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got {tuple(x.shape)}.")
    n, c, h, w = x.shape
    per_image = patches_per_image(
        h, w, patch_size, mode=mode, stride=stride, n_patches=n_patches
    )  # checks every option
    ph, pw = _pair(patch_size, "patch_size")
    if mode == "grid":
        sh, sw = _pair(stride if stride is not None else (ph, pw), "stride")
        grid = x.unfold(2, ph, sh).unfold(3, pw, sw)  # (N, C, nH, nW, P_h, P_w)
        patches = grid.permute(0, 2, 3, 1, 4, 5).reshape(n * per_image, c, ph, pw)
    else:  # random
        top = torch.randint(0, h - ph + 1, (n, per_image), generator=generator)  # (N, P)
        left = torch.randint(0, w - pw + 1, (n, per_image), generator=generator)  # (N, P)
        rows = top[:, :, None] + torch.arange(ph)  # (N, P, P_h)
        cols = left[:, :, None] + torch.arange(pw)  # (N, P, P_w)
        image = torch.arange(n)[:, None, None, None]  # (N, 1, 1, 1)
        picked = x.permute(0, 2, 3, 1)[image, rows[..., None], cols[:, :, None, :]]
        # picked: (N, P, P_h, P_w, C)
        patches = picked.permute(0, 1, 4, 2, 3).reshape(n * per_image, c, ph, pw)
    source = torch.arange(n).repeat_interleave(per_image)
    return patches.contiguous(), source
