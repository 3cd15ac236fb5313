"""What each latent captures, for data with known generative factors (``Dataset.factors``:
dSprites' shape, scale, orientation, x, y).

- :func:`plot_factor_information`: a factor-by-latent heatmap of the normalised mutual
  information ``I(z_j; v_k) / H(v_k)`` (latents discretised into 20 bins, as MIG does; see
  :mod:`latentkit.evaluation.disentanglement`), latents ordered as given (the report orders
  them by KL, largest first).
- :func:`factors_section`: the report section: the heatmap, MIG and the FactorVAE score on
  the report's evaluation subset.
- :func:`traversal_labels`: row labels of the traversal figure: the latent, its KL and, with
  factors, the factor it carries most information about.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from torch import Tensor

from latentkit.evaluation.disentanglement import (
    factor_vae_score,
    latent_factors,
    mig,
    normalized_mutual_information,
)
from latentkit.viz.context import Inapplicable, ReportContext
from latentkit.viz.grids import new_figure
from latentkit.viz.html import ReportSection, table_html

__all__ = ["factors_section", "plot_factor_information", "traversal_labels"]


def plot_factor_information(
    nmi: np.ndarray, factor_names: Sequence[str], dims: Sequence[int] | None = None
) -> Figure:
    """Heatmap of ``nmi`` (L, K) as factors (rows) by latents (columns), values in [0, 1].

    Parameters
    ----------
    nmi : ndarray of shape (L, K)
        Normalised mutual information of each latent and factor.
    factor_names : sequence of str
        K names.
    dims : sequence of int, optional
        The latents to show, in this order (default all, in index order).
    """
    nmi = np.asarray(nmi, dtype=float)
    if nmi.ndim != 2 or nmi.shape[1] != len(factor_names):
        raise ValueError(
            f"nmi must have shape (latents, {len(factor_names)}) to match the factor names, "
            f"got {nmi.shape}."
        )
    dims = list(range(nmi.shape[0])) if dims is None else list(dims)
    shown = nmi[dims].T  # (K, len(dims))
    fig = new_figure(1.2 + 0.45 * len(dims), 0.8 + 0.4 * len(factor_names))
    ax = fig.add_subplot()
    image = ax.imshow(shown, vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(dims)), [f"z{d}" for d in dims], fontsize="small")
    ax.set_yticks(range(len(factor_names)), list(factor_names))
    for (k, j), value in np.ndenumerate(shown):
        colour = "black" if value > 0.6 else "white"
        ax.text(j, k, f"{value:.2f}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_title("I(z; factor) / H(factor)")
    fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


def traversal_labels(
    dims: Sequence[int], kl: Tensor | None, factors: Sequence[str | None] | None
) -> list[str]:
    """``z3 · KL 1.24 · x`` for each latent of ``dims`` (KL and factor when known)."""
    labels = []
    for d in dims:
        parts = [f"z{d}"]
        if kl is not None:
            parts.append(f"KL {float(kl[d]):.2f}")
        if factors is not None and factors[d] is not None:
            parts.append(str(factors[d]))
        labels.append(" · ".join(parts))
    return labels


def factors_section(ctx: ReportContext) -> ReportSection | str:
    """The factor-by-latent information heatmap and MIG / FactorVAE score (data with factors)."""
    factors = ctx.data.factors
    if factors is None:  # silent in a full report, like table sections on images
        return Inapplicable("data with factor labels (Dataset.factors, e.g. dsprites)")
    if ctx.model.latent_dim < 2:
        return "needs a code of two or more dimensions"
    codes, f = ctx.codes.numpy(), factors.numpy()
    names = list(ctx.data.meta.get("factor_names") or [f"factor {k}" for k in range(f.shape[1])])
    nmi = normalized_mutual_information(codes, f)
    fig = plot_factor_information(nmi, names, dims=ctx.latent_order)
    numbers = {
        "MIG (20 bins)": mig(codes, f),
        "FactorVAE score": factor_vae_score(codes, f, n_train=2000, n_eval=1000, seed=ctx.seed),
        "data points": len(codes),
    }
    best = latent_factors(codes, f, names)
    captured = ", ".join(f"z{d}: {best[d]}" for d in ctx.latent_order if best[d] is not None)
    caption = (
        "normalised mutual information of each latent (columns, by KL when the model has one) "
        f"and factor; best factor per latent: {captured or 'none above 0.1'}"
    )
    html = table_html(numbers, caption="disentanglement_lib's definitions, this subset")
    return ReportSection("Factors and latents", html=html, figures=[fig], captions=[caption],
                         id="factors")  # fmt: skip
