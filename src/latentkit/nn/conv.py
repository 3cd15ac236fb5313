"""Convolutional encoders and decoders for images of any height and width.

Each stage is a 3x3 convolution with stride 2 and padding 1, which maps a side ``s`` to
``ceil(s / 2)`` (odd sizes included). Once a side reaches 1 the stride on that side becomes 1,
so extra stages on tiny images (8x8 with five stages) keep working at 1x1 instead of failing.
The decoder replays the encoder's sizes backwards with 3x3 transposed convolutions whose
``output_padding`` (0 or 1 per side) restores every side exactly: no cropping.

The plain ``"conv"`` stack follows the DCGAN-style encoders of Radford et al. (ICLR 2016);
``"resconv"`` inserts pre-activation residual blocks (He et al., ECCV 2016) into every stage.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from latentkit.nn.config import NetworkConfig
from latentkit.nn.layers import (
    PreActResidualBlock,
    init_output_layer,
    init_weights,
    make_activation,
    make_norm2d,
)
from latentkit.nn.mlp import MLP, check_cond, check_input

__all__ = ["ConvDecoder", "ConvEncoder", "spatial_sizes"]


def spatial_sizes(height: int, width: int, n_stages: int) -> list[tuple[int, int]]:
    """Spatial size before the first stage and after each stage: ``n_stages + 1`` pairs."""
    sizes = [(height, width)]
    for _ in range(n_stages):
        h, w = sizes[-1]
        sizes.append(((h + 1) // 2, (w + 1) // 2))  # ceil(s / 2); 1 stays 1
    return sizes


def _stride(size: tuple[int, int]) -> tuple[int, int]:
    """Stride of a stage whose input has ``size``: 2 per side, 1 on a side already at 1."""
    return (2 if size[0] > 1 else 1, 2 if size[1] > 1 else 1)


def _output_padding(target: tuple[int, int], source: tuple[int, int]) -> tuple[int, int]:
    """Transposed-conv ``output_padding`` that maps ``source`` back to ``target`` exactly."""
    # a 3x3 transposed conv with padding 1 gives (s - 1) * stride + 1 + output_padding
    pad = tuple(
        t - ((s - 1) * st + 1) for t, s, st in zip(target, source, _stride(target), strict=True)
    )
    assert all(p in (0, 1) for p in pad), (target, source, pad)
    return pad  # type: ignore[return-value]


class ConvEncoder(nn.Module):
    """Strided conv stages, flatten, concatenate ``cond``, dense head to ``out_features``.

    Parameters
    ----------
    input_shape : tuple of int
        ``(C, H, W)``.
    out_features : int
        Output width (e.g. ``2 * latent_dim`` for a Gaussian posterior).
    config : NetworkConfig
        ``channels``, ``dense``, ``activation``, ``norm``, ``dropout`` and, for the residual
        stack, ``blocks_per_stage``.
    cond_dim : int
        Width of the optional conditioning vector joined to the flattened features.
    residual : bool
        Build the ``"resconv"`` stack.
    """

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        out_features: int,
        config: NetworkConfig,
        cond_dim: int = 0,
        *,
        residual: bool = False,
    ) -> None:
        super().__init__()
        self.input_shape = input_shape
        self.cond_dim = cond_dim
        c_in, height, width = input_shape
        act, norm = config.activation, config.norm
        sizes = spatial_sizes(height, width, len(config.channels))
        stages: list[nn.Module] = []
        for i, c in enumerate(config.channels):
            conv = nn.Conv2d(c_in, c, 3, stride=_stride(sizes[i]), padding=1, bias=norm == "none")
            if residual:
                pre = [make_norm2d(norm, c_in), make_activation(act)] if i > 0 else []
                blocks = [
                    PreActResidualBlock(c, act, norm, config.dropout)
                    for _ in range(config.blocks_per_stage)
                ]
                stages.append(nn.Sequential(*pre, conv, *blocks))
            else:
                stages.append(nn.Sequential(conv, make_norm2d(norm, c), make_activation(act)))
            c_in = c
        if residual:  # pre-activation nets end with a final norm + activation
            stages.append(nn.Sequential(make_norm2d(norm, c_in), make_activation(act)))
        self.stages = nn.Sequential(*stages)
        self.feature_shape = (c_in, *sizes[-1])
        init_weights(self.stages, act)
        self.head = MLP(
            math.prod(self.feature_shape) + cond_dim,
            [config.dense] if config.dense else [],
            out_features,
            act,
            norm,
            config.dropout,
        )

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        """Map ``x`` of shape ``(N, C, H, W)`` to ``(N, out_features)``."""
        check_input(x, self.input_shape)
        check_cond(cond, self.cond_dim, x.shape[0])
        h = self.stages(x).flatten(1)  # (N, C' * H' * W')
        if cond is not None:
            h = torch.cat([h, cond.to(h.dtype)], dim=1)  # (N, C'H'W' + cond_dim)
        return self.head(h)  # (N, out_features)


class ConvDecoder(nn.Module):
    """Dense head to the encoder's feature map, then transposed-conv stages back to the image.

    Parameters
    ----------
    in_features : int
        Code width.
    output_shape : tuple of int
        ``(C, H, W)``, produced exactly.
    config : NetworkConfig
        Same fields as :class:`ConvEncoder`; the stages run in reverse.
    residual : bool
        Build the ``"resconv"`` stack.
    """

    def __init__(
        self,
        in_features: int,
        output_shape: tuple[int, int, int],
        config: NetworkConfig,
        *,
        residual: bool = False,
    ) -> None:
        super().__init__()
        self.output_shape = output_shape
        c_out, height, width = output_shape
        act, norm, channels = config.activation, config.norm, config.channels
        sizes = spatial_sizes(height, width, len(channels))
        self.feature_shape = (channels[-1], *sizes[-1])
        self.head = MLP(
            in_features,
            [config.dense] if config.dense else [],
            math.prod(self.feature_shape),
            act,
            norm,
            config.dropout,
        )
        # plain convs take activated features; pre-activation blocks activate for themselves
        self.head_act = nn.Identity() if residual else make_activation(act)
        stages: list[nn.Module] = []
        for i in reversed(range(len(channels))):
            c = channels[i]
            c_next = channels[i - 1] if i > 0 else (channels[0] if residual else c_out)
            up = nn.ConvTranspose2d(
                c,
                c_next,
                3,
                stride=_stride(sizes[i]),
                padding=1,
                output_padding=_output_padding(sizes[i], sizes[i + 1]),
            )
            if residual:
                blocks = [
                    PreActResidualBlock(c, act, norm, config.dropout)
                    for _ in range(config.blocks_per_stage)
                ]
                stages.append(
                    nn.Sequential(*blocks, make_norm2d(norm, c), make_activation(act), up)
                )
            elif i > 0:
                stages.append(nn.Sequential(up, make_norm2d(norm, c_next), make_activation(act)))
            else:
                stages.append(up)
        if residual:  # final pre-activation and a 3x3 conv to the data channels
            self.out = nn.Conv2d(channels[0], c_out, 3, padding=1)
            stages.append(nn.Sequential(make_norm2d(norm, channels[0]), make_activation(act)))
            stages.append(self.out)
        else:
            self.out = up
        self.stages = nn.Sequential(*stages)
        init_weights(self.stages, act)
        init_output_layer(self.out)

    def forward(self, z: Tensor) -> Tensor:
        """Map ``z`` of shape ``(N, in_features)`` to raw values ``(N, C, H, W)``."""
        h = self.head_act(self.head(z)).reshape(z.shape[0], *self.feature_shape)  # (N, C', H', W')
        return self.stages(h)  # (N, C, H, W)
