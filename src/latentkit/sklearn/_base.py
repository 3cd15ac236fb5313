"""What the scikit-learn estimators share: parameters, input checks, scaling, training, scoring.

Training. Rows are standardised (:class:`~latentkit.data.transforms.Standardizer`, fitted on
the training ``X``) and the model is trained by :class:`~latentkit.training.trainer.Trainer`
with the progress bar off and the seed drawn from ``random_state``. Weight initialisation uses
that seed too (:func:`latentkit._seeding.build_seeded`: the global torch generator is left as
it was).
With ``epochs=None`` the number of epochs is ``ceil(auto_steps / batches_per_epoch)`` clipped to
``auto_epochs``: a fixed budget of optimisation steps on small tables (what the small default
networks need to fit) and the lower bound of passes over large ones. The transformer and the
classifier use 800 steps within [10, 500] epochs; the outlier detector trains less (250 steps
within [10, 50] epochs), since a model that fits every training row also fits the outliers
among them.

Mixed tables. A pandas DataFrame with a text, category or boolean column (or any DataFrame
when the estimator was fitted on such a one) goes through a
:class:`~latentkit.data.schema.TableSchema` inferred at ``fit`` (``schema_``): its rows become
the schema's codes (numbers quantile-normalised, categories as levels, gaps as NaN), and the
model is the mixed-table VAE (``tabular_vae``: one likelihood per column, gaps handled inside)
with the estimator's ``latent_dim``, ``hidden`` and ``beta``; ``scaler_`` is then None.

Inference. After training the model moves to the CPU in float64 and every row is scored on its
own (no batch statistics, Monte Carlo terms use one fixed set of standard-normal draws shared by
all rows), so outputs are deterministic and do not depend on which other rows are in ``X``.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import Tensor

from latentkit._seeding import build_seeded
from latentkit.data.dataset import Dataset
from latentkit.data.schema import TableSchema
from latentkit.data.transforms import Standardizer
from latentkit.evaluation.evaluate import batched
from latentkit.models.base import AbstractModel
from latentkit.models.registry import create_model, epochs_for_steps
from latentkit.training.config import TrainConfig
from latentkit.training.trainer import Trainer

__all__ = ["LatentEstimatorBase", "codes", "elbo_terms", "is_mixed_frame", "squared_errors"]

#: seed of the fixed standard-normal draws used for Monte Carlo scores
SCORE_SEED = 0
_ROWS = 2048  # rows per inference pass


def _check_int(owner: str, name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{owner}: {name} must be an integer >= {low}, got {value!r}.")


def _check_real(owner: str, name: str, value: Any, *, positive: bool) -> None:
    bad = isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value)
    if bad or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{owner}: {name} must be a finite number {bound}, got {value!r}.")


def is_mixed_frame(X: Any) -> bool:
    """True for a pandas DataFrame with a text, category or boolean column."""
    import sys

    pandas = sys.modules.get("pandas")  # a DataFrame means pandas is imported already
    if pandas is None or not isinstance(X, pandas.DataFrame):
        return False
    types = pandas.api.types
    return any(not types.is_numeric_dtype(kind) or types.is_bool_dtype(kind) for kind in X.dtypes)


def _check_device(owner: str, value: Any) -> None:
    if value not in ("cpu", "cuda", "mps", "auto"):
        raise ValueError(f"{owner}: device must be 'cpu', 'cuda', 'mps' or 'auto', got {value!r}.")


def _check_contamination(owner: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value <= 0.5:
        raise ValueError(
            f"{owner}: contamination must be a fraction in (0, 0.5], got {value!r}; "
            "use e.g. 0.05 for about 5% outliers."
        )


class ThresholdedOutlierMixin(OutlierMixin):
    """``decision_function`` and ``predict`` of a detector with ``score_samples`` (higher =
    more normal) and a fitted ``offset_``, as scikit-learn's ``IsolationForest`` has them."""

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers, non-negative for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """+1 for inliers, -1 for outliers (``decision_function(X) < 0``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return np.where(self.decision_function(X) < 0, -1, 1)


class LatentEstimatorBase(BaseEstimator):
    """Base of the latentkit estimators (not used directly).

    Subclasses store their parameters in ``__init__`` and call :meth:`_fit_model`.
    """

    _auto_steps = 800  # optimisation steps aimed at by epochs=None
    _auto_epochs = (10, 500)  # and the bounds on the epochs it picks

    # -- parameter checks ------------------------------------------------------------------
    def _check_common_params(self) -> None:
        owner = type(self).__name__
        _check_int(owner, "latent_dim", self.latent_dim, 1)
        hidden = self.hidden
        if not isinstance(hidden, tuple | list) or any(
            isinstance(h, bool) or not isinstance(h, Integral) or h < 1 for h in hidden
        ):
            raise ValueError(
                f"{owner}: hidden must be a tuple of layer widths >= 1 such as (64, 32), "
                f"got {hidden!r}."
            )
        if self.epochs is not None:
            _check_int(owner, "epochs", self.epochs, 1)
        _check_int(owner, "batch_size", self.batch_size, 1)
        _check_real(owner, "lr", self.lr, positive=True)
        _check_device(owner, self.device)

    # -- data ------------------------------------------------------------------------------
    def _validate(self, X: Any, *, reset: bool) -> np.ndarray:
        """``X`` as a float64 array of shape (n_samples, n_features), checked and recorded
        (a mixed DataFrame: the codes of its schema, NaN where a value is missing)."""
        if reset:
            self.schema_ = None
            if is_mixed_frame(X):
                from latentkit.sklearn._tables import as_frame

                frame = as_frame(X)
                self.schema_ = TableSchema.infer(frame)
                self.n_features_in_ = len(self.schema_)
                self.feature_names_in_ = np.asarray(self.schema_.names, dtype=object)
        if getattr(self, "schema_", None) is not None:
            from latentkit.sklearn._tables import as_frame

            codes = self.schema_.encode(as_frame(X), type(self).__name__)
            return codes.astype(np.float64)
        return validate_data(self, X, reset=reset, dtype=np.float64)

    def _scaled(self, X: np.ndarray) -> Tensor:
        """Standardised float64 tensor of shape (n_samples, n_features) (a mixed table's
        codes as they are)."""
        x = torch.from_numpy(np.array(X, dtype=np.float64))
        return x if getattr(self, "schema_", None) is not None else self.scaler_.transform(x)

    def _epochs(self, n_samples: int) -> int:
        if self.epochs is not None:
            return int(self.epochs)
        # the same rule as latentkit train's table defaults (models.registry)
        return epochs_for_steps(n_samples, int(self.batch_size), self._auto_steps,
                                self._auto_epochs)  # fmt: skip

    def _seed(self) -> int:
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    def _fit_model(
        self,
        model_factory: Any,
        X: np.ndarray,
        y: np.ndarray | None = None,
        *,
        scale_on: np.ndarray | None = None,
    ) -> AbstractModel:
        """Fit the scaler on ``scale_on`` (default ``X``), build the model with
        ``model_factory()`` and train it on ``X`` (and labels ``y``).

        Sets ``scaler_`` and ``n_epochs_``; returns the trained model on the CPU in float64.
        """
        x32 = torch.from_numpy(np.array(X, dtype=np.float32))  # a copy: X may be read-only
        schema = getattr(self, "schema_", None)
        if schema is not None:  # a mixed table's codes: the model of mixed tables
            self.scaler_, x_train = None, x32
            fields = {
                "latent_dim": int(self.latent_dim),
                "network": {"hidden": [int(h) for h in self.hidden]},
                "kinds": list(schema.kinds),
                "levels": list(schema.levels),
                "beta": float(getattr(self, "beta", 1.0)),
            }
            model_factory = lambda: create_model("tabular_vae", (len(schema),), **fields)  # noqa: E731
        else:
            ref = (
                x32 if scale_on is None else torch.from_numpy(np.array(scale_on, dtype=np.float32))
            )
            self.scaler_ = Standardizer().fit(ref)
            x_train = self.scaler_.transform(x32)
        seed = self._seed()
        model = build_seeded(model_factory, seed)
        self.n_epochs_ = self._epochs(len(X))
        config = TrainConfig(
            epochs=self.n_epochs_,
            batch_size=int(self.batch_size),
            lr=float(self.lr),
            seed=seed,
            device=self.device,
            progress=False,
        )
        labels = None if y is None else torch.as_tensor(y, dtype=torch.long)
        Trainer(config).fit(model, Dataset(x_train, labels, type(self).__name__))
        return model.cpu().double().eval()

    def _check_fitted(self) -> None:
        check_is_fitted(self, "model_")


def elbo_terms(model: AbstractModel, x: Tensor, samples: int, *, iwae: bool = False) -> Tensor:
    """Per-row ELBO (or the IWAE bound, an estimate of ``log p(x)``), shape ``(N,)``.

    The ``samples`` draws ``z = mean + std * eps`` use one fixed ``eps`` of shape
    ``(samples, 1, latent_dim)`` for every row (common random numbers): each row's estimate is
    deterministic and independent of the other rows.
    """
    g = torch.Generator().manual_seed(SCORE_SEED)
    eps = torch.randn((samples, 1, model.latent_dim), generator=g, dtype=torch.float64)

    def bound(xb: Tensor, yb: Tensor | None) -> Tensor:
        q = model.posterior(xb)
        z = q.mean + q.std * eps.to(q.mean.dtype)  # (samples, B, latent_dim)
        log_px, log_pz = model.log_joint_terms(xb, z)  # (samples, B) each
        if iwae:
            log_w = log_px + log_pz - q.log_prob(z)
            return torch.logsumexp(log_w, dim=0) - math.log(samples)
        if model.prior.analytic_kl:  # lower variance: the KL in closed form
            return log_px.mean(0) - q.kl()
        return (log_px + log_pz - q.log_prob(z)).mean(0)

    return batched(bound, x, model=model, batch_size=max(1, _ROWS // samples))


def squared_errors(model: AbstractModel, x: Tensor) -> Tensor:
    """Summed squared reconstruction error per row, shape ``(N,)`` (a model of mixed tables:
    the negative log-likelihood of the observed values at the posterior mean)."""
    if model.capabilities.tabular:
        from latentkit.apps.anomaly import feature_errors

        return feature_errors(model, x).double().sum(1)

    def errors(xb: Tensor, yb: Tensor | None) -> Tensor:
        return (model.reconstruct(xb) - xb).square().sum(1)

    return batched(errors, x, model=model, batch_size=_ROWS)


def codes(model: AbstractModel, x: Tensor) -> Tensor:
    """Deterministic codes (posterior means for VAEs), shape ``(N, latent_dim)``."""
    return batched(model.encode, x, model=model, batch_size=_ROWS)
