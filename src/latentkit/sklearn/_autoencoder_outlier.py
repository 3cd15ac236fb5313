"""``AutoencoderOutlierDetector``: an ensemble of small autoencoders that scores rows by the
distance of their codes to the nearest codes of the training rows (or by their reconstruction
error).

Why these defaults (they are the same for every table; none is chosen per dataset):

- **Robust scaling.** Columns are centred on their median and divided by their interquartile
  range (the standard deviation where the IQR is 0, 1 where both are), so that the outliers in
  the training rows do not set the scale of the features they are extreme in.
- **An ensemble over seeds and rows** (as in RandNet, Chen et al. 2017, "Outlier detection with
  autoencoder ensembles"): ``n_estimators`` autoencoders, each trained on its own random
  ``max_samples`` share of the rows, the rest of them held out for early stopping on the
  reconstruction error. Averaging the members removes most of the seed-to-seed variance of a
  single small network.
- **Sizes from the table.** The hidden width is ``clip(2 d, 16, 128)`` and the code size
  ``clip(ceil(d / 2), 2, 16)`` for ``d`` features: undercomplete on every table, so that a
  member cannot learn the identity.
- **Training length in steps.** Each member takes at most ``max_steps`` optimisation steps and
  stops early when its held-out reconstruction error has not improved for
  ``patience`` epochs (an epoch is at least 10 steps: small tables repeat their rows); the
  weights of the best epoch are kept.
- **The score: distances between codes.** A row's anomaly score is the mean distance of its
  code to its ``n_neighbors`` = 20 nearest codes of the training rows (Ramaswamy et al. 2000's
  k-NN score, computed in each member's code space), robustly standardised on the training rows
  (median and IQR) and averaged over the members. It finds rows that sit away from every
  cluster of normal rows even when a member reconstructs them well (local and clustered
  anomalies, where k-NN beats reconstruction scores by a wide margin), and, through the code,
  rows the members map far from the others. ``method="reconstruction"`` scores the squared
  reconstruction error instead (rows that break the correlations between features) and
  ``method="combined"`` the mean of the two standardised scores.

How they were chosen: on the 26 tasks of ``benchmarks/anomaly_tabular.py`` with validation seeds
100 and 101, which the reported table (seeds 0-4) does not use, the mean AUROC over the nine
datasets was 0.805 for the neighbour score with k = 10, 0.813 with k = 20 and 0.789 with
k = 5; 0.670 for the reconstruction error, 0.786 for the combined score and 0.801 with the
reconstruction weighted by one half; against 0.801 for k-NN on the inputs (PyOD's KNN) and 0.789
for IsolationForest on the same tasks. The reconstruction error helped only on iris and titanic.
A larger k also resists masking by a cluster of anomalies (a rare class), which smaller k
lets its members hide in. The results with the reported seeds are in ``benchmarks/RESULTS.md``
("Tabular anomaly detection").
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from latentkit._seeding import build_seeded
from latentkit.apps.oneclass import knn_distance, robust_location_scale, robust_z
from latentkit.data.dataset import Dataset
from latentkit.models.autoencoder import Autoencoder, AutoencoderConfig
from latentkit.nn import NetworkConfig
from latentkit.sklearn._base import (
    ThresholdedOutlierMixin,
    _check_contamination,
    _check_device,
    _check_int,
    _check_real,
    codes,
    squared_errors,
)
from latentkit.training.config import TrainConfig
from latentkit.training.trainer import Trainer

__all__ = ["AutoencoderOutlierDetector", "robust_location_scale"]

SCORES = ("neighbors", "reconstruction", "combined")
_EPOCH_STEPS = 10  # optimisation steps per epoch at least


class AutoencoderOutlierDetector(ThresholdedOutlierMixin, BaseEstimator):
    """Flag rows that an ensemble of autoencoders reconstructs badly or places far from the
    codes of the other rows. The defaults are meant to be used as they are (see the module
    docstring for the reasons and ``benchmarks/RESULTS.md`` for the evidence).

    Parameters
    ----------
    contamination : float in (0, 0.5], default=0.1
        Expected fraction of outliers: sets ``offset_`` so that this fraction of the training
        rows is predicted -1. It does not change the scores.
    n_estimators : int, default=5
        Autoencoders in the ensemble.
    max_samples : float in (0, 1], default=0.8
        Share of the rows each member trains on; the others are its early-stopping rows
        (with ``max_samples=1`` a member trains on every row and stops after ``max_steps``).
    n_neighbors : int, default=20
        Nearest training codes whose mean distance is the neighbour score (capped at the
        number of training rows).
    method : {"neighbors", "reconstruction", "combined"}, default="neighbors"
        The anomaly score: the distance to the nearest training codes, the squared
        reconstruction error, or the mean of the two (each robustly standardised).
    hidden : int or None, default=None
        Width of the single hidden layer; ``None``: ``clip(2 d, 16, 128)``.
    latent_dim : int or None, default=None
        Code size; ``None``: ``clip(ceil(d / 2), 2, 16)``.
    max_steps : int, default=600
        Optimisation steps per member at most.
    patience : int, default=5
        Epochs without improvement of the held-out error before a member stops.
    batch_size : int, default=128
        Rows per step.
    lr : float, default=3e-3
        Adam learning rate.
    random_state : int, RandomState instance or None, default=None
        Seeds the row splits, the weights and the shuffling of every member.
    device : {"cpu", "cuda", "mps", "auto"}, default="cpu"
        Where to train; scoring runs on the CPU in float64.

    Attributes
    ----------
    estimators_ : list of latentkit.Autoencoder
        The trained members (CPU, float64, eval mode).
    location_, scale_ : ndarray of shape (n_features_in_,)
        Column medians and spreads used to scale the rows.
    train_codes_ : list of ndarray of shape (n_samples, latent_dim_)
        Each member's codes of the training rows (the reference of the local score).
    reference_scores_ : list of tuple of ndarray
        Each member's training reconstruction errors and k-NN distances (the references of
        the robust standardisation).
    hidden_, latent_dim_ : int
        The sizes used.
    offset_ : float
        ``decision_function = score_samples - offset_``.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(300, 6))
    >>> detector = AutoencoderOutlierDetector(random_state=0).fit(X)
    >>> detector.predict(X).shape
    (300,)
    """

    def __init__(
        self,
        contamination: float = 0.1,
        n_estimators: int = 5,
        max_samples: float = 0.8,
        n_neighbors: int = 20,
        method: str = "neighbors",
        hidden: int | None = None,
        latent_dim: int | None = None,
        max_steps: int = 600,
        patience: int = 5,
        batch_size: int = 128,
        lr: float = 3e-3,
        random_state: Any = None,
        device: str = "cpu",
    ) -> None:
        self.contamination = contamination
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.n_neighbors = n_neighbors
        self.method = method
        self.hidden = hidden
        self.latent_dim = latent_dim
        self.max_steps = max_steps
        self.patience = patience
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state
        self.device = device

    # -- checks ----------------------------------------------------------------------------
    def _check_params(self) -> None:
        owner = type(self).__name__
        _check_contamination(owner, self.contamination)
        m = self.max_samples
        if isinstance(m, bool) or not isinstance(m, Real) or not 0 < m <= 1:
            raise ValueError(f"{owner}: max_samples must be a fraction in (0, 1], got {m!r}.")
        if self.method not in SCORES:
            raise ValueError(
                f"{owner}: method must be one of {', '.join(SCORES)}, got {self.method!r}."
            )
        for name, low in (("n_estimators", 1), ("n_neighbors", 1), ("max_steps", 1),
                          ("patience", 1), ("batch_size", 1)):  # fmt: skip
            _check_int(owner, name, getattr(self, name), low)
        for name in ("hidden", "latent_dim"):
            if getattr(self, name) is not None:
                _check_int(owner, name, getattr(self, name), 1)
        _check_real(owner, "lr", self.lr, positive=True)
        _check_device(owner, self.device)

    def _validate(self, X: Any, *, reset: bool) -> np.ndarray:
        """``X`` as a float64 array of shape (n_samples, n_features), checked and recorded."""
        return validate_data(self, X, reset=reset, dtype=np.float64)

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> AutoencoderOutlierDetector:
        """Train the ensemble on ``X`` and set ``offset_`` from the training scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, possibly with a fraction ``contamination`` of outliers.
        y : None
            Ignored.

        Returns
        -------
        self : AutoencoderOutlierDetector
            The fitted detector.
        """
        self._check_params()
        X = self._validate(X, reset=True)
        n, d = X.shape
        self.location_, self.scale_ = robust_location_scale(X)
        x = (X - self.location_) / self.scale_  # (n, d)
        self.hidden_ = int(self.hidden) if self.hidden is not None else int(np.clip(2 * d, 16, 128))
        self.latent_dim_ = (
            int(self.latent_dim) if self.latent_dim is not None
            else int(np.clip(math.ceil(d / 2), 2, 16))
        )  # fmt: skip
        rng = check_random_state(self.random_state)
        self.estimators_, self.train_codes_, self.reference_scores_ = [], [], []
        for _ in range(int(self.n_estimators)):
            seed = int(rng.randint(0, 2**31 - 1))
            order = rng.permutation(n)
            n_train = max(2, min(n, round(float(self.max_samples) * n)))
            model = self._fit_member(x[order[:n_train]], x[order[n_train:]], seed)
            x64 = torch.from_numpy(x)
            train_codes = codes(model, x64).numpy()
            errors = squared_errors(model, x64).numpy()
            distances = knn_distance(
                train_codes, train_codes, int(self.n_neighbors), leave_self_out=True
            )
            self.estimators_.append(model)
            self.train_codes_.append(train_codes)
            self.reference_scores_.append((errors, distances))
        self.offset_ = float(np.percentile(self._scores(X), 100.0 * self.contamination))
        return self

    def _fit_member(self, train: np.ndarray, held_out: np.ndarray, seed: int) -> Autoencoder:
        config = AutoencoderConfig(
            input_shape=(train.shape[1],),
            latent_dim=self.latent_dim_,
            network=NetworkConfig(hidden=(self.hidden_,)),
            reconstruction="mse",
        )
        model = build_seeded(lambda: Autoencoder(config), seed)
        # an epoch is at least _EPOCH_STEPS steps (small tables repeat their rows), so that the
        # per-epoch work of the trainer and the early-stopping check are not paid every step
        repeats = math.ceil(_EPOCH_STEPS * int(self.batch_size) / len(train))
        train = np.tile(train, (repeats, 1))
        steps_per_epoch = math.ceil(len(train) / int(self.batch_size))
        val = Dataset(torch.from_numpy(held_out.astype(np.float32)), None, "held out")
        has_val = len(held_out) > 0
        train_config = TrainConfig(
            epochs=max(1, math.ceil(int(self.max_steps) / steps_per_epoch)),
            batch_size=int(self.batch_size),
            lr=float(self.lr),
            seed=seed,
            device=self.device,
            progress=False,
            early_stopping_patience=int(self.patience) if has_val else None,
        )
        data = Dataset(torch.from_numpy(train.astype(np.float32)), None, type(self).__name__)
        Trainer(train_config).fit(model, data, val if has_val else None)
        return model.cpu().double().eval()

    # -- scoring ---------------------------------------------------------------------------
    def _scores(self, X: np.ndarray) -> np.ndarray:
        """Normality (higher = more normal) of the validated rows ``X``, shape (n,)."""
        x = torch.from_numpy((X - self.location_) / self.scale_)
        total = np.zeros(len(X))
        for model, train_codes, (ref_errors, ref_distances) in zip(
            self.estimators_, self.train_codes_, self.reference_scores_, strict=True
        ):
            parts = []
            if self.method != "neighbors":
                parts.append(robust_z(squared_errors(model, x).numpy(), ref_errors))
            if self.method != "reconstruction":
                distances = knn_distance(codes(model, x).numpy(), train_codes,
                                          int(self.n_neighbors))  # fmt: skip
                parts.append(robust_z(distances, ref_distances))
            total += np.mean(parts, axis=0)
        return -total / len(self.estimators_)

    def score_samples(self, X: Any) -> np.ndarray:
        """Normality of each row (higher = more normal), as in scikit-learn's
        ``IsolationForest``: minus the ensemble's mean standardised anomaly score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "estimators_")
        return self._scores(self._validate(X, reset=False))
