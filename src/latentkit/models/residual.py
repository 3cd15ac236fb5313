"""A residual image denoiser saved and loaded like every model (``latentkit.load``).

The network is :class:`latentkit.nn.ResidualDenoiser` (DnCNN, Zhang et al. 2017, "Beyond a
Gaussian denoiser: residual learning of deep CNN for image denoising"; with ``downscale=2``
FFDNet's reversible downsampling): it predicts the noise of an image of any size and subtracts
it. This class wraps it in the model contract so that a trained denoiser is a model folder
(``config.json`` + ``model.safetensors``) that :func:`latentkit.load` checks and rebuilds like
any other, and that :func:`latentkit.apps.denoise.denoise` and ``latentkit denoise`` apply.

There is no bottleneck, so there is no compressed code: ``encode`` returns the *denoised
image*, flattened (``latent_dim = C * P * P``), and ``decode`` reshapes it back, so that
``reconstruct = decode(encode(x))`` is the denoised image and every command that takes a model
runs on it; the "codes" are pixels. ``reconstruct`` itself takes images of any size (the
network is fully convolutional); ``input_shape = (C, P, P)`` names the channels and the patch
side used when the model is applied patch by patch (:func:`latentkit.apps.denoise.denoise` on
images of another size).

The model is *blind*: it estimates the noise level itself (trained on a range of levels,
DnCNN-B). :meth:`denoise` accepts a known noise level for callers that have one, and documents
what it does with it.

It is registered apart from the trainable model families (``registry.NETWORKS``): it is
trained by :func:`latentkit.apps.denoise.train_residual_denoiser` (noise of a random level per
patch), not by ``latentkit train``.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from latentkit.config import Config, check_shape
from latentkit.errors import ConfigError
from latentkit.models.base import AbstractModel, LossOutput
from latentkit.nn.denoiser import ResidualDenoiser, ResidualDenoiserConfig

__all__ = ["ResidualDenoisingConfig", "ResidualDenoisingModel"]


@dataclasses.dataclass(frozen=True)
class ResidualDenoisingConfig(Config):
    input_shape: tuple[int, ...]  # (C, P, P): image channels, patch side for patchwise use
    # depth, width, downscale of the network; its channels must equal C
    network: ResidualDenoiserConfig = dataclasses.field(default_factory=ResidualDenoiserConfig)

    def __post_init__(self) -> None:
        name = type(self).__name__
        check_shape(name, "input_shape", self.input_shape)
        shape = tuple(self.input_shape)
        if len(shape) != 3 or shape[1] != shape[2]:
            raise ConfigError(
                f"{name}.input_shape must be (C, P, P), square patches of images, got {shape}."
            )
        if self.network.channels != shape[0]:
            raise ConfigError(
                f"{name}.network.channels must equal the image channels input_shape[0] = "
                f"{shape[0]}, got {self.network.channels}."
            )


class ResidualDenoisingModel(AbstractModel):
    """A blind residual denoiser: ``reconstruct(y) = y - f(y)`` on images of any size.

    Parameters
    ----------
    config : ResidualDenoisingConfig
        Image channels, patch side and the network's size.

    Examples
    --------
    >>> from latentkit.nn.denoiser import ResidualDenoiserConfig
    >>> model = ResidualDenoisingModel(ResidualDenoisingConfig(
    ...     input_shape=(1, 16, 16), network=ResidualDenoiserConfig(depth=3, width=8)))
    >>> model.reconstruct(torch.rand(2, 1, 37, 50)).shape
    torch.Size([2, 1, 37, 50])
    """

    model_type = "residual_denoiser"
    config_class = ResidualDenoisingConfig

    def __init__(self, config: ResidualDenoisingConfig) -> None:
        super().__init__(config)
        self.network = ResidualDenoiser(config.network)

    @property
    def latent_dim(self) -> int:
        """``C * P * P``: the "code" is the denoised patch itself (no bottleneck)."""
        c, p, q = self.input_shape
        return c * p * q

    @property
    def loss_name(self) -> str:
        return "squared error"

    def reconstruct(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The denoised images, shape of ``x`` ``(N, C, H, W)`` (any H and W), not clipped."""
        with torch.no_grad():
            return self.network(x)

    def denoise(self, noisy: Tensor, sigma: float | None = None) -> Tensor:
        """Denoised images ``(N, C, H, W)`` of any size, clipped to [0, 1].

        Parameters
        ----------
        noisy : Tensor of shape (N, C, H, W)
            Images in [0, 1] plus noise.
        sigma : float, optional
            The noise standard deviation on the [0, 1] scale, when the caller knows it. The
            model is blind (it was trained on a range of levels and estimates the level
            itself), so a known level is not fed to the network: ``sigma=0`` returns the input
            unchanged (clipped), any other value in [0, 1] gives the blind result.
        """
        if sigma is not None and not 0.0 <= sigma <= 1.0:
            raise ValueError(f"sigma must be in [0, 1] (the [0, 1] scale), got {sigma!r}.")
        if sigma == 0.0:
            return noisy.clamp(0.0, 1.0)
        return self.reconstruct(noisy.to(self.device)).clamp(0.0, 1.0)

    def encode(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The denoised images flattened: ``(N, C * P * P)`` for inputs of ``input_shape``."""
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(
                f"encode takes images of shape {self.input_shape}, got {tuple(x.shape[1:])}; "
                "reconstruct and denoise take any size."
            )
        return self.reconstruct(x).flatten(1)

    def decode(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """Codes ``(N, C * P * P)`` reshaped to images ``(N, C, P, P)``."""
        return z.detach().reshape(len(z), *self.input_shape)

    def loss(
        self,
        x: Tensor,
        *,
        y: Tensor | None = None,
        target: Tensor | None = None,
        step: int | None = None,
        generator: torch.Generator | None = None,
    ) -> LossOutput:
        """Summed squared error of the denoised ``x`` against ``target`` (default ``x``)."""
        target = x if target is None else target
        error = (self.network(x) - target).square().flatten(1).sum(1)  # (N,)
        return LossOutput(loss=error.mean(), reconstruction=error)
