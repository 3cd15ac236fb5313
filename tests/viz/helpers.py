"""Shared helpers of the viz tests: PNG decoding, "is something drawn" checks, tiny models."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

import latentkit
from latentkit.models.base import AbstractModel
from latentkit.viz.grids import figure_to_png_bytes


def decode_png(png: bytes) -> np.ndarray:
    """RGB pixels ``(H, W, 3)`` of PNG bytes (fails on anything that is not a PNG)."""
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return np.asarray(image.convert("RGB"), dtype=np.float64)


def render(fig) -> np.ndarray:
    return decode_png(figure_to_png_bytes(fig))


def gray_std(pixels: np.ndarray) -> float:
    """Standard deviation of the gray levels (0-255): ~0 blank, ~5 a lone title."""
    return float(pixels.mean(-1).std())


def colour_fraction(pixels: np.ndarray) -> float:
    """Fraction of clearly coloured pixels (lines, bars, points; not black, white or gray)."""
    return float(((pixels.max(-1) - pixels.min(-1)) > 60).mean())


def train(model: AbstractModel, x: torch.Tensor, *, steps: int = 150, lr: float = 3e-3):
    """A few Adam steps with plain torch on random minibatches of ``x``."""
    g = torch.Generator().manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        xb = x[torch.randint(len(x), (64,), generator=g)]
        out = model.loss(xb, generator=g)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    return model.eval()


def small_vae(input_shape, latent_dim: int = 2) -> AbstractModel:
    torch.manual_seed(0)
    net = latentkit.nn.NetworkConfig(hidden=(64,))
    return latentkit.VAE(latentkit.VAEConfig(input_shape, latent_dim=latent_dim, network=net))


def small_ae(input_shape, latent_dim: int = 3) -> AbstractModel:
    torch.manual_seed(0)
    net = latentkit.nn.NetworkConfig(hidden=(64,))
    cfg = latentkit.AutoencoderConfig(input_shape, latent_dim=latent_dim, network=net)
    return latentkit.Autoencoder(cfg)
