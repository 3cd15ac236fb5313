"""The residual denoiser as a model: config checks, any-size restoration, the contract's
encode/decode/loss, save/load through ``latentkit.load``, and its place in the registry."""

from __future__ import annotations

import pytest
import torch

import latentkit
from latentkit.errors import CheckpointError, ConfigError
from latentkit.models.registry import MODELS, NETWORKS, get_model_class
from latentkit.models.residual import ResidualDenoisingConfig, ResidualDenoisingModel
from latentkit.nn.denoiser import ResidualDenoiserConfig


def small(channels: int = 3, downscale: int = 2) -> ResidualDenoisingModel:
    network = ResidualDenoiserConfig(channels=channels, depth=3, width=8, downscale=downscale)
    return ResidualDenoisingModel(
        ResidualDenoisingConfig(input_shape=(channels, 16, 16), network=network)
    )


def test_config_is_checked():
    with pytest.raises(ConfigError, match=r"network\.channels must equal"):
        ResidualDenoisingConfig(input_shape=(3, 16, 16))  # the network defaults to 1 channel
    with pytest.raises(ConfigError, match=r"\(C, P, P\)"):
        ResidualDenoisingConfig(input_shape=(1, 16, 8))
    with pytest.raises(ConfigError, match="unknown key"):
        ResidualDenoisingConfig.from_dict({"input_shape": [1, 8, 8], "sigma": 1})


def test_restores_any_size_and_keeps_the_contract():
    model = small().eval()
    x = torch.rand(2, 3, 37, 50)
    out = model.reconstruct(x)
    assert out.shape == x.shape and not out.requires_grad
    assert torch.allclose(out, model.network(x).detach())
    patch = torch.rand(4, 3, 16, 16)
    code = model.encode(patch)
    assert code.shape == (4, model.latent_dim) == (4, 3 * 16 * 16)
    assert torch.allclose(model.decode(code), model.reconstruct(patch))
    with pytest.raises(ValueError, match="any size"):
        model.encode(x)
    loss = model.loss(patch, target=torch.zeros_like(patch))
    assert loss.reconstruction.shape == (4,) and loss.loss.requires_grad
    assert torch.allclose(loss.reconstruction, model.reconstruct(patch).square().sum((1, 2, 3)))


def test_denoise_clips_and_takes_a_known_sigma():
    model = small(1, 1).eval()
    x = torch.rand(1, 1, 9, 11) * 1.4 - 0.2
    assert torch.equal(model.denoise(x, sigma=0.0), x.clamp(0, 1))
    out = model.denoise(x, sigma=0.2)
    assert torch.equal(out, model.denoise(x)) and out.min() >= 0 and out.max() <= 1
    with pytest.raises(ValueError, match="sigma must be in"):
        model.denoise(x, sigma=-0.1)


def test_saved_and_loaded_like_every_model(tmp_path):
    model = small().eval()
    model.save(tmp_path / "m", extra={"note": "x"})
    same = latentkit.load(tmp_path / "m")
    assert isinstance(same, ResidualDenoisingModel) and same.metadata == {"note": "x"}
    x = torch.rand(1, 3, 20, 24)
    assert torch.equal(same.reconstruct(x), model.reconstruct(x))
    config = (tmp_path / "m" / "config.json").read_text()
    (tmp_path / "m" / "config.json").write_text(config.replace('"width": 8', '"width": 9'))
    with pytest.raises(CheckpointError, match="mis-shaped"):
        latentkit.load(tmp_path / "m")


def test_registered_apart_from_the_trainable_models():
    assert "residual_denoiser" in NETWORKS and "residual_denoiser" not in MODELS
    assert get_model_class("residual_denoiser") is ResidualDenoisingModel
    with pytest.raises(ConfigError, match="residual_denoiser"):
        get_model_class("bogus")  # the known types name it too
