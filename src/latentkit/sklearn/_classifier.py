"""``SemiSupervisedVAEClassifier``: the M2 model as a scikit-learn classifier.

M2 (Kingma et al. 2014, "Semi-supervised learning with deep generative models") learns from
labelled and unlabelled rows together; unlabelled rows carry the label ``-1``, as for
scikit-learn's ``LabelSpreading`` and ``SelfTrainingClassifier``. With few labels the labelled
rows are repeated until they make up ``labelled_fraction`` of the training rows
(:func:`latentkit.apps.semisup.oversample_labelled`).
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from latentkit.apps.semisup import oversample_labelled
from latentkit.models.semi_supervised import SemiSupervisedVAE, SemiSupervisedVAEConfig
from latentkit.nn import NetworkConfig
from latentkit.sklearn._base import _ROWS, LatentEstimatorBase, _check_real, is_mixed_frame

__all__ = ["SemiSupervisedVAEClassifier"]


def unlabelled_mask(y: np.ndarray) -> np.ndarray:
    """True where ``y`` is -1 (or the string ``"-1"`` in label arrays of strings)."""
    if y.dtype.kind in "iuf":
        return y == -1
    return np.array([str(v) == "-1" for v in y], dtype=bool)


class SemiSupervisedVAEClassifier(ClassifierMixin, LatentEstimatorBase):
    """Classify with few labels: the semi-supervised VAE M2 trained on every row.

    Parameters
    ----------
    latent_dim : int, default=8
        Size of the style code z.
    hidden : tuple of int, default=(64, 32)
        Widths of the hidden layers of encoder, classifier and (mirrored) decoder.
    alpha : float, default=50.0
        Weight of the classification loss ``-log q(y | x)`` of each labelled row.
    labelled_fraction : float in (0, 1), default=0.1
        With few labels, labelled rows are repeated until they are this fraction of the rows.
    epochs : int or None, default=None
        Passes over the (oversampled) data. ``None``: ``ceil(800 / batches_per_epoch)``
        clipped to [10, 500].
    batch_size : int, default=128
        Rows per optimisation step.
    lr : float, default=3e-3
        Adam learning rate.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the training noise.
    device : {"cpu", "cuda", "mps", "auto"}, default="cpu"
        Where to train. Prediction always runs on the CPU in float64.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The label values seen among labelled rows, sorted; ``predict`` returns these.
    model_ : latentkit.SemiSupervisedVAE
        The trained model (CPU, float64, eval mode); its labels are indices into ``classes_``.
    scaler_ : latentkit.data.transforms.Standardizer
        Feature means and standard deviations of the training data.
    n_epochs_ : int
        Epochs actually trained.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during :meth:`fit`, when ``X`` has string column names.
    """

    def __init__(
        self,
        latent_dim: int = 8,
        hidden: tuple[int, ...] = (64, 32),
        alpha: float = 50.0,
        labelled_fraction: float = 0.1,
        epochs: int | None = None,
        batch_size: int = 128,
        lr: float = 3e-3,
        random_state: Any = None,
        device: str = "cpu",
    ) -> None:
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.alpha = alpha
        self.labelled_fraction = labelled_fraction
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state
        self.device = device

    def fit(self, X: Any, y: Any) -> SemiSupervisedVAEClassifier:
        """Train M2 on every row of ``X``; rows with ``y == -1`` are unlabelled.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,)
            Labels of any type; ``-1`` marks an unlabelled row.

        Returns
        -------
        self : SemiSupervisedVAEClassifier
            The fitted classifier.
        """
        self._check_common_params()
        _check_real(type(self).__name__, "alpha", self.alpha, positive=False)
        f = self.labelled_fraction
        if isinstance(f, bool) or not isinstance(f, Real) or not 0 < f < 1:
            raise ValueError(
                f"SemiSupervisedVAEClassifier: labelled_fraction must be in (0, 1), got {f!r}."
            )
        if is_mixed_frame(X):
            raise ValueError(
                "SemiSupervisedVAEClassifier takes numbers only, got a DataFrame with text, "
                "category or boolean columns; encode them (e.g. one-hot) first, or use "
                "MixedTableVAE for the codes of a mixed table."
            )
        X, y = validate_data(self, X, y, dtype=np.float64)
        unlabelled = unlabelled_mask(y)
        check_classification_targets(y[~unlabelled])
        self.classes_ = np.unique(y[~unlabelled])
        if len(self.classes_) < 2:
            raise ValueError(
                "SemiSupervisedVAEClassifier needs labelled rows of at least 2 classes, got "
                f"{len(self.classes_)} class(es) {self.classes_.tolist()}; label some rows of "
                "each class (-1 marks an unlabelled row)."
            )
        codes = np.full(len(y), -1, dtype=np.int64)
        codes[~unlabelled] = np.searchsorted(self.classes_, y[~unlabelled])
        xs, ys = oversample_labelled(
            torch.from_numpy(np.array(X, dtype=np.float32)), torch.from_numpy(codes), f
        )
        config = SemiSupervisedVAEConfig(
            input_shape=(X.shape[1],),
            latent_dim=int(self.latent_dim),
            num_classes=len(self.classes_),
            network=NetworkConfig(hidden=tuple(int(h) for h in self.hidden)),
            likelihood="gaussian",
            alpha=float(self.alpha),
        )
        self.model_ = self._fit_model(
            lambda: SemiSupervisedVAE(config), xs.numpy(), ys.numpy(), scale_on=X
        )
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities q(y | x).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to one.
        """
        self._check_fitted()
        x = self._scaled(self._validate(X, reset=False))
        with torch.inference_mode():
            logits = [self.model_.class_logits(x[i : i + _ROWS]) for i in range(0, len(x), _ROWS)]
            return torch.softmax(torch.cat(logits), dim=1).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Values from ``classes_``.
        """
        self._check_fitted()
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
