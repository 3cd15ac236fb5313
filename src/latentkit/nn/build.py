"""Build an encoder or a decoder from a :class:`~latentkit.nn.NetworkConfig` and data shapes.

Shapes are inferred: ``input_shape`` is ``(D,)`` for tables or ``(C, H, W)`` for images. The
``"mlp"`` kind accepts both (images are flattened); the conv kinds need images.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from torch import nn

from latentkit.errors import ConfigError
from latentkit.nn.config import NetworkConfig
from latentkit.nn.conv import ConvDecoder, ConvEncoder
from latentkit.nn.mlp import MLPDecoder, MLPEncoder

__all__ = ["DECODERS", "ENCODERS", "build_decoder", "build_encoder"]

ENCODERS: dict[str, Callable[..., nn.Module]] = {
    "mlp": MLPEncoder,
    "conv": partial(ConvEncoder, residual=False),
    "resconv": partial(ConvEncoder, residual=True),
}
DECODERS: dict[str, Callable[..., nn.Module]] = {
    "mlp": MLPDecoder,
    "conv": partial(ConvDecoder, residual=False),
    "resconv": partial(ConvDecoder, residual=True),
}


def _check_shape(shape: tuple[int, ...], what: str, kind: str) -> tuple[int, ...]:
    shape = tuple(shape)
    if (
        len(shape) not in (1, 3)
        or any(isinstance(s, bool) or not isinstance(s, int) for s in shape)
        or any(s <= 0 for s in shape)
    ):
        raise ConfigError(
            f"{what} must be (D,) for tables or (C, H, W) for images with positive sizes, "
            f"got {shape!r}."
        )
    if kind != "mlp" and len(shape) != 3:
        raise ConfigError(
            f"NetworkConfig.kind={kind!r} needs an image {what} (C, H, W), got {shape!r}; "
            'use kind="mlp" for tabular data.'
        )
    return shape


def _check_width(name: str, value: int, *, allow_zero: bool = False) -> None:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}.")


def build_encoder(
    input_shape: tuple[int, ...],
    out_features: int,
    config: NetworkConfig,
    cond_dim: int = 0,
) -> nn.Module:
    """Build the encoder network ``(N, *input_shape) [+ cond (N, cond_dim)] -> (N, out)``.

    Parameters
    ----------
    input_shape : tuple of int
        ``(D,)`` or ``(C, H, W)``.
    out_features : int
        Output width.
    config : NetworkConfig
        Which stack and its sizes.
    cond_dim : int
        Width of a conditioning vector passed as ``forward(x, cond)`` (0 = none). It is joined
        to the flattened input (mlp) or to the flattened conv features before the dense head.

    Raises
    ------
    ConfigError
        On a bad shape or width, or a conv kind for tabular data.
    """
    shape = _check_shape(input_shape, "input_shape", config.kind)
    _check_width("out_features", out_features)
    _check_width("cond_dim", cond_dim, allow_zero=True)
    return ENCODERS[config.kind](shape, out_features, config, cond_dim)


def build_decoder(
    in_features: int, output_shape: tuple[int, ...], config: NetworkConfig
) -> nn.Module:
    """Build the decoder network ``(N, in_features) -> (N, *output_shape)`` (raw values).

    Parameters
    ----------
    in_features : int
        Code width (include any conditioning the caller concatenates to the code).
    output_shape : tuple of int
        ``(D,)`` or ``(C, H, W)``; produced exactly, odd sizes included.
    config : NetworkConfig
        Which stack and its sizes; mirrors the encoder built from the same config.

    Raises
    ------
    ConfigError
        On a bad shape or width, or a conv kind for tabular data.
    """
    shape = _check_shape(output_shape, "output_shape", config.kind)
    _check_width("in_features", in_features)
    return DECODERS[config.kind](in_features, shape, config)
