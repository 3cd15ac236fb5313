"""Denoising: autoencoders trained on corrupted inputs against clean targets (Vincent et al.
2008, "Extracting and composing robust features with denoising autoencoders"), applied to
images of any size through overlapping patches (:mod:`latentkit.apps.patchwise`), and
measured with PSNR and SSIM against the noisy input.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from latentkit.apps.patchwise import apply_patchwise
from latentkit.data.corruptions import gaussian_noise
from latentkit.evaluation.metrics import psnr, ssim
from latentkit.models.autoencoder import Autoencoder, AutoencoderConfig
from latentkit.models.base import AbstractModel
from latentkit.nn import NetworkConfig
from latentkit.training.config import CorruptionConfig, TrainConfig
from latentkit.training.trainer import Trainer

__all__ = ["denoise", "evaluate_denoising", "train_denoiser"]


def train_denoiser(
    clean: Tensor,
    sigma: float,
    *,
    latent_dim: int = 64,
    network: NetworkConfig | None = None,
    train: TrainConfig | None = None,
    out: str | None = None,
) -> Autoencoder:
    """Train an autoencoder to map ``clean + N(0, sigma^2)`` (clipped) back to ``clean``.

    Parameters
    ----------
    clean : Tensor of shape (N, C, H, W)
        Clean training images (or patches) in [0, 1]; the model's input shape is ``(C, H, W)``.
    sigma : float
        Noise standard deviation on the [0, 1] scale; a fresh draw every batch.
    """
    network = network or NetworkConfig(kind="conv", channels=(32, 64), dense=256)
    config = AutoencoderConfig(
        input_shape=tuple(clean.shape[1:]), latent_dim=latent_dim, network=network
    )
    model = Autoencoder(config)
    train = (train or TrainConfig(epochs=10, batch_size=128, progress=False)).replace(
        corruption=CorruptionConfig(kind="gaussian", amount=sigma, clip=True)
    )
    Trainer(train).fit(model, clean, out=out)
    return model.eval()


@torch.inference_mode()
def denoise(model: AbstractModel, noisy: Tensor, *, stride: int | None = None) -> Tensor:
    """Denoise images ``(N, C, H, W)``: directly when they have the model's input shape,
    else patch by patch with blending. Returns images of the input's shape in [0, 1]."""
    model.eval()
    shape = tuple(model.input_shape)
    if len(shape) != 3 or noisy.shape[1] != shape[0]:
        raise ValueError(
            f"the model takes images of shape {shape}; "
            f"got images of shape {tuple(noisy.shape[1:])}."
        )
    device = model.device

    def run(batch: Tensor) -> Tensor:
        return model.reconstruct(batch.to(device)).cpu()

    if tuple(noisy.shape[1:]) == shape:
        out = torch.cat([run(noisy[i : i + 512]) for i in range(0, len(noisy), 512)])
    else:
        if shape[1] != shape[2]:
            raise ValueError(f"patchwise denoising needs square patches, the model takes {shape}.")
        out = apply_patchwise(run, noisy, shape[1], stride=stride)
    return out.clamp(0, 1)


def evaluate_denoising(
    model: AbstractModel, clean: Tensor, sigma: float, *, seed: int = 0, stride: int | None = None
) -> dict[str, Any]:
    """Add seeded noise to ``clean``, denoise, and report mean PSNR/SSIM before and after."""
    noisy = gaussian_noise(clean, sigma, clip=True, generator=torch.Generator().manual_seed(seed))
    restored = denoise(model, noisy, stride=stride)
    return {
        "sigma": sigma,
        "psnr_noisy": psnr(noisy, clean).mean().item(),
        "psnr_denoised": psnr(restored, clean).mean().item(),
        "ssim_noisy": ssim(noisy, clean).mean().item(),
        "ssim_denoised": ssim(restored, clean).mean().item(),
        "noisy": noisy,
        "denoised": restored,
    }
