"""Models of fixed tile size applied to images of any size and channel count: inpainting
through blended patches, the default inpainting method, and gray/colour adaptation."""

from __future__ import annotations

import pytest
import torch

from latentkit import VAE, Autoencoder, AutoencoderConfig, VAEConfig
from latentkit.apps.inpaint import default_method, inpaint
from latentkit.apps.patchwise import across_channels
from latentkit.data.corruptions import mask_center_box
from latentkit.data.transforms import rgb_to_gray
from latentkit.nn import NetworkConfig

SMALL = NetworkConfig(hidden=(32,))


def models(channels: int = 1) -> tuple[Autoencoder, VAE]:
    torch.manual_seed(0)
    shape = (channels, 8, 8)
    ae = Autoencoder(AutoencoderConfig(input_shape=shape, latent_dim=4, network=SMALL)).eval()
    vae = VAE(VAEConfig(input_shape=shape, latent_dim=4, network=SMALL)).eval()
    return ae, vae


def test_the_inpainting_method_defaults_by_model():
    ae, vae = models()
    assert default_method(ae) == "autoencoder"
    assert default_method(vae) == "latent_optimisation"


@pytest.mark.parametrize("which", ["autoencoder", "latent_optimisation"])
def test_inpainting_any_size_keeps_observed_pixels(which):
    ae, vae = models()
    model = ae if which == "autoencoder" else vae
    images = torch.rand(2, 1, 21, 30)
    _, missing = mask_center_box(images, 9)
    filled = inpaint(model, images, missing, steps=3)  # the default method of each model
    assert filled.shape == images.shape and torch.isfinite(filled).all()
    assert torch.equal(filled[~missing], images[~missing])
    assert not torch.equal(filled[missing], images[missing])
    with pytest.raises(ValueError, match="method must be"):
        inpaint(model, images, missing, method="bogus")  # type: ignore[arg-type]


def test_inpainting_the_model_size_is_unchanged():
    ae, _ = models()
    images = torch.rand(3, 1, 8, 8)
    _, missing = mask_center_box(images, 4)
    expected = torch.where(missing, ae.reconstruct(images.masked_fill(missing, 0)), images)
    torch.testing.assert_close(inpaint(ae, images, missing), expected)


def test_a_gray_model_on_colour_images_works_per_channel():
    seen = []

    def double(x: torch.Tensor) -> torch.Tensor:
        seen.append(tuple(x.shape))
        return x * 2

    rgb = torch.rand(2, 3, 5, 6)
    torch.testing.assert_close(across_channels(double, rgb, 1), rgb * 2)
    assert seen == [(6, 1, 5, 6)]  # three planes of two images, one gray batch


def test_a_colour_model_on_gray_images_returns_gray():
    gray = torch.rand(2, 1, 5, 6)

    def tint(x: torch.Tensor) -> torch.Tensor:
        assert x.shape == (2, 3, 5, 6) and torch.equal(x[:, 0], x[:, 1])
        return x * torch.tensor([1.0, 0.5, 0.0]).view(1, 3, 1, 1)

    out = across_channels(tint, gray, 3)
    assert out.shape == (2, 1, 5, 6)
    torch.testing.assert_close(out, rgb_to_gray(tint(gray.expand(2, 3, 5, 6))))


def test_masks_travel_with_the_channels():
    rgb = torch.rand(1, 3, 4, 4)
    mask = torch.zeros(1, 1, 4, 4, dtype=torch.bool)
    mask[..., 0, 0] = True

    def fill(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        assert x.shape == m.shape == (3, 1, 4, 4)
        return x.masked_fill(m, 1.0)

    out = across_channels(fill, rgb, 1, mask)
    assert (out[0, :, 0, 0] == 1).all() and torch.equal(out[0, :, 1:], rgb[0, :, 1:])
    with pytest.raises(ValueError, match="2 channels"):
        across_channels(fill, torch.rand(1, 2, 4, 4), 1)
