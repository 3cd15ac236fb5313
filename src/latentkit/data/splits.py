"""Fixed stratified train/test splits for named datasets without an official one."""

from __future__ import annotations

import numpy as np

__all__ = ["stratified_test_rows"]


def stratified_test_rows(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of shape (N,): ``round(fraction * n_c)`` random rows of each class c.

    Rows of each class (in their given order) are permuted by
    ``numpy.random.default_rng(seed)``, drawn class by class in sorted label order, so the
    split is the same on every machine.

    Parameters
    ----------
    labels : ndarray of shape (N,)
        Integer class of each row.
    fraction : float
        Share of each class marked True, in (0, 1).
    seed : int
        Seed of the draw.
    """
    rng = np.random.default_rng(seed)
    test = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):  # a loop over classes, not samples
        rows = np.flatnonzero(labels == label)
        test[rng.permutation(rows)[: round(fraction * len(rows))]] = True
    return test
