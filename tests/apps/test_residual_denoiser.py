"""The blind residual denoiser of apps/denoise.py learns to remove noise it was trained on."""

from __future__ import annotations

import math

import pytest
import torch

from latentkit.apps.denoise import (
    _dihedral,
    cosine_lr,
    denoise_images,
    train_residual_denoiser,
)
from latentkit.evaluation.metrics import psnr
from latentkit.nn import ResidualDenoiserConfig


def _smooth_images(n: int, size: int, seed: int) -> torch.Tensor:
    """Piecewise-smooth test images in [0, 1]: blurred random blobs, ``(n, 1, size, size)``."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, size // 4, size // 4, generator=g)
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear")
    return x.clamp(0, 1)


def test_cosine_lr_closed_form() -> None:
    with pytest.warns(DeprecationWarning):  # a deprecated alias of training.schedules
        assert cosine_lr(0, 100, 1e-3, 1e-5) == pytest.approx(1e-3)
        assert cosine_lr(50, 100, 1e-3, 1e-5) == pytest.approx((1e-3 + 1e-5) / 2)
        assert cosine_lr(100, 100, 1e-3, 1e-5) == pytest.approx(1e-5)
        assert cosine_lr(25, 100, 1.0, 0.0) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))


def test_dihedral_gives_eight_distinct_transforms() -> None:
    x = torch.arange(9.0).view(1, 1, 3, 3)
    seen = {tuple(_dihedral(x, k).flatten().tolist()) for k in range(8)}
    assert len(seen) == 8


def test_blind_model_raises_psnr_on_unseen_images_of_another_size() -> None:
    patches = _smooth_images(256, 16, seed=0)
    config = ResidualDenoiserConfig(depth=5, width=16)
    model = train_residual_denoiser(
        patches, sigmas=(0.0, 0.2), config=config, steps=150, batch_size=32, lr=3e-3
    )
    clean = _smooth_images(4, 32, seed=1)[..., :30]  # (4, 1, 32, 30): not the patch size
    noisy = clean + 0.1 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(2))
    restored = denoise_images(model, noisy)
    assert restored.shape == clean.shape
    gain = (psnr(restored, clean) - psnr(noisy.clamp(0, 1), clean)).mean()
    assert gain > 3.0, gain


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="sigmas"):
        train_residual_denoiser(torch.rand(4, 1, 8, 8), sigmas=(0.2, 0.1), steps=1)
    with pytest.raises(ValueError, match="patches"):
        train_residual_denoiser(torch.rand(4, 1, 8, 6), steps=1)
