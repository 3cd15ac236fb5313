"""Inpainting: fill the missing pixels of images given a mask.

Two methods:
(a) ``"autoencoder"``: an autoencoder trained with random masking (a denoising autoencoder
    whose corruption hides pixels; :func:`train_inpainter`, through
    :func:`latentkit.apps.patchwise.train_on_patches` like denoising and colorization)
    reconstructs the masked image;
(b) ``"latent_optimisation"``: for a VAE, fit the code z to the observed pixels only by
    maximising ``log p(x_obs | z) + log p(z)`` with Adam from the encoder's guess, then decode
    (a MAP estimate under the model, in the spirit of Yeh et al. 2017, "Semantic image
    inpainting with deep generative models").
In both, observed pixels are kept and only missing ones are replaced. PSNR is measured on
the missing pixels.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor

from latentkit.apps.patchwise import train_on_patches
from latentkit.evaluation.metrics import psnr
from latentkit.models.autoencoder import Autoencoder
from latentkit.models.base import AbstractModel
from latentkit.nn import NetworkConfig
from latentkit.training.config import CorruptionConfig, TrainConfig

__all__ = ["evaluate_inpainting", "inpaint", "optimise_latent", "train_inpainter"]

_MASKS = ("mask", "box_mask")


def train_inpainter(
    images: Tensor,
    *,
    kind: Literal["mask", "box_mask"] = "mask",
    amount: float = 0.5,
    latent_dim: int = 64,
    network: NetworkConfig | None = None,
    train: TrainConfig | None = None,
    out: str | None = None,
) -> Autoencoder:
    """Train an autoencoder to fill in hidden pixels, for ``inpaint(method="autoencoder")``.

    Parameters
    ----------
    images : Tensor of shape (N, C, H, W)
        Clean training images (or patches) in [0, 1]; the model's input shape is ``(C, H, W)``.
    kind : {"mask", "box_mask"}
        Hide a fraction ``amount`` of the pixels of each image ("mask": scattered pixels) or
        one square box of side ``amount`` times the image's smaller side ("box_mask"); hidden
        pixels are set to 0, a fresh draw every batch.
    amount : float in [0, 1]
        Fraction of pixels, or relative box side.
    latent_dim : int
        Size of the code.
    network : NetworkConfig, optional
        Default: conv channels 32-64 and a dense layer of 256.
    train : TrainConfig, optional
        Default: 10 epochs of batches of 128; its seed also seeds the initial weights.
    out : str, optional
        Run folder for the trainer to write.

    Returns
    -------
    Autoencoder
        Trained, in eval mode.
    """
    if kind not in _MASKS:
        raise ValueError(f"kind must be one of {_MASKS}, got {kind!r}.")
    return train_on_patches(
        images,
        CorruptionConfig(kind=kind, amount=amount),
        latent_dim=latent_dim,
        network=network or NetworkConfig(kind="conv", channels=(32, 64), dense=256),
        train=train,
        out=out,
    )


def optimise_latent(
    model: AbstractModel,
    observed: Tensor,
    missing: Tensor,
    *,
    steps: int = 200,
    lr: float = 0.05,
    prior_weight: float = 1.0,
) -> Tensor:
    """MAP codes fitted to observed pixels: ``(N, latent_dim)``.

    Parameters
    ----------
    observed : Tensor of shape (N, *input_shape)
        Images whose missing pixels hold any value (they are ignored).
    missing : BoolTensor of the same shape
        True where a pixel is missing.
    """
    if not model.capabilities.decoder_likelihood:
        raise TypeError(
            f"latent optimisation needs a VAE with a likelihood; {type(model).__name__} has none. "
            "Use method='autoencoder' instead."
        )
    model.eval()
    device = model.device
    x = observed.to(device)
    keep = (~missing).to(device).float()
    with torch.no_grad():
        z0 = model.encode(x * keep)
    z = z0.clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        for _ in range(steps):
            params = model.decoder_params(z)
            # per-pixel log-likelihood, counted only where observed
            log_px = _pixel_log_prob(model, params, x)
            objective = (log_px * keep).flatten(1).sum(1) + prior_weight * model.prior.log_prob(z)
            opt.zero_grad(set_to_none=True)
            (-objective.sum()).backward()
            opt.step()
    finally:
        for p in model.parameters():
            p.requires_grad_(True)
    return z.detach()


def _pixel_log_prob(model: AbstractModel, params: Tensor, x: Tensor) -> Tensor:
    """Elementwise log p(x | params) for the likelihoods that factorise over pixels."""
    if model.likelihood.name in ("bernoulli", "continuous_bernoulli"):
        return -torch.nn.functional.binary_cross_entropy_with_logits(params, x, reduction="none")
    return -0.5 * (model.likelihood.mean(params) - x).square()


@torch.inference_mode()
def _fill(model: AbstractModel, images: Tensor, missing: Tensor, z: Tensor | None) -> Tensor:
    device = model.device
    x = images.to(device)
    out = model.reconstruct(x) if z is None else model.decode(z)
    return torch.where(missing.to(device), out, x).cpu()


def inpaint(
    model: AbstractModel,
    images: Tensor,
    missing: Tensor,
    *,
    method: Literal["autoencoder", "latent_optimisation"] = "autoencoder",
    fill: float = 0.0,
    steps: int = 200,
) -> Tensor:
    """Images with their missing pixels filled in, shape of ``images``.

    ``images`` may hold anything at the missing pixels: they are set to ``fill`` (the value
    the autoencoder saw during masked training) before the model sees them.
    """
    if images.shape != missing.shape:
        raise ValueError(
            f"images {tuple(images.shape)} and mask {tuple(missing.shape)} differ in shape."
        )
    masked = images.masked_fill(missing, fill)
    if method == "autoencoder":
        return _fill(model, masked, missing, None)
    if method == "latent_optimisation":
        return _fill(model, masked, missing, optimise_latent(model, masked, missing, steps=steps))
    raise ValueError(f"method must be 'autoencoder' or 'latent_optimisation', got {method!r}.")


def evaluate_inpainting(
    model: AbstractModel, clean: Tensor, missing: Tensor, **kwargs: Any
) -> dict[str, Any]:
    """PSNR on the missing pixels for the model and for filling with the observed mean."""
    restored = inpaint(model, clean, missing, **kwargs)
    observed_mean = (clean * ~missing).flatten(1).sum(1) / (~missing).flatten(1).sum(1).clamp_min(1)
    mean_fill = torch.where(missing, observed_mean.view(-1, *[1] * (clean.ndim - 1)), clean)
    return {
        "psnr_missing": psnr(restored, clean, mask=missing).mean().item(),
        "psnr_missing_mean_fill": psnr(mean_fill, clean, mask=missing).mean().item(),
        "inpainted": restored,
    }
