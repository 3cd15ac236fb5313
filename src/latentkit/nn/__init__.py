"""Building blocks: MLPs and conv stacks that infer their shapes from the data.

>>> from latentkit.nn import NetworkConfig, build_encoder, build_decoder
>>> enc = build_encoder((1, 28, 28), 64, NetworkConfig(kind="conv"))
>>> dec = build_decoder(32, (1, 28, 28), NetworkConfig(kind="conv"))
"""

from latentkit.nn.build import DECODERS, ENCODERS, build_decoder, build_encoder
from latentkit.nn.config import NetworkConfig
from latentkit.nn.conv import ConvDecoder, ConvEncoder, spatial_sizes
from latentkit.nn.denoiser import ResidualDenoiser, ResidualDenoiserConfig
from latentkit.nn.layers import PreActResidualBlock, num_groups
from latentkit.nn.mlp import MLP, MLPDecoder, MLPEncoder

__all__ = [
    "DECODERS",
    "ENCODERS",
    "MLP",
    "ConvDecoder",
    "ConvEncoder",
    "MLPDecoder",
    "MLPEncoder",
    "NetworkConfig",
    "PreActResidualBlock",
    "ResidualDenoiser",
    "ResidualDenoiserConfig",
    "build_decoder",
    "build_encoder",
    "num_groups",
    "spatial_sizes",
]
