"""Fréchet ChemNet distance (Preuer et al. 2018, "Fréchet ChemNet Distance: a metric for
generative models for molecules in drug discovery"), as MOSES reports it ("FCD/Test").

The activations of ChemNet's penultimate layer (512 values per molecule) come from the ``fcd``
package (PyPI ``fcd`` 1.2.2, github.com/bioinf-jku/FCD, by the metric's authors; in the
``bench`` extra): its ChemNet v0.13 weights ship inside the wheel, so nothing is downloaded.
The distance between the two sets' Gaussians, ``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))``,
is computed here (:func:`frechet_distance`) so that it can be checked against a closed form.

As MOSES does (``moses.metrics.get_all_metrics``: invalid samples removed, canonical SMILES;
its ``fcd_torch`` canonicalises again), both sets are RDKit-canonical valid molecules; the
reference statistics of the MOSES test set are computed once per process
(:func:`reference_statistics`: about 10 minutes for its 176,074 molecules on one CPU thread).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import linalg

from latentkit.apps.molecules import canonical
from latentkit.data.sequences import read_strings

__all__ = ["chemnet_statistics", "fcd", "frechet_distance", "reference_statistics"]

Statistics = tuple[np.ndarray, np.ndarray]  # mean (512,), covariance (512, 512)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray):
    """Squared Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2) (a float >= 0).

    ``sqrtm(sigma1 @ sigma2)``'s trace is the sum of the square roots of the eigenvalues of
    ``sigma1 @ sigma2`` (real and >= 0 for covariances; tiny negative or imaginary parts from
    rounding are dropped)."""
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(
            f"expected matching shapes, got means {mu1.shape} and {mu2.shape}, covariances "
            f"{sigma1.shape} and {sigma2.shape}."
        )
    eigenvalues = linalg.eigvals(sigma1 @ sigma2.astype(np.float64))
    tr_covmean = np.sqrt(np.clip(eigenvalues.real, 0, None)).sum()
    diff = mu1 - mu2
    return max(0.0, float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean))


@functools.cache
def _chemnet():
    import fcd  # the bench extra: pip install 'latentkit[bench]'
    import fcd.utils

    return fcd


def chemnet_statistics(smiles: Sequence[str], batch_size: int = 256) -> Statistics:
    """Mean and covariance of the ChemNet activations ``(N, 512)`` of ``smiles`` (N >= 2)."""
    if len(smiles) < 2:
        raise ValueError(f"FCD needs at least 2 molecules per set, got {len(smiles)}.")
    import torch
    from torch.utils.data import DataLoader

    fcd = _chemnet()
    model = fcd.load_ref_model()
    # fcd.get_predictions' loop, without its deprecated np.row_stack: one-hot rows padded to
    # 350 tokens (the package's default), ChemNet's penultimate layer
    batches = DataLoader(fcd.utils.SmilesDataset(list(smiles)), batch_size=batch_size)
    with torch.inference_mode():
        parts = [model(batch.transpose(1, 2).float()).double().numpy() for batch in batches]
    activations = np.concatenate(parts)  # (N, 512)
    return activations.mean(0), np.cov(activations.T)


def fcd(generated: Sequence[str], reference: Statistics) -> float | None:
    """FCD of the valid molecules of ``generated`` (canonical SMILES) to ``reference``
    statistics; None when fewer than 2 are valid."""
    valid = [c for s in generated if (c := canonical(s)) is not None]
    if len(valid) < 2:
        return None
    return frechet_distance(*chemnet_statistics(valid), *reference)


@functools.cache
def reference_statistics(path: Path, limit: int | None = None) -> Statistics:
    """ChemNet statistics of the canonical SMILES of a CSV's ``smiles`` column (its first
    ``limit`` rows), computed once per process."""
    strings = read_strings(path, "smiles")[:limit]
    return chemnet_statistics([c for s in strings if (c := canonical(s)) is not None])
