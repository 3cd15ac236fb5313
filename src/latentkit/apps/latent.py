"""Latent-space operations: interpolation, attribute vectors and decoded grids.

- Linear interpolation, and spherical interpolation (slerp; Shoemake 1985, advocated for
  Gaussian latents by White 2016, "Sampling generative networks"), which keeps intermediate
  codes at a typical norm under a Gaussian prior.
- Attribute vectors (Larsen et al. 2016; White 2016): the mean code of one group minus the
  mean code of another ("smiling minus neutral", or one factor value minus another), added to
  new inputs' codes with a strength and decoded. Groups are chosen by label values, so the same
  functions serve binary attributes and multi-valued factors.
- A decoded grid over a 2-D latent space, on evenly spaced quantiles of N(0, 1) as in the
  Keras VAE tutorial's "manifold" figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeAlias

import torch
from torch import Tensor

from latentkit.evaluation.diagnostics import posterior_means
from latentkit.evaluation.evaluate import batched
from latentkit.models.base import AbstractModel

__all__ = [
    "apply_attribute",
    "attribute_vector",
    "code_difference",
    "edit_codes",
    "group_mask",
    "interpolate",
    "latent_grid",
    "lerp",
    "slerp",
]


#: label values selecting a group: one value, several, or a tensor of them
Values: TypeAlias = bool | int | float | Sequence[bool | int | float] | Tensor


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


def group_mask(labels: Tensor, values: Values) -> Tensor:
    """Rows whose label is one of ``values``: a bool mask of shape (N,).

    Parameters
    ----------
    labels : Tensor of shape (N,)
        Any labels: bool, integer classes, or float factor values (compared exactly).
    values : scalar, sequence of scalars, or Tensor
        The label values that select a row.

    Raises
    ------
    ValueError
        Labels not of shape (N,), or a value that integer or bool labels cannot hold (1.5).
    """
    if labels.ndim != 1:
        raise ValueError(
            f"labels must have shape (N,), got {tuple(labels.shape)}; pass one column of a "
            "factor table, e.g. factors[:, k]."
        )
    if labels.dtype == torch.bool:
        labels = labels.long()
    given = torch.as_tensor(values).reshape(-1)
    wanted = given.to(labels.dtype)
    if not labels.dtype.is_floating_point and not torch.equal(wanted.to(given.dtype), given):
        bad = given[wanted.to(given.dtype) != given][0].item()
        raise ValueError(
            f"the label value {bad!r} is not a {labels.dtype} label: expected values the integer "
            "labels can hold (casting would select another class); pass whole numbers, e.g. 1."
        )
    return torch.isin(labels, wanted)


def code_difference(
    codes: Tensor, labels: Tensor, positive: Values = 1, negative: Values | None = None
) -> Tensor:
    """Mean code of the ``positive`` rows minus the mean code of the ``negative`` rows: ``(D,)``.

    Parameters
    ----------
    codes : Tensor of shape (N, D)
    labels : Tensor of shape (N,)
        Bool, integer or float labels (see :func:`group_mask`).
    positive : scalar or sequence
        Label value(s) of the group carrying the attribute (``1``/``True``: smiling).
    negative : scalar or sequence, optional
        Label value(s) of the group without it; by default every row not in ``positive``.

    Raises
    ------
    ValueError
        A shape mismatch, an empty group, or a value in both groups.
    """
    if codes.ndim != 2 or len(codes) != len(labels):
        raise ValueError(
            f"codes must have shape (N, D) with one label per row, got codes "
            f"{tuple(codes.shape)} and labels {tuple(labels.shape)}."
        )
    pos = group_mask(labels, positive)
    neg = ~pos if negative is None else group_mask(labels, negative)
    if (pos & neg).any():
        raise ValueError(
            f"positive {positive!r} and negative {negative!r} select the same rows; "
            "give disjoint label values."
        )
    for name, mask, values in (("positive", pos, positive), ("negative", neg, negative)):
        if not mask.any():
            shown = "the other labels" if values is None else repr(values)
            raise ValueError(
                f"no row has the {name} label value(s) {shown}; "
                f"choose values present in labels (found {torch.unique(labels).tolist()[:10]})."
            )
    return codes[pos].mean(0) - codes[neg].mean(0)


def attribute_vector(
    model: AbstractModel,
    x: Tensor,
    labels: Tensor,
    positive: Values = 1,
    negative: Values | None = None,
    *,
    batch_size: int = 512,
) -> Tensor:
    """The attribute vector: mean code of the positive rows minus that of the negative rows.

    Works for any labelled group pair: smiling (1) minus neutral (0) faces, or a factor
    value minus another (dSprites' ellipse minus square: ``labels=factors[:, shape_column]``,
    ``positive=ellipse, negative=square``).

    Parameters
    ----------
    model : AbstractModel
    x : Tensor of shape (N, *input_shape)
    labels : Tensor of shape (N,)
        Bool, integer or float labels of the rows (a bool mask: ``positive=True``).
    positive, negative
        Label values of the two groups (see :func:`code_difference`).
    batch_size : int
        Rows encoded at once.

    Returns
    -------
    Tensor of shape (latent_dim,)
        On the CPU; add it to codes with :func:`apply_attribute`.
    """
    codes = posterior_means(model, x, batch_size=batch_size)  # (N, D)
    return code_difference(codes, labels.cpu(), positive, negative)


def edit_codes(codes: Tensor, vector: Tensor, strengths: Tensor | Sequence[float]) -> Tensor:
    """``codes + s * vector`` for each strength ``s``: ``(S, N, D)`` from codes ``(N, D)``."""
    s = torch.as_tensor(strengths, dtype=codes.dtype).reshape(-1)
    if vector.shape != codes.shape[1:]:
        raise ValueError(
            f"vector must have shape ({codes.shape[1]},) like one code, got {tuple(vector.shape)}."
        )
    if not torch.isfinite(s).all() or not torch.isfinite(vector).all():
        raise ValueError("strengths and vector must be finite numbers.")
    return codes[None] + s[:, None, None] * vector.to(codes)[None, None]


def apply_attribute(
    model: AbstractModel,
    x: Tensor,
    vector: Tensor,
    strengths: Tensor | Sequence[float],
    *,
    batch_size: int = 512,
) -> Tensor:
    """Decode ``encode(x) + s * vector`` for each strength ``s``.

    Parameters
    ----------
    model : AbstractModel
    x : Tensor of shape (N, *input_shape)
    vector : Tensor of shape (latent_dim,)
        From :func:`attribute_vector`.
    strengths : sequence of float, length S
        ``0`` gives the reconstruction; negative strengths remove the attribute.

    Returns
    -------
    Tensor of shape (S, N, *input_shape)
        On the CPU.
    """
    codes = posterior_means(model, x, batch_size=batch_size)  # (N, D)
    moved = edit_codes(codes, vector.cpu(), strengths)  # (S, N, D)
    flat = moved.reshape(-1, codes.shape[1])
    out = batched(lambda z, _: model.decode(z), flat, model=model, batch_size=batch_size)
    return out.view(moved.shape[0], *x.shape).cpu()


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
