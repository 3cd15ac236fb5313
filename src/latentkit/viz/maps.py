"""2-D maps of latent codes, shared by the report's latent figure and the explorer's map.

Codes of two dimensions are drawn as they are. Codes of more dimensions are projected:

- ``"tsne"``: t-SNE (van der Maaten and Hinton 2008) with openTSNE (Poličar et al. 2024), the
  optional ``maps`` extra (``pip install 'latentkit[maps]'``). Chosen over UMAP (umap-learn)
  because it installs as one compiled wheel over numpy, SciPy and scikit-learn (no numba) and,
  with these settings on one thread of a busy 2-core machine, mapped 2000 points in about 5 s
  where umap-learn's defaults took about 25 s. Settings, written down: exact neighbours up to
  5000 points (openTSNE's approximate ones above), perplexity ``min(30, (n - 1) / 3)``, PCA
  initialisation, Barnes-Hut gradients, 125 early-exaggeration
  and 375 plain iterations (about half of openTSNE's default, enough for a few thousand
  points), one thread and ``random_state=seed``, so a map is the same on every run. Without
  openTSNE, an explicit ``"tsne"`` falls back to scikit-learn's (slower) t-SNE.
- ``"pca"``: the top two principal axes (an SVD, signs fixed), fast and linear.
- ``"auto"`` (the default): t-SNE when openTSNE is installed and there are at least
  :data:`MIN_TSNE_POINTS` codes, otherwise PCA; the figure says which and why.

Every map carries its method's name (``LatentMap.method``, ``axis_labels`` and ``title``) so
that a figure never leaves the reader guessing how its axes were made. A t-SNE map is not a
linear function of the codes: distances between clusters mean little and there is no inverse
(the explorer interpolates between the nearest data codes instead).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
from typing import Literal

import numpy as np

__all__ = ["MAP_METHODS", "MIN_TSNE_POINTS", "LatentMap", "latent_map", "tsne_available"]

logger = logging.getLogger(__name__)

MapMethod = Literal["auto", "tsne", "pca"]
MAP_METHODS: tuple[str, ...] = ("auto", "tsne", "pca")
#: below this many codes ``"auto"`` uses PCA: t-SNE's neighbourhoods (perplexity up to 30) need
#: a few times that many points to show anything PCA does not
MIN_TSNE_POINTS = 50
#: the install hint named when openTSNE is missing
INSTALL_HINT = "pip install 'latentkit[maps]'"


@dataclasses.dataclass(frozen=True)
class LatentMap:
    """A 2-D map of ``N`` codes of ``dim`` dimensions.

    Attributes
    ----------
    points : ndarray of shape (N, 2)
        Map coordinates of each code, in input order.
    method : str
        ``"latent coordinates"``, ``"PCA"`` or ``"t-SNE"``.
    dim : int
        Dimensions of the codes.
    note : str or None
        Why ``"auto"`` fell back to PCA (openTSNE missing, too few points), else None.
    mean, components : ndarray of shape (D,) and (2, D), or None
        For linear maps (PCA, the identity): ``points = (codes - mean) @ components.T``.
    explained : float or None
        Fraction of the variance the PCA plane holds.
    """

    points: np.ndarray
    method: str
    dim: int
    note: str | None = None
    mean: np.ndarray | None = None
    components: np.ndarray | None = None
    explained: float | None = None

    @property
    def linear(self) -> bool:
        return self.components is not None

    @property
    def axis_labels(self) -> tuple[str, str]:
        if self.method == "latent coordinates":
            return ("z[0]", "z[1]")
        return (f"{self.method} 1", f"{self.method} 2")

    @property
    def title(self) -> str:
        """E.g. ``"t-SNE of 5-D codes"`` or ``"PCA of 5-D codes (openTSNE is not installed)"``."""
        if self.method == "latent coordinates":
            return f"{self.dim}-D codes"
        text = f"{self.method} of {self.dim}-D codes"
        if self.explained is not None:
            text += f", {self.explained:.0%} of the variance"
        return text + (f" ({self.note})" if self.note else "")


def tsne_available() -> bool:
    """Whether openTSNE (the ``maps`` extra) can be imported."""
    return importlib.util.find_spec("openTSNE") is not None


def _pca(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Mean ``(D,)``, top two principal axes ``(2, D)`` with fixed signs, explained fraction."""
    mean = z.mean(0)
    centred = z - mean
    _, s, vt = np.linalg.svd(centred, full_matrices=False)  # vt: (min(N, D), D)
    axes = vt[:2] * np.sign(vt[:2, [0]] + (vt[:2, [0]] == 0))  # reproducible signs
    if axes.shape[0] < 2:  # one code (or one dimension): a zero second axis
        axes = np.vstack([axes, np.zeros((2 - axes.shape[0], z.shape[1]))])
    total = float(np.square(s).sum())
    explained = float(np.square(s[:2]).sum() / total) if total > 0 else 1.0
    return mean, axes, explained


def _perplexity(n: int) -> float:
    return float(min(30.0, max(2.0, (n - 1) / 3)))


def _opentsne(z: np.ndarray, seed: int) -> np.ndarray:
    from openTSNE import TSNE

    neighbors = "exact" if len(z) <= 5000 else "auto"
    tsne = TSNE(
        n_components=2, perplexity=_perplexity(len(z)), neighbors=neighbors,
        negative_gradient_method="bh", initialization="pca", early_exaggeration_iter=125,
        n_iter=375, n_jobs=1, random_state=seed, verbose=False,
    )  # fmt: skip
    return np.asarray(tsne.fit(z), dtype=np.float64)


def _sklearn_tsne(z: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.manifold import TSNE

    tsne = TSNE(n_components=2, perplexity=_perplexity(len(z)), init="pca", random_state=seed)
    return np.asarray(tsne.fit_transform(z), dtype=np.float64)


def latent_map(codes: np.ndarray, method: MapMethod = "auto", *, seed: int = 0) -> LatentMap:
    """Map codes ``(N, D)`` to the plane: as they are for ``D <= 2``, else by ``method``.

    Parameters
    ----------
    codes : ndarray of shape (N, D)
        Finite codes (posterior means), ``N >= 1``, ``D >= 1``. One-dimensional codes are
        drawn at ``(z, 0)``.
    method : {"auto", "tsne", "pca"}
        See the module docstring. ``"auto"`` is t-SNE when openTSNE is installed and
        ``N >= MIN_TSNE_POINTS``, else PCA with the reason in ``note``.
    seed : int
        Seed of t-SNE (PCA is deterministic).

    Raises
    ------
    ValueError
        For an unknown method, codes that are not 2-D, empty or not finite.
    """
    if method not in MAP_METHODS:
        raise ValueError(f"method must be one of {list(MAP_METHODS)}, got {method!r}.")
    z = np.asarray(codes, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] < 1:
        raise ValueError(f"codes must have shape (N, D) with N >= 1 and D >= 1, got {z.shape}.")
    if not np.isfinite(z).all():
        raise ValueError("codes contain NaN or infinite values.")
    n, d = z.shape
    if d <= 2:
        components = np.eye(2, d)
        points = z @ components.T
        return LatentMap(points, "latent coordinates", d, None, np.zeros(d), components)
    note = None
    if method == "auto":
        if not tsne_available():
            note = f"openTSNE is not installed: {INSTALL_HINT} for t-SNE"
        elif n < MIN_TSNE_POINTS:
            note = f"{n} points: t-SNE needs {MIN_TSNE_POINTS}"
        method = "pca" if note else "tsne"
    if method == "tsne" and n >= 4:
        if tsne_available():
            points = _opentsne(z, seed)
        else:
            logger.info("openTSNE is not installed (%s); using scikit-learn's t-SNE", INSTALL_HINT)
            points = _sklearn_tsne(z, seed)
        return LatentMap(points, "t-SNE", d)
    if method == "tsne":
        note = f"{n} points: too few for t-SNE"
    mean, components, explained = _pca(z)
    points = (z - mean) @ components.T
    return LatentMap(points, "PCA", d, note, mean, components, explained)
