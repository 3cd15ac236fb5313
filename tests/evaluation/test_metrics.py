"""Metrics against scikit-image / scikit-learn and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from latentkit.evaluation.metrics import (
    auroc,
    average_precision,
    colorfulness,
    knn_accuracy,
    psnr,
    ssim,
    trustworthiness,
)


def noisy_pair(shape=(3, 2, 20, 24), sigma=0.1):
    g = torch.Generator().manual_seed(0)
    clean = torch.rand(shape, generator=g)
    noisy = (clean + sigma * torch.randn(shape, generator=g)).clamp(0, 1)
    return clean, noisy


def test_psnr_matches_skimage_and_hand_value():
    clean, noisy = noisy_pair()
    ours = psnr(noisy, clean)
    for i in range(len(clean)):
        ref = peak_signal_noise_ratio(clean[i].numpy(), noisy[i].numpy(), data_range=1.0)
        assert ours[i].item() == pytest.approx(ref, abs=1e-4)
    x = torch.zeros(1, 1, 4, 4)
    assert psnr(x + 0.1, x).item() == pytest.approx(20.0, abs=1e-4)  # mse 0.01 -> 20 dB


def test_masked_psnr_counts_only_masked_pixels():
    x = torch.zeros(1, 1, 4, 4)
    y = x.clone()
    y[..., :2, :] = 0.1  # error only in the top half
    mask = torch.zeros(1, 1, 4, 4, dtype=torch.bool)
    mask[..., :2, :] = True
    assert psnr(y, x, mask=mask).item() == pytest.approx(20.0, abs=1e-4)
    assert psnr(y, x).item() == pytest.approx(10 * np.log10(1 / 0.005), abs=1e-4)
    with pytest.raises(ValueError, match="selects no pixel"):
        psnr(y, x, mask=torch.zeros_like(mask))


@pytest.mark.parametrize("channels", [1, 3])
def test_ssim_matches_skimage_gaussian_weights(channels):
    clean, noisy = noisy_pair((2, channels, 32, 30), sigma=0.2)
    ours = ssim(noisy, clean)
    for i in range(2):
        ref = structural_similarity(
            clean[i].numpy(),
            noisy[i].numpy(),
            data_range=1.0,
            channel_axis=0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        # skimage averages over the image with a crop of (win - 1) / 2 pixels: the valid region
        assert ours[i].item() == pytest.approx(ref, abs=2e-3)
    assert torch.allclose(ssim(clean, clean), torch.ones(2), atol=1e-6)


def test_ranking_metrics():
    labels = np.array([0, 0, 0, 1, 1])
    assert auroc([0.1, 0.2, 0.3, 0.8, 0.9], labels) == 1.0
    assert auroc([0.9, 0.8, 0.7, 0.1, 0.2], labels) == 0.0
    assert average_precision([0.1, 0.2, 0.3, 0.8, 0.9], labels) == 1.0
    with pytest.raises(ValueError, match=r"both 0 .normal. and 1"):
        auroc([0.1, 0.2], [0, 0])


def test_knn_and_trustworthiness():
    g = np.random.default_rng(0)
    centers = g.normal(size=(3, 5)) * 10
    y = np.repeat(np.arange(3), 30)
    x = centers[y] + g.normal(size=(90, 5))
    assert knn_accuracy(x[::2], y[::2], x[1::2], y[1::2]) == 1.0
    assert trustworthiness(x, x) == pytest.approx(1.0)
    assert trustworthiness(x, g.normal(size=(90, 2))) < 0.8


def test_colorfulness():
    gray = torch.full((1, 3, 8, 8), 0.5)
    assert colorfulness(gray).item() == pytest.approx(0.0, abs=1e-6)
    red = torch.zeros(1, 3, 8, 8)
    red[:, 0] = 1.0  # rg = 255, yb = 127.5, no spread: M = 0.3 * sqrt(255^2 + 127.5^2)
    assert colorfulness(red).item() == pytest.approx(0.3 * np.hypot(255, 127.5), rel=1e-5)
