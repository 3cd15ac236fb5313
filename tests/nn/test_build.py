"""Encoders and decoders: exact shapes for every kind and image size, gradients, errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from latentkit.errors import ConfigError
from latentkit.nn import (
    MLP,
    NetworkConfig,
    build_decoder,
    build_encoder,
    num_groups,
    spatial_sizes,
)

IMAGES = [(1, 28, 28), (1, 8, 8), (3, 32, 32), (1, 30, 30), (3, 45, 45)]
TABLES = [(5,), (17,)]
SMALL = {"hidden": (16, 8), "channels": (4, 8), "dense": 16}


def _cases() -> list[tuple[str, tuple[int, ...]]]:
    cases = [("mlp", shape) for shape in IMAGES + TABLES]
    return cases + [(kind, shape) for kind in ("conv", "resconv") for shape in IMAGES]


@pytest.mark.parametrize(("kind", "shape"), _cases())
@pytest.mark.parametrize("cond_dim", [0, 3])
def test_shapes(kind: str, shape: tuple[int, ...], cond_dim: int) -> None:
    config = NetworkConfig(kind=kind, **SMALL)
    encoder = build_encoder(shape, 6, config, cond_dim=cond_dim)
    decoder = build_decoder(2 + cond_dim, shape, config)
    x = torch.rand(4, *shape)
    cond = torch.eye(3)[torch.tensor([0, 1, 2, 0])] if cond_dim else None
    assert encoder(x, cond).shape == (4, 6)
    assert decoder(torch.randn(4, 2 + cond_dim)).shape == (4, *shape)


def test_default_config_builds_for_mnist() -> None:
    for kind in ("mlp", "conv", "resconv"):
        config = NetworkConfig(kind=kind)
        assert build_encoder((1, 28, 28), 32, config)(torch.rand(2, 1, 28, 28)).shape == (2, 32)
        assert build_decoder(16, (1, 28, 28), config)(torch.randn(2, 16)).shape == (2, 1, 28, 28)


def test_cond_changes_the_code() -> None:
    encoder = build_encoder((1, 8, 8), 4, NetworkConfig(kind="conv", **SMALL), cond_dim=2)
    x = torch.rand(1, 1, 8, 8)
    a = encoder(x, torch.tensor([[1.0, 0.0]]))
    b = encoder(x, torch.tensor([[0.0, 1.0]]))
    assert not torch.allclose(a, b)


@pytest.mark.parametrize("kind", ["mlp", "conv", "resconv"])
@pytest.mark.parametrize("norm", ["none", "batch", "layer", "group"])
def test_gradient_reaches_every_parameter(kind: str, norm: str) -> None:
    config = NetworkConfig(kind=kind, norm=norm, blocks_per_stage=2, **SMALL)
    shape = (3, 9, 7)
    encoder = build_encoder(shape, 4, config, cond_dim=2)
    decoder = build_decoder(4, shape, config)
    x = torch.rand(5, *shape)
    out = decoder(encoder(x, torch.rand(5, 2)))
    (out - x).square().mean().backward()
    for name, p in [*encoder.named_parameters(), *decoder.named_parameters()]:
        assert p.grad is not None, name
        assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("kind", ["conv", "resconv"])
@pytest.mark.parametrize("shape", [(1, 7, 13), (2, 1, 5), (1, 1, 1), (3, 45, 45), (1, 2, 3)])
def test_decoder_exact_odd_and_tiny_sizes(kind: str, shape: tuple[int, int, int]) -> None:
    config = NetworkConfig(kind=kind, channels=(4, 4, 8), dense=0)
    assert build_decoder(3, shape, config)(torch.randn(2, 3)).shape == (2, *shape)
    assert build_encoder(shape, 3, config)(torch.rand(2, *shape)).shape == (2, 3)


def test_spatial_sizes_halve_rounding_up_and_stop_at_one() -> None:
    assert spatial_sizes(45, 30, 3) == [(45, 30), (23, 15), (12, 8), (6, 4)]
    assert spatial_sizes(8, 8, 5) == [(8, 8), (4, 4), (2, 2), (1, 1), (1, 1), (1, 1)]


def test_many_stages_on_tiny_images_stop_at_one_by_one() -> None:
    config = NetworkConfig(kind="conv", channels=(4, 4, 4, 4, 4, 4), dense=8)
    encoder = build_encoder((1, 8, 8), 2, config)
    assert encoder.feature_shape == (4, 1, 1)
    assert encoder(torch.rand(3, 1, 8, 8)).shape == (3, 2)
    assert build_decoder(2, (1, 8, 8), config)(torch.randn(3, 2)).shape == (3, 1, 8, 8)


def test_decoder_last_layer_is_unconstrained() -> None:
    decoder = build_decoder(4, (1, 8, 8), NetworkConfig(kind="conv", **SMALL))
    out = decoder(3 * torch.randn(64, 4))
    assert out.min() < 0 < out.max()  # no activation squashes the logits


@pytest.mark.parametrize("kind", ["conv", "resconv"])
def test_conv_kinds_on_tables_explain_to_use_mlp(kind: str) -> None:
    with pytest.raises(ConfigError, match='kind="mlp"'):
        build_encoder((10,), 4, NetworkConfig(kind=kind))
    with pytest.raises(ConfigError, match='kind="mlp"'):
        build_decoder(4, (10,), NetworkConfig(kind=kind))


@pytest.mark.parametrize("shape", [(28, 28), (0, 3, 3), (1, 2, 3, 4), ()])
def test_bad_shapes_are_config_errors(shape: tuple[int, ...]) -> None:
    with pytest.raises(ConfigError, match="input_shape"):
        build_encoder(shape, 4, NetworkConfig())


def test_bad_widths_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="out_features"):
        build_encoder((4,), 0, NetworkConfig())
    with pytest.raises(ConfigError, match="cond_dim"):
        build_encoder((4,), 2, NetworkConfig(), cond_dim=-1)
    with pytest.raises(ConfigError, match="in_features"):
        build_decoder(0, (4,), NetworkConfig())


def test_forward_checks_input_and_cond() -> None:
    encoder = build_encoder((1, 8, 8), 4, NetworkConfig(kind="conv", **SMALL), cond_dim=2)
    with pytest.raises(ValueError, match="cond_dim=2"):
        encoder(torch.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        encoder(torch.rand(2, 1, 8, 8), torch.rand(2, 3))
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\)"):
        encoder(torch.rand(2, 1, 9, 9), torch.rand(2, 2))
    plain = build_encoder((5,), 4, NetworkConfig(**SMALL))
    with pytest.raises(ValueError, match="cond_dim=0"):
        plain(torch.rand(2, 5), torch.rand(2, 1))


def test_mlp_plain_stack() -> None:
    mlp = MLP(6, [8, 8], 3, activation="gelu", norm="layer", dropout=0.2)
    assert mlp(torch.randn(4, 6)).shape == (4, 3)
    assert isinstance(mlp.net[-1], nn.Linear)  # last layer linear, no activation after it
    linear = MLP(6, [], 3)
    assert [type(m) for m in linear.net] == [nn.Linear]


@pytest.mark.parametrize(
    "activation", ["relu", "gelu", "silu", "elu", "leaky_relu", "tanh", "softplus"]
)
def test_every_activation_builds_and_keeps_scale(activation: str) -> None:
    config = NetworkConfig(kind="conv", activation=activation, **SMALL)
    encoder = build_encoder((1, 16, 16), 8, config)
    out = encoder(torch.randn(256, 1, 16, 16))
    assert 0.05 < out.std().item() < 20  # sensible init: neither vanishing nor exploding


def test_dropout_active_in_train_only() -> None:
    for kind in ("mlp", "resconv"):
        encoder = build_encoder((1, 8, 8), 4, NetworkConfig(kind=kind, dropout=0.5, **SMALL))
        x = torch.rand(2, 1, 8, 8)
        assert not torch.allclose(encoder(x), encoder(x))
        encoder.eval()
        assert torch.equal(encoder(x), encoder(x))


@pytest.mark.parametrize("norm", ["batch", "layer", "group"])
def test_norm_layers_are_present(norm: str) -> None:
    encoder = build_encoder((3, 8, 8), 4, NetworkConfig(kind="resconv", norm=norm, **SMALL))
    kinds = {type(m) for m in encoder.modules()}
    expected = {"batch": nn.BatchNorm2d, "layer": nn.GroupNorm, "group": nn.GroupNorm}[norm]
    assert expected in kinds


def test_group_count_divides_channels() -> None:
    for channels in (1, 3, 4, 6, 12, 32, 48, 64, 100, 256):
        groups = num_groups(channels)
        assert channels % groups == 0 and 1 <= groups <= 32
    assert num_groups(64) > 1


def test_channels_last_input() -> None:
    config = NetworkConfig(kind="resconv", **SMALL)
    encoder = build_encoder((3, 16, 16), 4, config).to(memory_format=torch.channels_last)
    x = torch.rand(2, 3, 16, 16)
    out = encoder(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(out, encoder(x))
