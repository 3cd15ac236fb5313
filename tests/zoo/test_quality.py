"""The pretrained models do their job on a few test images (fast: well under a second each on
a CPU): the denoisers beat the noisy input, the colorizer beats the gray input, the VAEs give
finite ELBOs and generate, the inpainter beats the masked input. These read the shared test
sets, so they fail in CI when ``LATENTKIT_DATA`` is missing (tests/conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import latentkit
from latentkit.apps.colorize import colorize
from latentkit.apps.denoise import denoise
from latentkit.apps.inpaint import inpaint
from latentkit.data.corruptions import mask_center_box
from latentkit.data.transforms import rgb_to_gray
from latentkit.datasets import load
from latentkit.evaluation.likelihood import elbo
from latentkit.evaluation.metrics import psnr
from tests.conftest import require_data


def photo(folder: str, name: str) -> torch.Tensor:
    """A test photo as ``(1, 3, H, W)`` in [0, 1]."""
    with Image.open(require_data("images") / folder / name) as image:
        rgb = np.asarray(image.convert("RGB"), dtype=np.float32)  # (H, W, 3)
    return torch.from_numpy(rgb / 255).permute(2, 0, 1)[None].contiguous()


def crops(image: torch.Tensor, size: int, corners: list[tuple[int, int]]) -> torch.Tensor:
    return torch.cat([image[..., i : i + size, j : j + size] for i, j in corners])


CORNERS = [(40, 60), (150, 200), (250, 100)]


@pytest.mark.parametrize("name", ["denoiser-gray", "denoiser-color"])
def test_denoisers_beat_the_noisy_input_at_sigma_25(name):
    model = latentkit.pretrained(name)
    clean = crops(photo("CBSD68", "101085.png"), 64, CORNERS)  # (3, 3, 64, 64)
    if model.input_shape[0] == 1:
        clean = rgb_to_gray(clean)
    noisy = clean + 25 / 255 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    before = psnr(noisy.clamp(0, 1), clean)
    after = psnr(model.denoise(noisy), clean)
    assert (after > before + 3).all(), (before, after)
    # the app's patchwise path (images smaller than the model's tiles) gives the same gain
    assert (psnr(denoise(model, noisy.clamp(0, 1)), clean) > before + 2).all()


def test_denoiser_takes_a_known_sigma():
    model = latentkit.pretrained("denoiser-gray")
    x = torch.rand(1, 1, 20, 30)
    assert torch.equal(model.denoise(x, sigma=0.0), x)  # no noise: left as it is
    assert torch.equal(model.denoise(x, sigma=0.1), model.denoise(x))  # blind: same result
    with pytest.raises(ValueError, match="sigma must be in"):
        model.denoise(x, sigma=25)  # the 0-255 scale by mistake


def test_colorizer_beats_the_gray_input():
    model = latentkit.pretrained("colorizer")
    color = crops(photo("McMaster", "1.png"), 128, [(0, 0), (300, 250)])
    gray = rgb_to_gray(color)
    output = colorize(model, gray)
    assert output.shape == color.shape
    assert (rgb_to_gray(output) - gray).abs().mean() < 5e-3  # luminance kept (up to clipping)
    assert (output - rgb_to_gray(output)).abs().mean() > 1e-3  # and colour added
    before = psnr(gray.expand_as(color), color).mean()
    assert psnr(output, color).mean() > before


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("mnist-vae-16d", "mnist"),
        ("mnist-vae-2d", "mnist"),
        ("fashion-mnist-vae-16d", "fashion-mnist"),
    ],
)
def test_vaes_give_finite_elbos_and_generate(name, data):
    require_data(data)
    model = latentkit.pretrained(name)
    x = load(data, "test", download=False).x[:16]
    bound = elbo(model, x, generator=torch.Generator().manual_seed(0))
    assert bound.shape == (16,) and torch.isfinite(bound).all()
    assert -bound.mean() < 400  # nats: far from an untrained model's ~550
    samples = model.sample(8, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (8, 1, 28, 28) and ((samples >= 0) & (samples <= 1)).all()
    assert samples.std() > 0.1  # digits or clothes, not a flat gray


def test_inpainter_beats_the_masked_input():
    require_data("mnist")
    model = latentkit.pretrained("mnist-inpainter")
    x = load("mnist", "test", download=False).x[:64]
    masked, missing = mask_center_box(x, 14)
    before = psnr(masked, x, mask=missing)
    after = psnr(inpaint(model, x, missing), x, mask=missing)
    finite = torch.isfinite(before)
    assert after[finite].mean() > before[finite].mean() + 3
