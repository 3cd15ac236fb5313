"""A fully convolutional residual denoiser that runs on images of any size.

DnCNN (Zhang, Zuo, Chen, Meng and Zhang 2017, "Beyond a Gaussian denoiser: residual learning
of deep CNN for image denoising"): ``depth`` 3x3 convolutions, the first followed by ReLU, the
middle ones by batch norm and ReLU, the last one linear; the network predicts the *noise* and
the clean image is ``noisy - noise``. With ``downscale=2`` the image is first split into its
four pixel-unshuffled sub-images and the result is shuffled back (the reversible downsampling of
FFDNet, Zhang, Zuo and Zhang 2018): four times fewer positions per layer and twice the
receptive field for the same depth.

Unlike the autoencoders of :mod:`latentkit.models` there is no code: this is a building block
for :mod:`latentkit.apps.denoise` (``train_residual_denoiser``, ``denoise_images``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn

from latentkit.config import Config, check_positive
from latentkit.errors import ConfigError

__all__ = ["ResidualDenoiser", "ResidualDenoiserConfig"]


@dataclass(frozen=True)
class ResidualDenoiserConfig(Config):
    """Size of a :class:`ResidualDenoiser`."""

    channels: int = 1  # image channels (1 gray, 3 RGB)
    depth: int = 10  # number of 3x3 conv layers (>= 2)
    width: int = 32  # channels of the hidden layers
    downscale: int = 1  # 1: full resolution (DnCNN); 2: pixel-unshuffled by 2 (FFDNet)
    batch_norm: bool = True  # batch norm after the middle convolutions

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for name in ("channels", "width", "downscale"):
            check_positive(owner, name, getattr(self, name))
        if self.depth < 2:
            raise ConfigError(
                f"{owner}.depth must be >= 2 (first and last conv), got {self.depth}."
            )
        if self.downscale not in (1, 2):
            raise ConfigError(f"{owner}.downscale must be 1 or 2, got {self.downscale!r}.")


class ResidualDenoiser(nn.Module):
    """Predicts the noise of an image and subtracts it: ``forward(y) = y - f(y)``.

    Parameters
    ----------
    config : ResidualDenoiserConfig
        Channels, depth, width, downscaling.

    Examples
    --------
    >>> import torch
    >>> net = ResidualDenoiser(ResidualDenoiserConfig(depth=4, width=8))
    >>> net(torch.rand(2, 1, 37, 50)).shape
    torch.Size([2, 1, 37, 50])
    """

    def __init__(self, config: ResidualDenoiserConfig) -> None:
        super().__init__()
        self.config = config
        c, w = config.channels * config.downscale**2, config.width
        layers: list[nn.Module] = [nn.Conv2d(c, w, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(config.depth - 2):
            layers.append(nn.Conv2d(w, w, 3, padding=1, bias=not config.batch_norm))
            if config.batch_norm:
                layers.append(nn.BatchNorm2d(w))
            layers.append(nn.ReLU(inplace=True))
        layers.append(nn.Conv2d(w, c, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def noise(self, noisy: Tensor) -> Tensor:
        """The predicted noise, shape of ``noisy`` ``(N, C, H, W)`` (any H and W)."""
        if noisy.ndim != 4 or noisy.shape[1] != self.config.channels:
            raise ValueError(
                f"expected images (N, {self.config.channels}, H, W), got {tuple(noisy.shape)}."
            )
        r = self.config.downscale
        if r == 1:
            return self.body(noisy)
        h, w = noisy.shape[-2:]
        pad = (0, (-w) % r, 0, (-h) % r)  # odd sizes: pad by replication, crop afterwards
        x = F.pad(noisy, pad, mode="replicate") if any(pad) else noisy
        out = F.pixel_shuffle(self.body(F.pixel_unshuffle(x, r)), r)  # (N, C, H', W')
        return out[..., :h, :w]

    def forward(self, noisy: Tensor) -> Tensor:
        """The denoised images ``noisy - noise(noisy)``, shape ``(N, C, H, W)``."""
        return noisy - self.noise(noisy)
