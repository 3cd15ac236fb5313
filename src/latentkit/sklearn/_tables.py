"""A scikit-learn style estimator for mixed tables: pandas DataFrames with text, category,
boolean and number columns, and missing values.

``MixedTableVAE().fit(frame)`` infers a :class:`~latentkit.data.schema.TableSchema` (or uses
``categorical=[...]`` / ``numeric=[...]``), trains a :class:`~latentkit.models.tabular.
TabularVAE` on the codes with the sizes :mod:`latentkit.models.registry` picks for
``latentkit train`` (code, network, batch size, about ``MIXED_TABLE_STEPS`` steps), and then encodes
(``transform``), scores (``score_samples``: the ELBO of each row's observed values), draws
synthetic rows (``sample``) and fills gaps (``impute``, MIWAE).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from latentkit._seeding import build_seeded
from latentkit.data.dataset import Dataset
from latentkit.data.schema import TableSchema
from latentkit.models.registry import (
    MIXED_TABLE_STEPS,
    create_model,
    data_defaults,
    training_defaults,
)
from latentkit.training.config import TrainConfig
from latentkit.training.trainer import Trainer

__all__ = ["MixedTableVAE", "as_frame"]


def as_frame(X: Any, names: list[str] | None = None) -> Any:
    """``X`` as a DataFrame (arrays get columns ``"0"``, ``"1"``, ... or ``names``)."""
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        frame = X.copy()
        frame.columns = [str(c) for c in frame.columns]
        return frame
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(f"expected a DataFrame or a 2-d array, got shape {array.shape}.")
    return pd.DataFrame(array, columns=names or [str(i) for i in range(array.shape[1])])


class MixedTableVAE(BaseEstimator):
    """A heterogeneous-likelihood VAE fitted on a DataFrame (see the module docstring).

    Parameters
    ----------
    latent_dim : int, optional
        Code size (default: sized by the columns, as ``latentkit train``).
    hidden : tuple of int, optional
        MLP widths (default: sized by the columns and rows).
    epochs, batch_size : int, optional
        Default: about ``MIXED_TABLE_STEPS`` (3000) steps in batches of about a tenth of the
        rows (16..128), at least 10 and at most 200 epochs.
    lr : float
    beta : float
        KL weight.
    iwae_samples : int
        Above 1: train on the importance-weighted bound with this many samples (MIWAE).
    categorical, numeric : list of str, optional
        Columns whose kind is forced.
    random_state : int, optional
    device : str

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"a": [1.0, 2.5, None, 4.0] * 10, "b": ["x", "y", "y", None] * 10})
    >>> model = MixedTableVAE(epochs=2, random_state=0).fit(frame)
    >>> model.sample(3).columns.tolist()
    ['a', 'b']
    """

    def __init__(
        self,
        latent_dim: int | None = None,
        hidden: tuple[int, ...] | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        lr: float = 1e-3,
        beta: float = 1.0,
        iwae_samples: int = 1,
        categorical: list[str] | None = None,
        numeric: list[str] | None = None,
        random_state: int | None = None,
        device: str = "cpu",
    ) -> None:
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.beta = beta
        self.iwae_samples = iwae_samples
        self.categorical = categorical
        self.numeric = numeric
        self.random_state = random_state
        self.device = device

    def _codes(self, X: Any) -> torch.Tensor:
        frame = as_frame(X, None)
        return torch.from_numpy(self.schema_.encode(frame, type(self).__name__))

    def fit(self, X: Any, y: Any = None) -> MixedTableVAE:
        """Infer the schema of ``X`` (a DataFrame) and train the model on it."""
        frame = as_frame(X)
        self.schema_ = TableSchema.infer(frame, categorical=self.categorical, numeric=self.numeric)
        self.feature_names_in_ = np.asarray(self.schema_.names, dtype=object)
        self.n_features_in_ = len(self.schema_)
        x = torch.from_numpy(self.schema_.encode(frame, type(self).__name__))
        fields = data_defaults(
            "tabular_vae",
            is_image=False,
            n_features=x.shape[1],
            n_samples=len(x),
            kinds=self.schema_.kinds,
            levels=self.schema_.levels,
        )
        if self.latent_dim is not None:
            fields["latent_dim"] = int(self.latent_dim)
        if self.hidden is not None:
            fields["network"] = {**fields["network"], "hidden": list(self.hidden)}
        fields["beta"] = float(self.beta)
        if int(self.iwae_samples) > 1:  # MIWAE's objective
            fields |= {"objective": "iwae", "iwae_samples": int(self.iwae_samples)}
        sized = training_defaults(
            is_image=False,
            n_samples=len(x),
            batch_size=self.batch_size,
            epochs=self.epochs,
            steps=MIXED_TABLE_STEPS,
        )
        seed = 0 if self.random_state is None else int(self.random_state)
        model = build_seeded(lambda: create_model("tabular_vae", (x.shape[1],), **fields), seed)
        config = TrainConfig(
            epochs=int(self.epochs or sized["epochs"]),
            batch_size=int(self.batch_size or sized["batch_size"]),
            lr=float(self.lr),
            seed=seed,
            device=self.device,
            progress=False,
        )
        self.n_epochs_ = config.epochs
        Trainer(config).fit(model, Dataset(x, None, type(self).__name__))
        self.model_ = model.cpu().eval()
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Codes (posterior means given the observed values): ``(n_samples, latent_dim)``."""
        check_is_fitted(self, "model_")
        with torch.no_grad():
            return self.model_.encode(self._codes(X)).numpy()

    def score_samples(self, X: Any, samples: int = 16) -> np.ndarray:
        """The ELBO of each row's observed values (higher: more typical), ``(n_samples,)``."""
        check_is_fitted(self, "model_")
        g = torch.Generator().manual_seed(0)
        with torch.no_grad():
            log_w = self.model_.log_importance_weights(self._codes(X), samples, generator=g)
        return log_w.mean(0).numpy()

    def sample(self, n: int, where: dict[str, str] | None = None, random_state: int = 0) -> Any:
        """``n`` synthetic rows as a DataFrame (``where``: conditions by rejection)."""
        from latentkit.apps.synthesize import synthesize

        check_is_fitted(self, "model_")
        g = torch.Generator().manual_seed(int(random_state))
        return synthesize(self.model_, self.schema_, n, where=where, generator=g)

    def impute(self, X: Any, k: int = 100, draws: int = 0, random_state: int = 0) -> Any:
        """``X`` with its gaps filled (MIWAE); a list of ``draws`` DataFrames when
        ``draws >= 1``."""
        from latentkit.apps.impute import impute

        check_is_fitted(self, "model_")
        g = torch.Generator().manual_seed(int(random_state))
        frame = as_frame(X)
        codes = torch.from_numpy(self.schema_.encode(frame, type(self).__name__))
        filled = impute(self.model_, codes, k=k, draws=draws, schema=self.schema_, generator=g)
        if draws == 0:
            return self.schema_.complete(frame, filled.numpy())
        return [self.schema_.complete(frame, f.numpy()) for f in filled]
