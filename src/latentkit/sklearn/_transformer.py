"""``AutoencoderTransformer``: a VAE or an autoencoder as a scikit-learn transformer.

The VAE is that of Kingma and Welling (2014, "Auto-Encoding Variational Bayes") with a Gaussian
likelihood of unit scale on standardised features; ``beta`` weighs the KL term (Higgins et al.
2017). The autoencoder minimises the squared error on standardised features.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_array

from latentkit.models.autoencoder import Autoencoder, AutoencoderConfig
from latentkit.models.vae import VAE, VAEConfig
from latentkit.nn import NetworkConfig
from latentkit.sklearn._base import (
    LatentEstimatorBase,
    _check_real,
    codes,
    elbo_terms,
    squared_errors,
)

__all__ = ["AutoencoderTransformer"]


def _vae(n_features: int, latent_dim: int, network: NetworkConfig, beta: float) -> VAE:
    config = VAEConfig(
        input_shape=(n_features,),
        latent_dim=latent_dim,
        network=network,
        likelihood="gaussian",
        beta=beta,
    )
    return VAE(config)


def _autoencoder(n_features: int, latent_dim: int, network: NetworkConfig, beta: float) -> Any:
    config = AutoencoderConfig(
        input_shape=(n_features,),
        latent_dim=latent_dim,
        network=network,
        reconstruction="mse",
        output_activation="none",
    )
    return Autoencoder(config)


MODELS = {"vae": _vae, "autoencoder": _autoencoder}


class AutoencoderTransformer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, LatentEstimatorBase
):
    """Reduce tables to latent codes with a VAE or an autoencoder.

    The features are standardised with statistics of the training ``X``; the model reconstructs
    the standardised features (VAE: Gaussian likelihood with unit scale; autoencoder: squared
    error). Images are accepted flattened to rows.

    Parameters
    ----------
    latent_dim : int, default=8
        Size of the code, the number of output features of :meth:`transform`.
    model : {"vae", "autoencoder"}, default="vae"
        The model trained.
    hidden : tuple of int, default=(64, 32)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    epochs : int or None, default=None
        Passes over the data. ``None``: ``ceil(800 / batches_per_epoch)`` clipped to [10, 500],
        i.e. about 800 optimisation steps on small tables and ten passes over large ones.
    batch_size : int, default=128
        Rows per optimisation step.
    lr : float, default=3e-3
        Adam learning rate.
    beta : float, default=1.0
        Weight of the KL term (VAE only; ignored by the autoencoder).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the reparameterisation noise. An integer
        makes :meth:`fit` reproducible (on the CPU).
    device : {"cpu", "cuda", "mps", "auto"}, default="cpu"
        Where to train. Inference always runs on the CPU in float64.

    Attributes
    ----------
    model_ : latentkit.VAE or latentkit.Autoencoder
        The trained model (CPU, float64, eval mode).
    scaler_ : latentkit.data.transforms.Standardizer
        Feature means and standard deviations of the training data.
    n_epochs_ : int
        Epochs actually trained.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during :meth:`fit`, when ``X`` has string column names.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> X, _ = load_digits(return_X_y=True)
    >>> codes = AutoencoderTransformer(latent_dim=4, random_state=0).fit_transform(X)
    >>> codes.shape
    (1797, 4)
    """

    def __init__(
        self,
        latent_dim: int = 8,
        model: str = "vae",
        hidden: tuple[int, ...] = (64, 32),
        epochs: int | None = None,
        batch_size: int = 128,
        lr: float = 3e-3,
        beta: float = 1.0,
        random_state: Any = None,
        device: str = "cpu",
    ) -> None:
        self.latent_dim = latent_dim
        self.model = model
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.beta = beta
        self.random_state = random_state
        self.device = device

    def fit(self, X: Any, y: Any = None) -> AutoencoderTransformer:
        """Standardise ``X`` and train the model on it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : None
            Ignored.

        Returns
        -------
        self : AutoencoderTransformer
            The fitted transformer.
        """
        self._check_common_params()
        if self.model not in MODELS:
            raise ValueError(
                f"AutoencoderTransformer: model must be one of {sorted(MODELS)}, "
                f"got {self.model!r}."
            )
        _check_real("AutoencoderTransformer", "beta", self.beta, positive=False)
        X = self._validate(X, reset=True)
        if self.schema_ is not None and self.model != "vae":
            raise ValueError(
                "AutoencoderTransformer: a DataFrame with text, category or boolean columns "
                f"trains the mixed-table VAE; use model='vae', not {self.model!r}."
            )
        network = NetworkConfig(hidden=tuple(int(h) for h in self.hidden))
        build = MODELS[self.model]
        self.model_ = self._fit_model(
            lambda: build(X.shape[1], int(self.latent_dim), network, float(self.beta)), X
        )
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Deterministic codes (posterior means for the VAE).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to encode.

        Returns
        -------
        Z : ndarray of shape (n_samples, latent_dim)
            The codes.
        """
        self._check_fitted()
        X = self._validate(X, reset=False)
        return codes(self.model_, self._scaled(X)).numpy()

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Decode codes back to rows in the original feature scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, latent_dim)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
            The decoded rows (the mean of p(x | z) for the VAE), un-standardised.
        """
        self._check_fitted()
        Z = check_array(X, dtype=np.float64)
        if Z.shape[1] != self.model_.latent_dim:
            raise ValueError(
                f"inverse_transform expects codes with {self.model_.latent_dim} columns "
                f"(latent_dim), got {Z.shape[1]}; pass the output of transform."
            )
        with torch.inference_mode():
            decoded = self.model_.decode(torch.from_numpy(Z))  # (n_samples, n_features)
            if self.schema_ is not None:  # a mixed table: a DataFrame of its columns
                return self.schema_.decode(decoded.numpy())
            return self.scaler_.inverse_transform(decoded).numpy()

    def score_samples(self, X: Any) -> np.ndarray:
        """Per-row fit of the model; higher is better.

        VAE: the ELBO, a lower bound on ``log p(x)`` in nats on the original feature scale
        (the standardisation's log-Jacobian included), from 16 fixed posterior draws.
        Autoencoder: minus the summed squared reconstruction error on standardised features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The per-row scores.
        """
        self._check_fitted()
        x = self._scaled(self._validate(X, reset=False))
        if self.schema_ is not None:  # a mixed table: the ELBO of its codes
            return elbo_terms(self.model_, x, 16).numpy()
        if isinstance(self.model_, VAE):
            log_det = torch.log(self.scaler_.std_.double()).sum()
            return (elbo_terms(self.model_, x, 16) - log_det).numpy()
        return (-squared_errors(self.model_, x)).numpy()

    def score(self, X: Any, y: Any = None) -> float:
        """Mean of :meth:`score_samples`: the mean ELBO (VAE) or the mean negative squared
        reconstruction error (autoencoder). Higher is better, as ``GridSearchCV`` expects.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self) -> int:
        return int(self.model_.latent_dim)
