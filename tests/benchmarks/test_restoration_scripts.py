"""The restoration benchmarks (denoising, inpainting): each ``--quick`` mode runs, prints its
table and writes nothing; their helpers are checked against closed forms."""

from __future__ import annotations

import math

import pytest
import torch

from tests.benchmarks._scripts import benchmark_module, check_quick_mode
from tests.conftest import require_data

SCRIPTS = ["denoising.py", "inpainting.py"]


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_quick_mode_prints_a_table_and_writes_nothing(script: str, tmp_path) -> None:
    data = require_data("mnist").parent
    if script == "denoising.py":
        require_data("images")
    check_quick_mode(script, tmp_path, {"LATENTKIT_DATA": str(data), "OMP_NUM_THREADS": "1"})


def test_unclipped_noise_has_the_psnr_of_its_sigma() -> None:
    from latentkit.evaluation.metrics import psnr

    denoising = benchmark_module("denoising")
    clean = torch.full((4, 1, 200, 200), 0.5)
    noisy = denoising.add_noise(clean, 25 / 255, seed=0, clip=False)
    # E[(noise)^2] = sigma^2, so PSNR = 20 log10(255 / 25) = 20.17 dB
    assert float(psnr(noisy, clean).mean()) == pytest.approx(20 * math.log10(255 / 25), abs=0.05)
    clipped = denoising.add_noise(torch.zeros(1, 1, 300, 300), 0.3, seed=0, clip=True)
    # half the draws clip to 0, the rest are |N(0, s^2)|: E[x^2] = s^2 / 2
    assert float(clipped.square().mean()) == pytest.approx(0.3**2 / 2, rel=0.03)


def test_to_8bit_rounds_to_the_nearest_level_and_clips() -> None:
    to_8bit = benchmark_module("denoising").to_8bit
    x = torch.tensor([-0.2, 0.0, 0.5 / 255, 0.6 / 255, 100.4 / 255, 1.3]).view(1, 1, 1, 6)
    expected = torch.tensor([0.0, 0.0, 0.0, 1.0, 100.0, 255.0]) / 255
    assert torch.allclose(to_8bit(x).flatten(), expected)


def test_mean_fills_match_closed_forms() -> None:
    inpainting = benchmark_module("inpainting")
    train = torch.stack([torch.full((1, 2, 2), v) for v in (0.0, 0.2, 1.0)])  # pixel mean 0.4
    x = torch.tensor([[[[1.0, 0.5], [0.0, 0.3]]]])
    missing = torch.tensor([[[[False, True], [False, True]]]])
    filled = inpainting.training_mean_fill(train)(x, missing)
    assert torch.allclose(filled, torch.tensor([[[[1.0, 0.4], [0.0, 0.4]]]]))
    observed = inpainting.observed_mean_fill(x, missing)  # observed 1.0 and 0.0: mean 0.5
    assert torch.allclose(observed, torch.tensor([[[[1.0, 0.5], [0.0, 0.5]]]]))


def test_biharmonic_keeps_observed_pixels_and_fills_a_plane_exactly() -> None:
    inpainting = benchmark_module("inpainting")
    rows, cols = torch.meshgrid(torch.arange(12.0), torch.arange(12.0), indexing="ij")
    plane = ((rows + 2 * cols) / 40)[None, None]  # biharmonic functions include planes
    missing = torch.zeros_like(plane, dtype=torch.bool)
    missing[..., 4:8, 4:8] = True
    filled = inpainting.biharmonic(plane.masked_fill(missing, 0.0), missing)
    assert torch.allclose(filled, plane, atol=1e-4)
