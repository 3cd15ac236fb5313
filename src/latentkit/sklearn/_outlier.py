"""``VAEOutlierDetector``: unsupervised outlier detection with a VAE, scikit-learn style.

A VAE (Kingma and Welling 2014) is trained on the standardised training rows; a row is the
more abnormal the worse the model explains it (An and Cho 2015, "Variational autoencoder based
anomaly detection using reconstruction probability"). As for scikit-learn's
``IsolationForest``, :meth:`~VAEOutlierDetector.score_samples` is higher for normal rows and
``offset_`` is the ``contamination`` quantile of the training scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from latentkit.apps.anomaly import METHODS, LatentGaussian
from latentkit.models.vae import VAE, VAEConfig
from latentkit.nn import NetworkConfig
from latentkit.sklearn._base import (
    LatentEstimatorBase,
    ThresholdedOutlierMixin,
    _check_contamination,
    _check_int,
    _check_real,
    codes,
    elbo_terms,
    squared_errors,
)

__all__ = ["VAEOutlierDetector"]


class VAEOutlierDetector(ThresholdedOutlierMixin, LatentEstimatorBase):
    """Flag rows that a VAE trained on the data explains poorly.

    Parameters
    ----------
    contamination : float in (0, 0.5], default=0.1
        Expected fraction of outliers in the training data: sets ``offset_`` so that this
        fraction of the training rows is predicted -1.
    latent_dim : int, default=4
        Size of the VAE's code.
    hidden : tuple of int, default=(32,)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    epochs : int or None, default=None
        Passes over the data. ``None``: ``ceil(250 / batches_per_epoch)`` clipped to [10, 50]
        (a short fit: a model that fits every training row also fits the outliers among them).
    batch_size : int, default=128
        Rows per optimisation step.
    lr : float, default=3e-3
        Adam learning rate.
    beta : float, default=1.0
        Weight of the KL term.
    method : {"elbo", "reconstruction", "nll", "latent_distance"}, default="elbo"
        The anomaly score whose negative is :meth:`score_samples`: the negative ELBO (16
        fixed posterior draws), the squared reconstruction error of the posterior mean, the
        importance-sampled negative log-likelihood (``mc_samples`` draws), or the Mahalanobis
        distance of the code to a Gaussian fitted on the training codes.
    mc_samples : int, default=64
        Posterior draws of the ``"nll"`` estimate (shared by every row: deterministic).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the training noise.
    device : {"cpu", "cuda", "mps", "auto"}, default="cpu"
        Where to train. Scoring always runs on the CPU in float64.

    Attributes
    ----------
    model_ : latentkit.VAE
        The trained model (CPU, float64, eval mode).
    scaler_ : latentkit.data.transforms.Standardizer
        Feature means and standard deviations of the training data.
    offset_ : float
        ``decision_function = score_samples - offset_``; the ``contamination`` quantile of the
        training scores.
    reference_ : latentkit.apps.anomaly.LatentGaussian or None
        Gaussian of the training codes (``method="latent_distance"`` only).
    n_epochs_ : int
        Epochs actually trained.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during :meth:`fit`, when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(200, 5))
    >>> detector = VAEOutlierDetector(contamination=0.05, random_state=0).fit(X)
    >>> labels = detector.predict(X)  # +1 inlier, -1 outlier
    """

    _auto_steps = 250
    _auto_epochs = (10, 50)

    def __init__(
        self,
        contamination: float = 0.1,
        latent_dim: int = 4,
        hidden: tuple[int, ...] = (32,),
        epochs: int | None = None,
        batch_size: int = 128,
        lr: float = 3e-3,
        beta: float = 1.0,
        method: str = "elbo",
        mc_samples: int = 64,
        random_state: Any = None,
        device: str = "cpu",
    ) -> None:
        self.contamination = contamination
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.beta = beta
        self.method = method
        self.mc_samples = mc_samples
        self.random_state = random_state
        self.device = device

    def _check_params(self) -> None:
        self._check_common_params()
        _check_contamination("VAEOutlierDetector", self.contamination)
        if self.method not in METHODS:
            raise ValueError(
                f"VAEOutlierDetector: method must be one of {', '.join(METHODS)}, "
                f"got {self.method!r}."
            )
        _check_real("VAEOutlierDetector", "beta", self.beta, positive=False)
        _check_int("VAEOutlierDetector", "mc_samples", self.mc_samples, 1)

    def fit(self, X: Any, y: Any = None) -> VAEOutlierDetector:
        """Train the VAE on ``X`` and set ``offset_`` from the training scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, possibly with a fraction ``contamination`` of outliers.
        y : None
            Ignored.

        Returns
        -------
        self : VAEOutlierDetector
            The fitted detector.
        """
        self._check_params()
        X = self._validate(X, reset=True)
        config = VAEConfig(
            input_shape=(X.shape[1],),
            latent_dim=int(self.latent_dim),
            network=NetworkConfig(hidden=tuple(int(h) for h in self.hidden)),
            likelihood="gaussian",
            beta=float(self.beta),
        )
        self.model_ = self._fit_model(lambda: VAE(config), X)
        self.reference_ = None
        if self.method == "latent_distance":
            self.reference_ = LatentGaussian.fit(codes(self.model_, self._scaled(X)))
        scores = self._scores(X)
        self.offset_ = float(np.percentile(scores, 100.0 * self.contamination))
        return self

    def _scores(self, X: np.ndarray) -> np.ndarray:
        x = self._scaled(X)
        if self.method == "elbo":
            return elbo_terms(self.model_, x, 16).numpy()
        if self.method == "nll":
            return elbo_terms(self.model_, x, int(self.mc_samples), iwae=True).numpy()
        if self.method == "reconstruction":
            return -squared_errors(self.model_, x).numpy()
        return -self.reference_.distance(codes(self.model_, x)).double().numpy()

    def score_samples(self, X: Any) -> np.ndarray:
        """Normality of each row: the negative anomaly score of ``method`` (higher = more
        normal), as in scikit-learn's ``IsolationForest``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ELBO or IWAE log-likelihood estimate (nats, standardised features), negative
            squared reconstruction error, or negative Mahalanobis distance.
        """
        self._check_fitted()
        return self._scores(self._validate(X, reset=False))
