"""Shrinking a colorizer's chroma toward gray, chosen on held-out photos, folded into its weights.

A colorizer trained with a squared error predicts the mean colour of what it has seen; where it
is unsure, a wrong hue costs more PSNR than no hue at all. Scaling the predicted chroma
(BT.601 Cb and Cr, centred at 0) by a factor ``a`` in [0, 1] trades colour for safety: ``a = 0``
is the gray image, ``a = 1`` the raw prediction. :func:`choose_shrink` picks ``a`` by the mean
PSNR on held-out training photos (never on the test sets).

:func:`fold_shrink` writes ``a`` into the model itself, so that the saved weights colorize with
the chosen strength through the ordinary :func:`latentkit.apps.colorize.colorize`: the output
``v`` (RGB, linear: ``output_activation="none"``) becomes ``M v`` with
``M = a I + (1 - a) 1 w^T``, ``w`` the BT.601 luma weights. Since ``w^T 1 = 1``, ``M`` keeps the
luma and scales both chroma channels by ``a``; being linear, it folds into the last layer's
weights and bias.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from latentkit.apps.colorize import rgb_to_ycbcr, ycbcr_to_rgb
from latentkit.apps.patchwise import apply_patchwise
from latentkit.data.transforms import rgb_to_gray
from latentkit.evaluation.metrics import psnr
from latentkit.models.autoencoder import Autoencoder

__all__ = ["GRID", "choose_shrink", "fold_shrink"]

#: The shrink factors tried, 0 (gray) to 1 (raw prediction).
GRID = tuple(round(0.05 * i, 2) for i in range(21))
_LUMA = torch.tensor([0.299, 0.587, 0.114])


@torch.inference_mode()
def _chroma(model: Autoencoder, rgb: Tensor) -> tuple[Tensor, Tensor]:
    """Luma ``(N, 1, H, W)`` of ``rgb`` and the model's centred chroma ``(N, 2, H, W)``."""
    luma = rgb_to_gray(rgb)
    patch = model.input_shape[-1]
    predicted = apply_patchwise(model.reconstruct, luma.expand(-1, 3, -1, -1).contiguous(), patch)
    return luma, rgb_to_ycbcr(predicted)[:, 1:] - 0.5


def choose_shrink(model: Autoencoder, photos: list[Tensor]) -> tuple[float, dict[str, float]]:
    """The factor of :data:`GRID` with the best mean PSNR on ``photos``, and every score.

    Parameters
    ----------
    photos : list of Tensor of shape (1, 3, H, W)
        Held-out colour photos in [0, 1] (any sizes).
    """
    scores = dict.fromkeys(GRID, 0.0)
    for rgb in photos:
        luma, chroma = _chroma(model, rgb)
        for a in GRID:
            out = ycbcr_to_rgb(torch.cat([luma, 0.5 + a * chroma], dim=1))
            scores[a] += psnr(out, rgb).item() / len(photos)
    best = max(GRID, key=lambda a: scores[a])
    return best, {f"{a:.2f}": round(s, 3) for a, s in scores.items()}


def _last_layer(model: Autoencoder) -> nn.Module:
    """The decoder's one convolution with 3 output channels (its output layer)."""
    layers = [
        m
        for m in model.decoder.modules()  # each module once, even when registered twice
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d) and m.out_channels == 3
    ]
    if len(layers) != 1:
        raise ValueError("expected a convolutional decoder with one layer of 3 output channels.")
    return layers[0]


@torch.no_grad()
def fold_shrink(model: Autoencoder, shrink: float) -> None:
    """Scale the chroma the model predicts by ``shrink``, in place (see the module docstring)."""
    if model.config.output_activation != "none" or model.config.reconstruction != "mse":
        raise ValueError("the shrink folds only into a linear output (mse, no activation).")
    if not 0.0 <= shrink <= 1.0:
        raise ValueError(f"shrink must be in [0, 1], got {shrink!r}.")
    layer = _last_layer(model)
    mix = shrink * torch.eye(3) + (1 - shrink) * torch.ones(3, 1) * _LUMA[None, :]  # (3, 3)
    probe = torch.rand(2, *model.input_shape, generator=torch.Generator().manual_seed(0))
    before = model.reconstruct(probe)  # (2, 3, P, P)
    weight = layer.weight  # Conv2d: (out, in, k, k); ConvTranspose2d: (in, out, k, k)
    dim = 1 if isinstance(layer, nn.ConvTranspose2d) else 0
    weight.copy_(torch.tensordot(mix, weight.transpose(0, dim), dims=1).transpose(0, dim))
    if layer.bias is not None:
        layer.bias.copy_(mix @ layer.bias)
    expected = torch.einsum("oc,nchw->nohw", mix, before)
    assert torch.allclose(model.reconstruct(probe), expected, atol=1e-4), "shrink not folded"
