"""Apply a patch model to images of any size: overlapping patches blended with a window.

Each image is padded (reflect) so that patches of size ``P`` at step ``stride`` tile it, every
patch is processed, and the outputs are summed back with a separable weight that is largest
in the patch centre (a raised-cosine window with a floor), then divided by the summed weights.
Overlap plus tapering removes the seams that non-overlapping tiles leave.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["apply_patchwise", "blend_window"]


def blend_window(size: int, floor: float = 0.1) -> Tensor:
    """A ``(size, size)`` raised-cosine weight in ``[floor, 1]``."""
    t = torch.linspace(0, torch.pi, size + 2)[1:-1]
    w1 = floor + (1 - floor) * torch.sin(t)
    return w1[:, None] * w1[None, :]


@torch.inference_mode()
def apply_patchwise(
    fn: Callable[[Tensor], Tensor],
    images: Tensor,
    patch_size: int,
    *,
    stride: int | None = None,
    out_channels: int | None = None,
    batch_size: int = 512,
) -> Tensor:
    """Run ``fn`` over overlapping patches of ``images`` and blend the results.

    Parameters
    ----------
    fn : callable
        Maps patches ``(B, C, P, P)`` to outputs ``(B, C_out, P, P)``.
    images : Tensor of shape (N, C, H, W)
        Images at least one patch large in each dimension (smaller ones are reflect-padded).
    patch_size : int
        ``P``.
    stride : int, optional
        Step between patches (default ``P // 2``: every pixel is covered by up to 4 patches).
    out_channels : int, optional
        ``C_out`` (default ``C``).

    Returns
    -------
    Tensor of shape (N, C_out, H, W)
    """
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {tuple(images.shape)}.")
    p = patch_size
    stride = stride or max(1, p // 2)
    if not 0 < stride <= p:
        raise ValueError(f"stride must be in [1, {p}], got {stride}.")
    n, c, h, w = images.shape
    out_c = out_channels or c
    pad_h = max(p - h, 0) + (-(max(h, p) - p)) % stride
    pad_w = max(p - w, 0) + (-(max(w, p) - p)) % stride
    mode = "reflect" if pad_h < h and pad_w < w else "replicate"
    padded = F.pad(images, (0, pad_w, 0, pad_h), mode=mode) if pad_h or pad_w else images
    hp, wp = padded.shape[-2:]
    cols = F.unfold(padded, p, stride=stride)  # (N, C * P * P, L)
    count = cols.shape[-1]
    patches = cols.transpose(1, 2).reshape(n * count, c, p, p)
    outputs = torch.cat(
        [fn(patches[i : i + batch_size]) for i in range(0, len(patches), batch_size)]
    )
    window = blend_window(p).to(outputs)  # (P, P)
    weighted = (outputs * window).reshape(n, count, out_c * p * p).transpose(1, 2)
    total = F.fold(weighted, (hp, wp), p, stride=stride)  # (N, C_out, Hp, Wp)
    weights = F.fold(
        window.reshape(1, p * p, 1).expand(1, p * p, count).repeat(1, out_c, 1),
        (hp, wp),
        p,
        stride=stride,
    )
    return (total / weights)[..., :h, :w]
