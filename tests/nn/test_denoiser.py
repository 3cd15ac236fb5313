"""The residual denoiser network: shapes at any size, gradients, config checks, round trip."""

from __future__ import annotations

import pytest
import torch

from latentkit.errors import ConfigError
from latentkit.nn import ResidualDenoiser, ResidualDenoiserConfig


@pytest.mark.parametrize("downscale", [1, 2])
@pytest.mark.parametrize("size", [(8, 8), (37, 50), (1, 3)])
def test_output_has_the_input_shape_at_any_size(downscale: int, size: tuple[int, int]) -> None:
    net = ResidualDenoiser(
        ResidualDenoiserConfig(channels=3, depth=4, width=8, downscale=downscale)
    )
    x = torch.rand(2, 3, *size)
    assert net(x).shape == x.shape
    assert net.noise(x).shape == x.shape


def test_forward_subtracts_the_predicted_noise() -> None:
    net = ResidualDenoiser(ResidualDenoiserConfig(depth=3, width=4)).eval()
    x = torch.rand(2, 1, 9, 9)
    assert torch.allclose(net(x), x - net.noise(x))


def test_zero_last_layer_is_the_identity() -> None:
    net = ResidualDenoiser(ResidualDenoiserConfig(depth=3, width=4, downscale=2)).eval()
    torch.nn.init.zeros_(net.body[-1].weight)
    torch.nn.init.zeros_(net.body[-1].bias)
    x = torch.rand(1, 1, 11, 7)
    assert torch.equal(net(x), x)


def test_gradient_reaches_every_parameter() -> None:
    net = ResidualDenoiser(ResidualDenoiserConfig(depth=4, width=8))
    net(torch.rand(4, 1, 12, 12)).square().sum().backward()
    silent = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not silent


def test_state_dict_and_config_round_trip() -> None:
    config = ResidualDenoiserConfig(depth=5, width=6, downscale=2, batch_norm=False)
    assert ResidualDenoiserConfig.from_dict(config.to_dict()) == config
    net, twin = ResidualDenoiser(config).eval(), ResidualDenoiser(config).eval()
    twin.load_state_dict(net.state_dict())
    x = torch.rand(1, 1, 10, 10)
    assert torch.equal(net(x), twin(x))


@pytest.mark.parametrize("fields", [{"depth": 1}, {"downscale": 3}, {"width": 0}, {"channels": -1}])
def test_bad_config_names_the_field(fields: dict) -> None:
    with pytest.raises(ConfigError, match=next(iter(fields))):
        ResidualDenoiserConfig(**fields)


def test_wrong_channel_count_is_a_clear_error() -> None:
    net = ResidualDenoiser(ResidualDenoiserConfig(channels=1, depth=2, width=4))
    with pytest.raises(ValueError, match="expected images"):
        net(torch.rand(1, 3, 8, 8))
