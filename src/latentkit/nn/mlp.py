"""Multilayer perceptrons: the plain stack, and the encoder/decoder built from it.

The fully connected encoder/decoder of Kingma & Welling, "Auto-Encoding Variational Bayes"
(ICLR 2014), generalised to any depth, activation and normalisation. Images are flattened.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from latentkit.nn.config import NetworkConfig
from latentkit.nn.layers import init_output_layer, init_weights, make_activation, make_norm1d

__all__ = ["MLP", "MLPDecoder", "MLPEncoder", "check_cond"]


class MLP(nn.Module):
    """``Linear -> norm -> activation -> dropout`` per hidden width, then a final ``Linear``.

    Parameters
    ----------
    in_features, out_features : int
        Input and output widths.
    hidden : sequence of int
        Hidden widths (may be empty: a single linear map).
    activation, norm : str
        As in :class:`~latentkit.nn.NetworkConfig`.
    dropout : float
        Dropout probability after each hidden activation.

    Notes
    -----
    The last layer is linear (no activation): the output is raw (codes, logits, means).
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        activation: str = "relu",
        norm: str = "none",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers += [
                nn.Linear(width, h, bias=norm == "none"),
                make_norm1d(norm, h),
                make_activation(activation),
            ]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        self.net = nn.Sequential(*layers, nn.Linear(width, out_features))
        init_weights(self, activation)
        init_output_layer(self.out)

    @property
    def out(self) -> nn.Linear:
        """The final linear layer (registered once, inside ``net``)."""
        return self.net[-1]

    def forward(self, x: Tensor) -> Tensor:
        """Map ``(N, in_features)`` to ``(N, out_features)``."""
        return self.net(x)


def check_cond(cond: Tensor | None, cond_dim: int, n: int) -> None:
    """Raise ``ValueError`` unless ``cond`` fits an encoder built with ``cond_dim``."""
    if cond_dim == 0:
        if cond is not None:
            raise ValueError(
                "this encoder was built with cond_dim=0 but got cond; "
                "build it with cond_dim=<width of cond> to condition on it."
            )
        return
    if cond is None:
        raise ValueError(f"this encoder was built with cond_dim={cond_dim}; pass cond (N, D).")
    if cond.shape != (n, cond_dim):
        raise ValueError(
            f"cond must have shape ({n}, {cond_dim}), got {tuple(cond.shape)}; "
            "a one-hot label needs F.one_hot(y, n_classes).float()."
        )


def check_input(x: Tensor, shape: tuple[int, ...]) -> None:
    """Raise ``ValueError`` unless ``x`` is ``(N, *shape)``."""
    if tuple(x.shape[1:]) != shape:
        raise ValueError(
            f"expected input of shape (N, {', '.join(map(str, shape))}), got {tuple(x.shape)}."
        )


class MLPEncoder(nn.Module):
    """Flatten the input, concatenate ``cond``, map to ``out_features`` with an :class:`MLP`."""

    def __init__(
        self,
        input_shape: tuple[int, ...],
        out_features: int,
        config: NetworkConfig,
        cond_dim: int = 0,
    ) -> None:
        super().__init__()
        self.input_shape = input_shape
        self.cond_dim = cond_dim
        self.mlp = MLP(
            math.prod(input_shape) + cond_dim,
            config.hidden,
            out_features,
            config.activation,
            config.norm,
            config.dropout,
        )

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        """Map ``x`` of shape ``(N, *input_shape)`` to ``(N, out_features)``."""
        check_input(x, self.input_shape)
        check_cond(cond, self.cond_dim, x.shape[0])
        h = x.flatten(1)  # (N, D)
        if cond is not None:
            h = torch.cat([h, cond.to(h.dtype)], dim=1)  # (N, D + cond_dim)
        return self.mlp(h)  # (N, out_features)


class MLPDecoder(nn.Module):
    """Map a code through the mirrored :class:`MLP` and reshape to ``output_shape``."""

    def __init__(self, in_features: int, output_shape: tuple[int, ...], config: NetworkConfig):
        super().__init__()
        self.output_shape = output_shape
        self.mlp = MLP(
            in_features,
            tuple(reversed(config.hidden)),
            math.prod(output_shape),
            config.activation,
            config.norm,
            config.dropout,
        )

    def forward(self, z: Tensor) -> Tensor:
        """Map ``z`` of shape ``(N, in_features)`` to raw values ``(N, *output_shape)``."""
        return self.mlp(z).reshape(z.shape[0], *self.output_shape)  # (N, *output_shape)
