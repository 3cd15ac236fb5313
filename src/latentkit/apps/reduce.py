"""Dimensionality reduction and feature extraction: codes from ``encode``, judged next to
PCA at the same dimension by the kNN accuracy of the codes (how well they separate classes)
and their trustworthiness (how well they keep each point's neighbours; Venna and Kaski 2001).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import Tensor

from latentkit.data.dataset import Dataset
from latentkit.evaluation.diagnostics import posterior_means
from latentkit.evaluation.metrics import knn_accuracy, trustworthiness
from latentkit.models.base import AbstractModel

__all__ = ["compare_with_pca", "reduce"]


def reduce(model: AbstractModel, x: Tensor, *, batch_size: int = 512) -> Tensor:
    """Deterministic codes ``(N, latent_dim)`` (posterior means for a VAE), on the CPU."""
    return posterior_means(model, x, batch_size=batch_size)


def compare_with_pca(
    model: AbstractModel,
    train: Dataset,
    test: Dataset,
    *,
    k: int = 5,
    max_points: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """kNN accuracy and trustworthiness of the model's codes and of PCA at the same dimension.

    PCA and the kNN classifier are fitted on ``train``; accuracy and trustworthiness are
    measured on ``test`` (trustworthiness on at most ``max_points`` seeded test points).
    """
    from sklearn.decomposition import PCA

    if train.y is None or test.y is None:
        raise ValueError("compare_with_pca needs labelled train and test data (y is None).")
    dim = model.latent_dim
    train_flat = train.x.flatten(1).numpy()
    test_flat = test.x.flatten(1).numpy()
    pca = PCA(n_components=dim, random_state=seed).fit(train_flat)
    codes = {
        "model": (reduce(model, train.x).numpy(), reduce(model, test.x).numpy()),
        "pca": (pca.transform(train_flat), pca.transform(test_flat)),
    }
    rng = np.random.default_rng(seed)
    subset = rng.choice(len(test_flat), size=min(max_points, len(test_flat)), replace=False)
    out: dict[str, Any] = {"latent_dim": dim, "k": k}
    for name, (tr, te) in codes.items():
        out[f"{name}_knn_accuracy"] = knn_accuracy(tr, train.y.numpy(), te, test.y.numpy(), k=k)
        out[f"{name}_trustworthiness"] = trustworthiness(test_flat[subset], te[subset], k=k)
    return out
