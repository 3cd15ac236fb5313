"""Small building blocks shared by the MLP and conv stacks: activations, norms, init, blocks.

The residual block is the pre-activation unit of He et al., "Identity Mappings in Deep
Residual Networks" (ECCV 2016): ``x + conv(act(norm(conv(act(norm(x))))))``, with channel
dropout between the two convolutions as in Zagoruyko & Komodakis, "Wide Residual Networks"
(BMVC 2016). Group norm follows Wu & He, "Group Normalization" (ECCV 2018).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

__all__ = [
    "PreActResidualBlock",
    "init_weights",
    "make_activation",
    "make_norm1d",
    "make_norm2d",
    "num_groups",
]

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "tanh": nn.Tanh,
    "softplus": nn.Softplus,
}


def make_activation(name: str) -> nn.Module:
    """A fresh activation module by name (one of ``NetworkConfig`` activations)."""
    if name not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(_ACTIVATIONS)}.")
    return _ACTIVATIONS[name]()


def num_groups(channels: int, *, max_groups: int = 32, min_per_group: int = 4) -> int:
    """Group count for ``GroupNorm``: the largest divisor of ``channels`` that is at most
    ``max_groups`` and leaves at least ``min_per_group`` channels per group (1 if none does)."""
    for groups in range(min(max_groups, channels), 0, -1):
        if channels % groups == 0 and channels // groups >= min_per_group:
            return groups
    return 1


def make_norm1d(name: str, width: int) -> nn.Module:
    """Normalisation for ``(N, width)`` features; ``"none"`` gives an identity."""
    if name == "none":
        return nn.Identity()
    if name == "batch":
        return nn.BatchNorm1d(width)
    if name == "layer":
        return nn.LayerNorm(width)
    if name == "group":
        return nn.GroupNorm(num_groups(width), width)
    raise ValueError(f"unknown norm {name!r}; choose none, batch, layer or group.")


def make_norm2d(name: str, channels: int) -> nn.Module:
    """Normalisation for ``(N, C, H, W)`` maps; ``"layer"`` normalises over (C, H, W)."""
    if name == "none":
        return nn.Identity()
    if name == "batch":
        return nn.BatchNorm2d(channels)
    if name == "layer":
        return nn.GroupNorm(1, channels)
    if name == "group":
        return nn.GroupNorm(num_groups(channels), channels)
    raise ValueError(f"unknown norm {name!r}; choose none, batch, layer or group.")


def init_weights(module: nn.Module, activation: str) -> None:
    """He (Kaiming) normal init for every Linear/Conv weight, zero biases.

    The gain matches ``activation`` (ReLU gain for the ReLU-like family, Xavier for tanh).
    Call :func:`init_output_layer` afterwards on layers that feed no activation.
    """
    for m in module.modules():
        if isinstance(m, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
            if activation == "tanh":
                nn.init.xavier_normal_(m.weight, gain=nn.init.calculate_gain("tanh"))
            elif activation == "leaky_relu":
                nn.init.kaiming_normal_(m.weight, a=0.01, nonlinearity="leaky_relu")
            else:
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if isinstance(m, nn.ConvTranspose2d):
                # weight is (in, out, kh, kw): Kaiming used dim 1 as fan_in; rescale to the
                # true fan-in of a stride-s transposed conv, roughly in * kh * kw / s^2.
                stride = m.stride[0] * m.stride[1]
                m.weight.data.mul_((m.weight.shape[1] / m.weight.shape[0] * stride) ** 0.5)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def init_output_layer(layer: nn.Module) -> None:
    """Variance-preserving init (gain 1) for a final layer that outputs raw values."""
    if isinstance(layer, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
        nn.init.kaiming_normal_(layer.weight, nonlinearity="linear")
        if isinstance(layer, nn.ConvTranspose2d):
            stride = layer.stride[0] * layer.stride[1]
            layer.weight.data.mul_((layer.weight.shape[1] / layer.weight.shape[0] * stride) ** 0.5)
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)


class PreActResidualBlock(nn.Module):
    """Pre-activation residual block at constant width and resolution.

    Parameters
    ----------
    channels : int
        Channels in and out.
    activation, norm : str
        As in :class:`~latentkit.nn.NetworkConfig`.
    dropout : float
        Channel dropout probability between the two convolutions.
    """

    def __init__(self, channels: int, activation: str, norm: str, dropout: float = 0.0) -> None:
        super().__init__()
        self.branch = nn.Sequential(
            make_norm2d(norm, channels),
            make_activation(activation),
            nn.Conv2d(channels, channels, 3, padding=1, bias=norm == "none"),
            make_norm2d(norm, channels),
            make_activation(activation),
            nn.Dropout2d(dropout) if dropout > 0 else nn.Identity(),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.branch(x)  # (N, C, H, W)
