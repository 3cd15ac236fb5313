"""Colorization: gray in, color out.

An autoencoder is trained on RGB patches whose input is the patch's luminance (replicated to
three channels: the trainer's ``"grayscale"`` corruption) and whose target is the color patch.
At application time only the model's chroma is used: the output is converted to YCbCr
(ITU-R BT.601), its luminance replaced by the exact input luminance, and converted back, so
the result never loses detail the gray input had. Whole images are processed as overlapping,
blended patches. The baseline is the gray image itself (R = G = B = Y). Training goes through
:func:`latentkit.apps.patchwise.train_on_patches`, shared with denoising and inpainting.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from latentkit.apps.patchwise import apply_patchwise, train_on_patches
from latentkit.data.transforms import rgb_to_gray
from latentkit.evaluation.metrics import colorfulness, psnr
from latentkit.models.autoencoder import Autoencoder
from latentkit.models.base import AbstractModel
from latentkit.nn import NetworkConfig
from latentkit.training.config import CorruptionConfig, TrainConfig

__all__ = ["colorize", "evaluate_colorization", "rgb_to_ycbcr", "train_colorizer", "ycbcr_to_rgb"]


def rgb_to_ycbcr(rgb: Tensor) -> Tensor:
    """BT.601 full-range YCbCr of RGB images ``(N, 3, H, W)`` in [0, 1]; chroma centred at 0.5."""
    r, g, b = rgb.unbind(1)
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 0.5 + 0.564 * (b - y)
    cr = 0.5 + 0.713 * (r - y)
    return torch.stack([y, cb, cr], dim=1)


def ycbcr_to_rgb(ycc: Tensor) -> Tensor:
    """Inverse of :func:`rgb_to_ycbcr`, clipped to [0, 1]."""
    y, cb, cr = ycc.unbind(1)
    r = y + (cr - 0.5) / 0.713
    b = y + (cb - 0.5) / 0.564
    g = (y - 0.299 * r - 0.114 * b) / 0.587
    return torch.stack([r, g, b], dim=1).clamp(0, 1)


def train_colorizer(
    patches: Tensor,
    *,
    latent_dim: int = 128,
    network: NetworkConfig | None = None,
    train: TrainConfig | None = None,
    out: str | None = None,
) -> Autoencoder:
    """Train on RGB patches ``(N, 3, P, P)`` in [0, 1]: gray input, color target."""
    if patches.ndim != 4 or patches.shape[1] != 3:
        raise ValueError(f"expected RGB patches of shape (N, 3, P, P), got {tuple(patches.shape)}.")
    return train_on_patches(
        patches,
        CorruptionConfig(kind="grayscale"),
        latent_dim=latent_dim,
        network=network or NetworkConfig(kind="conv", channels=(32, 64, 128), dense=0),
        train=train,
        out=out,
    )


@torch.inference_mode()
def colorize(model: AbstractModel, gray: Tensor, *, stride: int | None = None) -> Tensor:
    """Color images ``(N, 3, H, W)`` from gray ones ``(N, 1, H, W)`` (or RGB, made gray)."""
    if gray.ndim != 4 or gray.shape[1] not in (1, 3):
        raise ValueError(f"expected images of shape (N, 1 or 3, H, W), got {tuple(gray.shape)}.")
    shape = tuple(model.input_shape)
    if len(shape) != 3 or shape[0] != 3:
        raise ValueError(
            f"a colorization model maps RGB-shaped inputs (3, P, P) to colour; this "
            f"{model.model_type} takes inputs of shape {shape}. Train one with "
            "latentkit.apps.colorize.train_colorizer."
        )
    luminance = rgb_to_gray(gray) if gray.shape[1] == 3 else gray  # (N, 1, H, W)
    model.eval()
    device = model.device

    def run(batch: Tensor) -> Tensor:
        return model.reconstruct(batch.to(device)).cpu()

    replicated = luminance.expand(-1, 3, -1, -1)
    if tuple(replicated.shape[1:]) == shape:
        predicted = run(replicated)
    else:
        predicted = apply_patchwise(run, replicated.contiguous(), shape[1], stride=stride)
    ycc = rgb_to_ycbcr(predicted)
    ycc[:, :1] = luminance
    return ycbcr_to_rgb(ycc)


def evaluate_colorization(model: AbstractModel, color: Tensor, **kwargs: Any) -> dict[str, Any]:
    """PSNR and colorfulness of the colorized images against the gray baseline."""
    gray = rgb_to_gray(color).expand(-1, 3, -1, -1)
    restored = colorize(model, gray[:, :1], **kwargs)
    return {
        "psnr_gray": psnr(gray, color).mean().item(),
        "psnr_colorized": psnr(restored, color).mean().item(),
        "colorfulness_target": colorfulness(color).mean().item(),
        "colorfulness_colorized": colorfulness(restored).mean().item(),
        "colorized": restored,
    }
