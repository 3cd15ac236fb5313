"""Patch models: train an autoencoder on (corrupted) patches, apply it to images of any size.

Training. :func:`train_on_patches` is the one training path of the patch-based image apps
(denoising, colorization, inpainting): an :class:`~latentkit.models.autoencoder.Autoencoder`
whose input shape is the patches' ``(C, P, P)`` is built with its initial weights drawn from
the training seed alone, then trained by the :class:`~latentkit.training.trainer.Trainer` to
map ``corruption(patch)`` (a fresh draw every batch) back to the clean patch. The apps differ
only in the corruption and the default network.

Application. Each image is padded (reflect) so that patches of size ``P`` at step ``stride``
tile it, every patch is processed, and the outputs are summed back with a separable weight that
is largest in the patch centre (a raised-cosine window with a floor), then divided by the
summed weights. Overlap plus tapering removes the seams that non-overlapping tiles leave.

Channels. :func:`across_channels` applies a model to images whose channel count differs from
its own: a gray model (C = 1) on colour images processes each colour channel as a gray image
(noise and holes are in every channel, and the colours stay where they were; a luminance-only
pass would leave the chroma noisy); a colour model (C = 3) on gray images sees the gray plane
repeated three times and returns the BT.601 luma of its output, so gray in gives gray out.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from latentkit._seeding import build_seeded
from latentkit.data.transforms import rgb_to_gray
from latentkit.models.autoencoder import Autoencoder, AutoencoderConfig
from latentkit.nn import NetworkConfig
from latentkit.training.config import CorruptionConfig, TrainConfig
from latentkit.training.trainer import Trainer

__all__ = ["across_channels", "apply_patchwise", "blend_window", "train_on_patches"]


def train_on_patches(
    patches: Tensor,
    corruption: CorruptionConfig,
    *,
    latent_dim: int,
    network: NetworkConfig,
    train: TrainConfig | None = None,
    out: str | None = None,
) -> Autoencoder:
    """Train an autoencoder to map ``corruption(patches)`` back to ``patches``.

    Parameters
    ----------
    patches : Tensor of shape (N, C, P, P)
        Clean training patches (or whole images) in [0, 1]; the model's input shape is
        ``(C, P, P)``.
    corruption : CorruptionConfig
        What the encoder sees instead of the clean patch, drawn afresh every batch from the
        trainer's data generator; it replaces any corruption set in ``train``.
    latent_dim : int
        Size of the code.
    network : NetworkConfig
        Encoder and decoder.
    train : TrainConfig, optional
        Default: 10 epochs of batches of 128, no progress bar. Its ``seed`` seeds the initial
        weights as well as the trainer's draws; the global random stream is not used.
    out : str, optional
        Run folder for the trainer to write.

    Returns
    -------
    Autoencoder
        Trained, in eval mode.
    """
    config = AutoencoderConfig(
        input_shape=tuple(patches.shape[1:]), latent_dim=latent_dim, network=network
    )
    train = (train or TrainConfig(epochs=10, batch_size=128, progress=False)).replace(
        corruption=corruption
    )
    model = build_seeded(lambda: Autoencoder(config), train.seed)
    Trainer(train).fit(model, patches, out=out)
    return model.eval()


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


def across_channels(
    fn: Callable[..., Tensor], images: Tensor, channels: int, *extra: Tensor
) -> Tensor:
    """``fn(images, *extra)`` for a model of ``channels`` channels on images of 1 or 3.

    Parameters
    ----------
    fn : callable
        Maps images ``(B, channels, H, W)`` (and ``extra`` tensors shaped alike, e.g. a mask
        of missing pixels) to images ``(B, channels, H, W)``.
    images : Tensor of shape (N, C, H, W)
        ``C`` equal to ``channels``, or 1 or 3 when ``channels`` is 3 or 1.
    channels : int
        The channels the model takes.
    *extra : Tensor of shape (N, C, H, W) or (N, 1, H, W)
        Passed to ``fn`` beside the images, adapted the same way.

    Returns
    -------
    Tensor of shape (N, C, H, W)
        Same channels as ``images`` (see the module docstring for the rule).
    """
    n, c, h, w = images.shape
    extra = tuple(e.expand(n, c, h, w) for e in extra)
    if c == channels:
        return fn(images, *extra)
    if channels == 1 and c == 3:  # each colour plane as a gray image
        planes = [e.reshape(n * c, 1, h, w) for e in (images, *extra)]
        return fn(*planes).reshape(n, c, h, w)
    if channels == 3 and c == 1:  # the gray plane repeated, the output's luma returned
        return rgb_to_gray(fn(*(e.expand(n, 3, h, w).contiguous() for e in (images, *extra))))
    raise ValueError(
        f"the model takes images of {channels} channels; got images of {c} channels (expected "
        f"{channels}, or 1 or 3 for a model of 3 or 1)."
    )
