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

The method defaults by what the model can do (:func:`default_method`): latent optimisation
for models with a decoder likelihood (the VAE family), the autoencoder method otherwise.
Images larger or smaller than the model's input are filled patch by patch
(:func:`latentkit.apps.patchwise.apply_patchwise`: the mask travels with the image as extra
channels, each patch is filled by the chosen method, and the filled patches are blended).
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor

from latentkit.apps.patchwise import apply_patchwise, train_on_patches
from latentkit.evaluation.metrics import psnr
from latentkit.models.autoencoder import Autoencoder
from latentkit.models.base import AbstractModel
from latentkit.nn import NetworkConfig
from latentkit.training.config import CorruptionConfig, TrainConfig

__all__ = [
    "default_method",
    "evaluate_inpainting",
    "inpaint",
    "optimise_latent",
    "train_inpainter",
]

Method = Literal["autoencoder", "latent_optimisation"]

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


def default_method(model: AbstractModel) -> Method:
    """``"latent_optimisation"`` for models with a decoder likelihood (the VAE family: it fits
    the code to the observed pixels), ``"autoencoder"`` otherwise."""
    return "latent_optimisation" if model.capabilities.decoder_likelihood else "autoencoder"


def inpaint(
    model: AbstractModel,
    images: Tensor,
    missing: Tensor,
    *,
    method: Method | None = None,
    fill: float = 0.0,
    steps: int = 200,
    stride: int | None = None,
) -> Tensor:
    """Images with their missing pixels filled in, shape of ``images``.

    ``images`` may hold anything at the missing pixels: they are set to ``fill`` (the value
    the autoencoder saw during masked training) before the model sees them. ``method``
    defaults to :func:`default_method`. Images ``(N, C, H, W)`` of another size than the
    model's square ``(C, P, P)`` input are filled patch by patch (``stride`` between patches,
    default ``P // 2``).
    """
    if images.shape != missing.shape:
        raise ValueError(
            f"images {tuple(images.shape)} and mask {tuple(missing.shape)} differ in shape."
        )
    method = default_method(model) if method is None else method
    if method not in ("autoencoder", "latent_optimisation"):
        raise ValueError(f"method must be 'autoencoder' or 'latent_optimisation', got {method!r}.")
    masked = images.masked_fill(missing, fill)
    shape = tuple(model.input_shape)
    if images.ndim == 4 and len(shape) == 3 and tuple(images.shape[1:]) != shape:
        return _inpaint_patchwise(model, masked, missing, method, steps, stride)
    if method == "autoencoder":
        return _fill(model, masked, missing, None)
    return _fill(model, masked, missing, optimise_latent(model, masked, missing, steps=steps))


def _inpaint_patchwise(
    model: AbstractModel,
    masked: Tensor,
    missing: Tensor,
    method: Method,
    steps: int,
    stride: int | None,
) -> Tensor:
    """Fill images of any size through blended square patches of the model's input size."""
    c, p, q = tuple(model.input_shape)
    if masked.shape[1] != c or p != q:
        raise ValueError(
            f"the model takes images of shape {(c, p, q)}; patchwise inpainting needs square "
            f"patches of the images' channels, got images of shape {tuple(masked.shape[1:])}."
        )

    def run(batch: Tensor) -> Tensor:  # (B, 2C, P, P): the masked patch, then its mask
        with torch.inference_mode(False), torch.enable_grad():
            x, hole = batch[:, :c].clone(), batch[:, c:].clone() > 0.5  # (B, C, P, P) each
            z = optimise_latent(model, x, hole, steps=steps) if method != "autoencoder" else None
            return _fill(model, x, hole, z)

    stacked = torch.cat([masked, missing.to(masked.dtype)], dim=1)  # (N, 2C, H, W)
    filled = apply_patchwise(run, stacked, p, stride=stride, out_channels=c)  # (N, C, H, W)
    return torch.where(missing, filled, masked)


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
