"""Metrics for reconstructions, detections and embeddings.

- PSNR and SSIM (Wang et al. 2004, "Image quality assessment: from error visibility to
  structural similarity"): a Gaussian window of size 11 and sigma 1.5, K1 = 0.01, K2 = 0.03,
  computed per image and channel over the valid region, as in scikit-image's
  ``structural_similarity(..., gaussian_weights=True, use_sample_covariance=False)``.
- AUROC and average precision for anomaly scores (higher score = more anomalous).
- kNN accuracy and trustworthiness (Venna and Kaski 2001) of codes.
- Colorfulness (Hasler and Suesstrunk 2003) of RGB images.
All image metrics take tensors of shape ``(N, C, H, W)`` and return one value per image.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "auroc",
    "average_precision",
    "colorfulness",
    "knn_accuracy",
    "psnr",
    "ssim",
    "trustworthiness",
]


def _check_pair(x: Tensor, y: Tensor) -> None:
    if x.shape != y.shape:
        raise ValueError(
            f"images must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}."
        )
    if x.ndim != 4:
        raise ValueError(f"expected images of shape (N, C, H, W), got {tuple(x.shape)}.")


def psnr(x: Tensor, y: Tensor, *, data_range: float = 1.0, mask: Tensor | None = None) -> Tensor:
    """Peak signal-to-noise ratio in dB per image, shape ``(N,)``.

    With a boolean ``mask`` of the images' shape, only the masked pixels count (e.g. the
    missing pixels of an inpainting task). Identical images give ``inf``.
    """
    _check_pair(x, y)
    err = (x.double() - y.double()).square()
    if mask is None:
        mse = err.flatten(1).mean(1)
    else:
        m = mask.expand_as(err).double().flatten(1)
        count = m.sum(1)
        if (count == 0).any():
            raise ValueError("mask selects no pixel in at least one image.")
        mse = (err.flatten(1) * m).sum(1) / count
    return (10 * torch.log10(data_range**2 / mse)).float()


def _gaussian_window(size: int, sigma: float, channels: int, device, dtype) -> Tensor:
    coords = torch.arange(size, device=device, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()


def ssim(
    x: Tensor, y: Tensor, *, data_range: float = 1.0, window: int = 11, sigma: float = 1.5
) -> Tensor:
    """Mean structural similarity per image, shape ``(N,)`` (averaged over channels)."""
    _check_pair(x, y)
    _, c, h, w = x.shape
    size = min(window, h, w)
    size -= 1 - size % 2  # an odd window that fits
    x, y = x.double(), y.double()
    kernel = _gaussian_window(size, sigma, c, x.device, x.dtype)

    def blur(t: Tensor) -> Tensor:
        return F.conv2d(t, kernel, groups=c)  # valid region only: (N, C, H', W')

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    )
    return s.flatten(1).mean(1).float()


def _binary_labels(labels) -> np.ndarray:
    labels = np.asarray(labels)
    values = set(np.unique(labels).tolist())
    if not values <= {0, 1} or len(values) < 2:
        raise ValueError(
            f"labels must contain both 0 (normal) and 1 (anomaly); found values {sorted(values)}."
        )
    return labels.astype(int)


def auroc(scores, labels) -> float:
    """Area under the ROC curve of ``scores`` (higher = more anomalous) against 0/1 labels."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(_binary_labels(labels), np.asarray(scores, dtype=np.float64)))


def average_precision(scores, labels) -> float:
    """Average precision of ``scores`` (higher = more anomalous) against 0/1 labels."""
    from sklearn.metrics import average_precision_score

    return float(
        average_precision_score(_binary_labels(labels), np.asarray(scores, dtype=np.float64))
    )


def knn_accuracy(train_codes, train_labels, test_codes, test_labels, *, k: int = 5) -> float:
    """Accuracy of a k-nearest-neighbour classifier fitted on the training codes."""
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(n_neighbors=k).fit(np.asarray(train_codes), np.asarray(train_labels))
    return float(clf.score(np.asarray(test_codes), np.asarray(test_labels)))


def trustworthiness(data, codes, *, k: int = 5) -> float:
    """How well the codes keep each point's ``k`` nearest neighbours (1 = perfectly)."""
    from sklearn.manifold import trustworthiness as sk_trustworthiness

    data = np.asarray(data).reshape(len(data), -1)
    return float(sk_trustworthiness(data, np.asarray(codes), n_neighbors=k))


def colorfulness(images: Tensor) -> Tensor:
    """Colorfulness metric M of Hasler and Suesstrunk (2003) per RGB image in [0, 1]: ``(N,)``.

    Computed on the 0-255 scale; gray images score 0, vivid photos roughly 50-100.
    """
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"expected RGB images of shape (N, 3, H, W), got {tuple(images.shape)}.")
    r, g, b = (images.double() * 255).unbind(1)
    rg = (r - g).flatten(1)
    yb = (0.5 * (r + g) - b).flatten(1)
    std = torch.sqrt(rg.var(1, unbiased=False) + yb.var(1, unbiased=False))
    mean = torch.sqrt(rg.mean(1) ** 2 + yb.mean(1) ** 2)
    return (std + 0.3 * mean).float()
