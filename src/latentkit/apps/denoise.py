"""Denoising: autoencoders trained on corrupted inputs against clean targets (Vincent et al.
2008, "Extracting and composing robust features with denoising autoencoders"), applied to
images of any size through overlapping patches (:mod:`latentkit.apps.patchwise`), and
measured with PSNR and SSIM against the noisy input.

For natural images at any size there is also a fully convolutional residual denoiser
(:class:`latentkit.nn.ResidualDenoiser`, DnCNN-style: it predicts the noise):
:func:`train_residual_denoiser` fits it to patches with noise of a standard deviation drawn
per patch from a range (one "blind" model for many noise levels; Zhang et al. 2017, DnCNN-B),
with random flips and rotations of each batch, Adam and a cosine learning-rate decay over a
fixed number of steps (:func:`latentkit.training.schedules.schedule_factor`, the trainer's
schedule); :func:`denoise_images` applies it to whole images.

Both trainers draw the initial weights from their seed alone
(:func:`latentkit._seeding.build_seeded`); the autoencoder is trained by
:func:`latentkit.apps.patchwise.train_on_patches`, shared with colorization and inpainting.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from latentkit._seeding import build_seeded
from latentkit.apps.patchwise import apply_patchwise, train_on_patches
from latentkit.data.corruptions import gaussian_noise
from latentkit.evaluation.metrics import psnr, ssim
from latentkit.models.autoencoder import Autoencoder
from latentkit.models.base import AbstractModel
from latentkit.nn import NetworkConfig
from latentkit.nn.denoiser import ResidualDenoiser, ResidualDenoiserConfig
from latentkit.training.config import CorruptionConfig, TrainConfig
from latentkit.training.schedules import schedule_factor

__all__ = [
    "cosine_lr",
    "denoise",
    "denoise_images",
    "evaluate_denoising",
    "train_denoiser",
    "train_residual_denoiser",
]


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
    return train_on_patches(
        clean,
        CorruptionConfig(kind="gaussian", amount=sigma, clip=True),
        latent_dim=latent_dim,
        network=network or NetworkConfig(kind="conv", channels=(32, 64), dense=256),
        train=train,
        out=out,
    )


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


def _dihedral(x: Tensor, k: int) -> Tensor:
    """One of the 8 flips/rotations of square patches ``(N, C, P, P)``, ``k`` in 0..7."""
    x = torch.rot90(x, k % 4, dims=(-2, -1))
    return x.flip(-1) if k >= 4 else x


def _cosine(lr: float, final_lr: float) -> TrainConfig:
    """The trainer's cosine schedule from ``lr`` down to ``final_lr``."""
    return TrainConfig(lr=lr, min_lr=final_lr, scheduler="cosine")


def cosine_lr(step: int, total: int, lr: float, final_lr: float) -> float:
    """Learning rate at ``step`` of ``total``: cosine decay from ``lr`` to ``final_lr``.

    .. deprecated::
        Use :func:`latentkit.training.schedules.schedule_factor` with a ``TrainConfig`` of
        ``scheduler="cosine"`` (the learning rate is ``lr`` times that factor).
    """
    warnings.warn(
        "latentkit.apps.denoise.cosine_lr is deprecated; use "
        "latentkit.training.schedules.schedule_factor with TrainConfig(scheduler='cosine').",
        DeprecationWarning,
        stacklevel=2,
    )
    return lr * schedule_factor(_cosine(lr, final_lr), 0, step, total)


def train_residual_denoiser(
    patches: Tensor,
    *,
    sigmas: tuple[float, float] = (0.0, 55 / 255),
    config: ResidualDenoiserConfig | None = None,
    steps: int = 1000,
    batch_size: int = 64,
    lr: float = 1e-3,
    final_lr: float = 1e-5,
    clip: bool = False,
    seed: int = 0,
    callback: Callable[[int, float], None] | None = None,
) -> ResidualDenoiser:
    """Fit a :class:`~latentkit.nn.ResidualDenoiser` to noisy patches for ``steps`` steps.

    Parameters
    ----------
    patches : Tensor of shape (N, C, P, P)
        Clean square training patches in [0, 1].
    sigmas : (float, float)
        Each patch of each batch gets noise ``N(0, s^2)`` with ``s`` uniform in this range
        (on the [0, 1] scale; equal ends train a model for one noise level).
    config : ResidualDenoiserConfig, optional
        Network size (default: 10 layers of 32 channels, ``C`` from ``patches``).
    steps, batch_size : int
        Optimisation steps and patches per step (drawn with replacement).
    lr, final_lr : float
        Adam's learning rate decays from ``lr`` to ``final_lr`` along a cosine.
    clip : bool
        Clamp noisy patches to [0, 1] (off: the usual protocol for natural images).
    seed : int
        Seeds the initial weights and every random draw (batches, flips, noise).
    callback : callable, optional
        Called as ``callback(step, loss)`` after every step (1-based step).

    Returns
    -------
    ResidualDenoiser
        In eval mode.
    """
    if patches.ndim != 4 or patches.shape[-1] != patches.shape[-2]:
        raise ValueError(f"patches must be (N, C, P, P), got {tuple(patches.shape)}.")
    low, high = sigmas
    if not 0.0 <= low <= high:
        raise ValueError(f"sigmas must be a range 0 <= low <= high, got {sigmas!r}.")
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1, got {steps} and {batch_size}.")
    if not 0.0 <= final_lr <= lr:
        raise ValueError(f"lr and final_lr must satisfy 0 <= final_lr <= lr, got {lr}, {final_lr}.")
    config = config or ResidualDenoiserConfig(channels=patches.shape[1])
    model = build_seeded(lambda: ResidualDenoiser(config), seed).train()
    schedule = _cosine(lr, final_lr)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = lr * schedule_factor(schedule, 0, step, steps)
        index = torch.randint(len(patches), (batch_size,), generator=generator)
        k = int(torch.randint(8, (1,), generator=generator))
        clean = _dihedral(patches[index], k)  # (B, C, P, P)
        s = low + (high - low) * torch.rand((batch_size, 1, 1, 1), generator=generator)
        noisy = clean + s * torch.randn(clean.shape, generator=generator)
        if clip:
            noisy = noisy.clamp(0.0, 1.0)
        loss = (model.noise(noisy) - (noisy - clean)).square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if callback is not None:
            callback(step + 1, loss.item())
    return model.eval()


@torch.inference_mode()
def denoise_images(model: ResidualDenoiser, noisy: Tensor, *, batch_size: int = 1) -> Tensor:
    """Denoise whole images ``(N, C, H, W)`` of any size with a residual denoiser.

    Returns
    -------
    Tensor of shape (N, C, H, W)
        Clamped to [0, 1].
    """
    model.eval()
    out = [model(noisy[i : i + batch_size]) for i in range(0, len(noisy), batch_size)]
    return torch.cat(out).clamp(0.0, 1.0)
