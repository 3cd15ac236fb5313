"""Latent-space operations: interpolation, attribute vectors and decoded grids.

- Linear interpolation, and spherical interpolation (slerp; Shoemake 1985, advocated for
  Gaussian latents by White 2016, "Sampling generative networks"), which keeps intermediate
  codes at a typical norm under a Gaussian prior.
- Attribute vectors (Larsen et al. 2016; White 2016): the mean code of one group minus the
  mean code of another, added to new inputs with a strength.
- A decoded grid over a 2-D latent space, on evenly spaced quantiles of N(0, 1) as in the
  Keras VAE tutorial's "manifold" figure.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from latentkit.models.base import AbstractModel

__all__ = [
    "apply_attribute",
    "attribute_vector",
    "interpolate",
    "latent_grid",
    "lerp",
    "slerp",
]


def lerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Linear interpolation of codes ``(N, D)`` at fractions ``t`` ``(T,)``: ``(T, N, D)``."""
    t = t.to(a)[:, None, None]
    return (1 - t) * a + t * b


def slerp(a: Tensor, b: Tensor, t: Tensor, eps: float = 1e-7) -> Tensor:
    """Spherical interpolation of codes ``(N, D)`` at fractions ``t`` ``(T,)``: ``(T, N, D)``.

    Follows the great circle between the directions of ``a`` and ``b`` while interpolating
    their norms linearly; falls back to ``lerp`` where the two codes are (anti)parallel.
    """
    t = t.to(a)[:, None, None]
    na, nb = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)
    ua, ub = a / na.clamp_min(eps), b / nb.clamp_min(eps)
    omega = torch.acos((ua * ub).sum(-1, keepdim=True).clamp(-1 + eps, 1 - eps))  # (N, 1)
    so = torch.sin(omega)
    direction = (torch.sin((1 - t) * omega) * ua + torch.sin(t * omega) * ub) / so
    out = direction * ((1 - t) * na + t * nb)
    flat = so.abs() < 1e-4
    return torch.where(flat, lerp(a, b, t[:, 0, 0]), out)


@torch.inference_mode()
def interpolate(
    model: AbstractModel,
    x_a: Tensor,
    x_b: Tensor,
    *,
    steps: int = 8,
    method: Literal["linear", "spherical"] = "linear",
    y: Tensor | None = None,
) -> Tensor:
    """Decode a walk between the codes of ``x_a`` and ``x_b`` (each ``(N, *input_shape)``).

    Returns
    -------
    Tensor of shape (steps, N, *input_shape)
        Step 0 is the reconstruction of ``x_a``, the last step that of ``x_b``.
    """
    if steps < 2:
        raise ValueError(f"steps must be >= 2 to include both endpoints, got {steps}.")
    if x_a.shape != x_b.shape:
        raise ValueError(
            f"x_a and x_b must have the same shape, got {tuple(x_a.shape)} and {tuple(x_b.shape)}."
        )
    model.eval()
    device = model.device
    za, zb = model.encode(x_a.to(device), y), model.encode(x_b.to(device), y)
    t = torch.linspace(0, 1, steps)
    path = (slerp if method == "spherical" else lerp)(za, zb, t)  # (T, N, D)
    n = x_a.shape[0]
    y_rep = None if y is None else y.to(device).repeat(steps)
    images = model.decode(path.reshape(steps * n, -1), y_rep)
    return images.view(steps, n, *x_a.shape[1:]).cpu()


@torch.inference_mode()
def attribute_vector(model: AbstractModel, x: Tensor, with_attribute: Tensor) -> Tensor:
    """Mean code of the rows with the attribute minus the mean code of the others: ``(D,)``.

    Parameters
    ----------
    x : Tensor of shape (N, *input_shape)
    with_attribute : Tensor of shape (N,), bool
        Which rows carry the attribute.
    """
    mask = with_attribute.bool()
    if mask.all() or not mask.any():
        raise ValueError("with_attribute must mark some rows True and some False.")
    model.eval()
    codes = model.encode(x.to(model.device)).cpu()
    return codes[mask].mean(0) - codes[~mask].mean(0)


@torch.inference_mode()
def apply_attribute(
    model: AbstractModel, x: Tensor, vector: Tensor, strengths: Tensor | list[float]
) -> Tensor:
    """Decode ``encode(x) + s * vector`` for each strength ``s``: ``(S, N, *input_shape)``."""
    model.eval()
    s = torch.as_tensor(strengths, dtype=torch.float32)
    codes = model.encode(x.to(model.device)).cpu()  # (N, D)
    moved = codes[None] + s[:, None, None] * vector[None, None]  # (S, N, D)
    out = model.decode(moved.reshape(-1, codes.shape[1]).to(model.device))
    return out.view(len(s), *x.shape).cpu()


@torch.inference_mode()
def latent_grid(model: AbstractModel, n: int = 15, *, span: float = 0.95) -> Tensor:
    """Decode an ``n x n`` grid over a 2-D latent space: ``(n, n, *input_shape)``.

    Grid points sit at the normal quantiles of ``linspace(1 - span, span)``, so they cover the
    prior's mass evenly; row 0 is the top of the figure (largest second coordinate).
    """
    if model.latent_dim != 2:
        raise ValueError(
            "a latent grid needs a 2-D latent space; this model has "
            f"latent_dim={model.latent_dim}. "
            "Train with --latent-dim 2, or plot a projection of the codes instead."
        )
    model.eval()
    q = torch.linspace(1 - span, span, n)
    values = torch.distributions.Normal(0.0, 1.0).icdf(q)
    gy, gx = torch.meshgrid(values.flip(0), values, indexing="ij")
    z = torch.stack([gx, gy], dim=-1).reshape(n * n, 2)
    return model.decode(z.to(model.device)).view(n, n, *model.input_shape).cpu()
