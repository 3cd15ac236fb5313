"""Corruptions for denoising and inpainting: additive noise, salt and pepper, masks, and the
registry of the corruption kinds the trainer applies.

Denoising autoencoders (Vincent et al., "Extracting and composing robust features with
denoising autoencoders", ICML 2008) learn to undo such corruptions. Every function is
vectorised over the batch and takes an explicit ``generator``; random numbers are drawn on the
generator's device and moved to the data, so a CPU generator works for GPU data.

For images ``(N, C, H, W)`` a pixel is a location: salt-and-pepper and masks affect all
channels of a chosen location together. For tables ``(N, D)`` each entry is its own pixel.
The masking functions return the corrupted batch *and* the boolean mask of missing entries
(shape of ``x``, True = missing), which inpainting losses and metrics need.

:data:`CORRUPTIONS` is the one place that names the kinds of training-time corruption
(``CorruptionConfig.kind``, ``latentkit train --corruption KIND:AMOUNT``): each kind maps to a
:class:`Corruption` entry with the function ``(x, amount, generator, clip) -> corrupted x``
and whether ``amount`` is a fraction. The config validates against it, the trainer's batch
transform dispatches through it and the CLI lists it. This module imports torch inside its
functions only, so that reading the registry's names (``latentkit train --help``) does not load
PyTorch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from torch import Tensor

__all__ = [
    "CORRUPTIONS",
    "Corruption",
    "corrupt",
    "gaussian_noise",
    "get_corruption",
    "mask_center_box",
    "mask_random_boxes",
    "mask_random_pixels",
    "salt_and_pepper",
]


def _device(x: Tensor, generator: torch.Generator | None) -> torch.device:
    return generator.device if generator is not None else x.device


def _location_shape(x: Tensor) -> tuple[int, ...]:
    """(N, 1, H, W) for images, the shape of ``x`` otherwise."""
    return (x.shape[0], 1, *x.shape[2:]) if x.ndim == 4 else tuple(x.shape)


def _check_unit_interval(value: float, name: str) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}.")


def _pair(size: int | tuple[int, int]) -> tuple[int, int]:
    pair = (size, size) if isinstance(size, int) else tuple(size)
    if len(pair) != 2 or min(pair) < 1:
        raise ValueError(f"size must be a positive int or (H, W), got {size!r}.")
    return int(pair[0]), int(pair[1])


def _images(x: Tensor, what: str, size: tuple[int, int]) -> None:
    if x.ndim != 4:
        raise ValueError(f"{what} needs images of shape (N, C, H, W), got {tuple(x.shape)}.")
    if size[0] > x.shape[2] or size[1] > x.shape[3]:
        raise ValueError(f"{what}: box {size} is larger than the images {tuple(x.shape[2:])}.")


def gaussian_noise(
    x: Tensor, sigma: float, *, clip: bool = True, generator: torch.Generator | None = None
) -> Tensor:
    """Add ``N(0, sigma^2)`` noise to every entry.

    Parameters
    ----------
    x : Tensor of shape (N, ...)
    sigma : float
        Noise standard deviation (>= 0), in the units of ``x``.
    clip : bool
        Clamp the result to [0, 1] (for images).
    generator : torch.Generator, optional

    Returns
    -------
    Tensor of the shape of ``x``
    """
    import torch

    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma!r}.")
    noise = torch.randn(x.shape, generator=generator, device=_device(x, generator))
    out = x + sigma * noise.to(device=x.device, dtype=x.dtype)
    return out.clamp_(0.0, 1.0) if clip else out


def salt_and_pepper(x: Tensor, p: float, *, generator: torch.Generator | None = None) -> Tensor:
    """Set a fraction ``p`` of pixels (in expectation) to 0 or 1, with equal chance.

    Parameters
    ----------
    x : Tensor of shape (N, C, H, W) or (N, D)
    p : float
        Probability that a pixel is replaced, in [0, 1].
    generator : torch.Generator, optional

    Returns
    -------
    Tensor of the shape of ``x``
    """
    import torch

    _check_unit_interval(p, "p")
    draw = torch.rand((2, *_location_shape(x)), generator=generator, device=_device(x, generator))
    draw = draw.to(x.device)
    hit, salt = draw[0] < p, draw[1] < 0.5  # each of shape (N, 1, H, W) or (N, D)
    value = salt.to(x.dtype).expand_as(x)
    return torch.where(hit.expand_as(x), value, x)


def mask_random_pixels(
    x: Tensor, fraction: float, *, fill: float = 0.0, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Hide exactly ``round(fraction * pixels)`` random pixels of each sample.

    Parameters
    ----------
    x : Tensor of shape (N, C, H, W) or (N, D)
    fraction : float
        Share of pixels hidden per sample, in [0, 1].
    fill : float
        Value written into hidden pixels.
    generator : torch.Generator, optional

    Returns
    -------
    corrupted : Tensor of the shape of ``x``
    missing : BoolTensor of the shape of ``x``
        True where a pixel was hidden.
    """
    import torch

    _check_unit_interval(fraction, "fraction")
    shape = _location_shape(x)
    per_sample = int(torch.Size(shape[1:]).numel())
    k = round(fraction * per_sample)
    scores = torch.rand((shape[0], per_sample), generator=generator, device=_device(x, generator))
    ranks = scores.argsort(dim=1).argsort(dim=1)  # (N, L): a random permutation per sample
    missing = (ranks < k).to(x.device).reshape(shape).expand_as(x).contiguous()
    return x.masked_fill(missing, fill), missing


def mask_center_box(
    x: Tensor, size: int | tuple[int, int], *, fill: float = 0.0
) -> tuple[Tensor, Tensor]:
    """Hide a centred box of ``size`` in every image.

    Parameters
    ----------
    x : Tensor of shape (N, C, H, W)
    size : int or (int, int)
        Box height and width.
    fill : float

    Returns
    -------
    corrupted : Tensor of shape (N, C, H, W)
    missing : BoolTensor of shape (N, C, H, W)
    """
    import torch

    bh, bw = _pair(size)
    _images(x, "mask_center_box", (bh, bw))
    h, w = x.shape[2:]
    top, left = (h - bh) // 2, (w - bw) // 2
    box = torch.zeros((h, w), dtype=torch.bool, device=x.device)
    box[top : top + bh, left : left + bw] = True
    missing = box.expand_as(x).contiguous()
    return x.masked_fill(missing, fill), missing


def mask_random_boxes(
    x: Tensor,
    n_boxes: int,
    size: int | tuple[int, int],
    *,
    fill: float = 0.0,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Hide ``n_boxes`` boxes at uniformly drawn positions in each image (they may overlap).

    Parameters
    ----------
    x : Tensor of shape (N, C, H, W)
    n_boxes : int
        Boxes per image (>= 1).
    size : int or (int, int)
        Box height and width.
    fill : float
    generator : torch.Generator, optional

    Returns
    -------
    corrupted : Tensor of shape (N, C, H, W)
    missing : BoolTensor of shape (N, C, H, W)
    """
    import torch

    bh, bw = _pair(size)
    _images(x, "mask_random_boxes", (bh, bw))
    if n_boxes < 1:
        raise ValueError(f"n_boxes must be >= 1, got {n_boxes!r}.")
    n, _, h, w = x.shape
    device = _device(x, generator)
    top = torch.randint(0, h - bh + 1, (n, n_boxes, 1, 1), generator=generator, device=device)
    left = torch.randint(0, w - bw + 1, (n, n_boxes, 1, 1), generator=generator, device=device)
    rows = torch.arange(h, device=device).view(1, 1, h, 1)
    cols = torch.arange(w, device=device).view(1, 1, 1, w)
    inside = (rows >= top) & (rows < top + bh) & (cols >= left) & (cols < left + bw)
    missing = inside.any(dim=1, keepdim=True).to(x.device).expand_as(x).contiguous()
    return x.masked_fill(missing, fill), missing


# -- the registry of training-time corruptions ----------------------------------------------
# Each function draws exactly what the trainer drew before the registry existed (same calls,
# same order), so resumed runs and saved configs reproduce bit for bit.


def _gaussian(x: Tensor, amount: float, generator: torch.Generator | None, clip: bool) -> Tensor:
    return gaussian_noise(x, amount, clip=clip, generator=generator)


def _salt_pepper(x: Tensor, amount: float, generator: torch.Generator | None, clip: bool) -> Tensor:
    return salt_and_pepper(x, amount, generator=generator)


def _pixel_mask(x: Tensor, amount: float, generator: torch.Generator | None, clip: bool) -> Tensor:
    return mask_random_pixels(x, amount, generator=generator)[0]


def _box_mask(x: Tensor, amount: float, generator: torch.Generator | None, clip: bool) -> Tensor:
    side = max(1, round(amount * min(x.shape[-2:])))  # a share of the smaller image side
    return mask_random_boxes(x, 1, side, generator=generator)[0]


def _grayscale(x: Tensor, amount: float, generator: torch.Generator | None, clip: bool) -> Tensor:
    from latentkit.data.transforms import rgb_to_gray

    return rgb_to_gray(x).expand_as(x).contiguous()  # (N, 3, H, W): luma in every channel


@dataclasses.dataclass(frozen=True)
class Corruption:
    """One kind of input corruption in :data:`CORRUPTIONS`.

    Attributes
    ----------
    apply : callable
        ``apply(x, amount, generator, clip)``: the corrupted batch, shaped like ``x``.
    fraction : bool
        ``amount`` is a share in [0, 1]; otherwise any value >= 0 (a noise scale, or unused).
    summary : str
        What the kind does and what ``amount`` means, for messages and ``--help``.
    """

    apply: Callable[[Tensor, float, torch.Generator | None, bool], Tensor]
    fraction: bool
    summary: str


#: kind name -> :class:`Corruption`; the names are those of ``CorruptionConfig.kind``
CORRUPTIONS: dict[str, Corruption] = {
    "gaussian": Corruption(
        _gaussian, False, "add N(0, amount^2) noise (clamped to [0, 1] when clip)"
    ),
    "salt_pepper": Corruption(
        _salt_pepper, True, "set a share `amount` of the pixels to 0 or 1 (half each)"
    ),
    "mask": Corruption(
        _pixel_mask, True, "set exactly a share `amount` of each sample's pixels to 0"
    ),
    "box_mask": Corruption(
        _box_mask, True, "set one square box per image to 0, of side `amount` x the smaller side"
    ),
    "grayscale": Corruption(
        _grayscale, False, "replace RGB by its BT.601 luma in all three channels (amount unused)"
    ),
}


def get_corruption(kind: str) -> Corruption:
    """The registry entry of ``kind``.

    Raises
    ------
    ValueError
        If ``kind`` is not registered (the message lists the registered kinds).
    """
    if kind not in CORRUPTIONS:
        raise ValueError(
            f"unknown corruption kind {kind!r}; the kinds are {', '.join(CORRUPTIONS)}."
        )
    return CORRUPTIONS[kind]


def corrupt(
    x: Tensor,
    kind: str,
    amount: float,
    *,
    clip: bool = True,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Apply the registered corruption ``kind`` to a batch.

    Parameters
    ----------
    x : Tensor of shape (N, ...)
        Clean data (images ``(N, C, H, W)`` for ``box_mask`` and ``grayscale``).
    kind : str
        A key of :data:`CORRUPTIONS`.
    amount : float
        Noise scale or share of corrupted pixels (see the entry's ``summary``).
    clip : bool
        ``gaussian``: clamp the result to [0, 1].
    generator : torch.Generator, optional

    Returns
    -------
    Tensor of the shape of ``x``
    """
    return get_corruption(kind).apply(x, amount, generator, clip)
