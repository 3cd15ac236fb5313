"""The network config: which encoder/decoder stack to build and how wide.

One frozen :class:`NetworkConfig` describes both halves of an autoencoder: the encoder is built
from it in encoder order and the decoder mirrors it (see :mod:`latentkit.nn.build`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from latentkit.config import Config, check_choice, check_positive, check_range
from latentkit.errors import ConfigError

__all__ = ["ACTIVATIONS", "KINDS", "NORMS", "NetworkConfig"]

Kind = Literal["mlp", "conv", "resconv"]
Activation = Literal["relu", "gelu", "silu", "elu", "leaky_relu", "tanh", "softplus"]
Norm = Literal["none", "batch", "layer", "group"]

KINDS: tuple[str, ...] = get_args(Kind)
ACTIVATIONS: tuple[str, ...] = get_args(Activation)
NORMS: tuple[str, ...] = get_args(Norm)


def _check_widths(name: str, value: object, *, allow_empty: bool) -> tuple[int, ...]:
    if not isinstance(value, tuple | list) or any(
        isinstance(v, bool) or not isinstance(v, int) for v in value
    ):
        raise ConfigError(f"NetworkConfig.{name} must be a tuple of integers, got {value!r}.")
    if not allow_empty and len(value) == 0:
        raise ConfigError(f"NetworkConfig.{name} must hold at least one width, got {value!r}.")
    if any(v <= 0 for v in value):
        raise ConfigError(f"NetworkConfig.{name} must hold widths > 0, got {value!r}.")
    return tuple(value)


@dataclass(frozen=True)
class NetworkConfig(Config):
    """How to build an encoder and its mirrored decoder.

    Attributes
    ----------
    kind : {"mlp", "conv", "resconv"}
        ``"mlp"`` works on any shape (images are flattened); ``"conv"`` is a strided conv
        stack; ``"resconv"`` adds pre-activation residual blocks to each stage. Conv kinds need
        image shapes ``(C, H, W)``.
    hidden : tuple of int
        MLP widths in encoder order; the decoder uses them reversed. May be empty (linear map).
    channels : tuple of int
        conv/resconv: channels per stage. Each stage halves H and W (rounding up) until a side
        reaches 1; further stages keep that side at 1.
    dense : int
        conv/resconv: width of the dense layer between the conv features and the code
        (0 = map the flattened features straight to the code).
    blocks_per_stage : int
        resconv: residual blocks per stage.
    activation : str
        Non-linearity after every hidden layer.
    norm : {"none", "batch", "layer", "group"}
        Normalisation after every hidden layer (before the activation; inside residual blocks
        before each activation). ``"group"`` picks a group count that divides the width.
    dropout : float in [0, 1)
        Dropout after every hidden dense layer, and channel dropout between the two convs of a
        residual block (as in wide ResNets). Not applied in plain conv stages.
    """

    kind: Kind = "mlp"  # which stack: plain MLP, strided convs or residual convs
    hidden: tuple[int, ...] = (512, 256)  # MLP widths in encoder order; decoder mirrors them
    channels: tuple[int, ...] = (32, 64)  # conv channels per stage; each stage halves H and W
    dense: int = 256  # conv: dense width between conv features and the code (0 = none)
    blocks_per_stage: int = 1  # resconv: residual blocks per stage
    activation: Activation = "relu"  # non-linearity after hidden layers
    norm: Norm = "none"  # normalisation after hidden layers
    dropout: float = 0.0  # dropout probability in dense layers (and residual blocks)

    def __post_init__(self) -> None:
        owner = "NetworkConfig"
        check_choice(owner, "kind", self.kind, KINDS)
        object.__setattr__(self, "hidden", _check_widths("hidden", self.hidden, allow_empty=True))
        channels = _check_widths("channels", self.channels, allow_empty=False)
        object.__setattr__(self, "channels", channels)
        if isinstance(self.dense, bool) or not isinstance(self.dense, int):
            raise ConfigError(f"{owner}.dense must be an integer >= 0, got {self.dense!r}.")
        check_positive(owner, "dense", self.dense, allow_zero=True)
        if isinstance(self.blocks_per_stage, bool) or not isinstance(self.blocks_per_stage, int):
            raise ConfigError(
                f"{owner}.blocks_per_stage must be an integer >= 1, got {self.blocks_per_stage!r}."
            )
        check_positive(owner, "blocks_per_stage", self.blocks_per_stage)
        check_choice(owner, "activation", self.activation, ACTIVATIONS)
        check_choice(owner, "norm", self.norm, NORMS)
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, int | float):
            raise ConfigError(f"{owner}.dropout must be a number in [0, 1), got {self.dropout!r}.")
        check_range(owner, "dropout", self.dropout, 0.0, 1.0)
        if self.dropout >= 1.0:
            raise ConfigError(f"{owner}.dropout must be < 1 (1 drops everything), got 1.0.")
