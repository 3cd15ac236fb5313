"""scikit-learn estimators built on latentkit models.

- :class:`AutoencoderTransformer`: a VAE or autoencoder as a transformer (codes, decoding,
  ELBO or reconstruction score).
- :class:`OutlierDetector` (= :class:`AutoencoderOutlierDetector`): the default outlier
  detector, an ensemble of small autoencoders scoring reconstruction error and the distance to
  the nearest training codes (the ``IsolationForest`` interface).
- :class:`VAEOutlierDetector`: outlier detection from a VAE's ELBO, likelihood,
  reconstruction error or latent distance (the ``IsolationForest`` interface).
- :class:`MixedTableVAE`: a heterogeneous-likelihood VAE on a pandas DataFrame (text,
  category and number columns, missing values): codes, ELBO scores, synthetic rows, imputation.
- :class:`SemiSupervisedVAEClassifier`: the M2 semi-supervised classifier (``-1`` marks an
  unlabelled row).

Each follows the scikit-learn estimator contract (``__init__`` stores parameters, learned
state ends in ``_``) and works with ``clone``, ``Pipeline`` and ``GridSearchCV``. Features are
standardised inside the estimator; training uses :class:`latentkit.Trainer` on the CPU by
default; outputs are deterministic (see :mod:`latentkit.sklearn._base`).
"""

from __future__ import annotations

from latentkit.sklearn._autoencoder_outlier import AutoencoderOutlierDetector
from latentkit.sklearn._classifier import SemiSupervisedVAEClassifier
from latentkit.sklearn._outlier import VAEOutlierDetector
from latentkit.sklearn._tables import MixedTableVAE
from latentkit.sklearn._transformer import AutoencoderTransformer

#: the name users reach for: the detector whose defaults the tabular benchmark supports
OutlierDetector = AutoencoderOutlierDetector

__all__ = [
    "AutoencoderOutlierDetector",
    "AutoencoderTransformer",
    "MixedTableVAE",
    "OutlierDetector",
    "SemiSupervisedVAEClassifier",
    "VAEOutlierDetector",
]
