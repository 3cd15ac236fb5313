"""latentkit: autoencoders and variational autoencoders: train, apply, measure.

The public surface is listed in ``__all__``. Names are imported lazily (PEP 562), so that
``import latentkit`` and the command line start fast and only load PyTorch when a model,
a dataset or the trainer is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "load": "latentkit.models.persistence",
    "pretrained": "latentkit.zoo",
    "Autoencoder": "latentkit.models.autoencoder",
    "AutoencoderConfig": "latentkit.models.autoencoder",
    "VAE": "latentkit.models.vae",
    "VAEConfig": "latentkit.models.vae",
    "ConditionalVAE": "latentkit.models.conditional",
    "ConditionalVAEConfig": "latentkit.models.conditional",
    "SemiSupervisedVAE": "latentkit.models.semi_supervised",
    "SemiSupervisedVAEConfig": "latentkit.models.semi_supervised",
    "HierarchicalVAE": "latentkit.models.hierarchical",
    "HierarchicalVAEConfig": "latentkit.models.hierarchical",
    "DiscreteVAE": "latentkit.models.discrete",
    "DiscreteVAEConfig": "latentkit.models.discrete",
    "LossOutput": "latentkit.models.base",
    "Trainer": "latentkit.training.trainer",
    "TrainConfig": "latentkit.training.config",
    "History": "latentkit.training.trainer",
}
_SUBMODULES = {
    "datasets",
    "errors",
    "evaluation",
    "config",
    "distributions",
    "nn",
    "models",
    "sklearn",
    "apps",
    "zoo",
}

__all__ = [
    "VAE",
    "Autoencoder",
    "AutoencoderConfig",
    "ConditionalVAE",
    "ConditionalVAEConfig",
    "DiscreteVAE",
    "DiscreteVAEConfig",
    "HierarchicalVAE",
    "HierarchicalVAEConfig",
    "History",
    "LossOutput",
    "SemiSupervisedVAE",
    "SemiSupervisedVAEConfig",
    "TrainConfig",
    "Trainer",
    "VAEConfig",
    "__version__",
    "apps",
    "config",
    "datasets",
    "distributions",
    "errors",
    "evaluation",
    "load",
    "models",
    "nn",
    "pretrained",
    "sklearn",
    "zoo",
]

if TYPE_CHECKING:  # pragma: no cover
    from latentkit import config, datasets, distributions, errors, evaluation, models, nn
    from latentkit.models.autoencoder import Autoencoder, AutoencoderConfig
    from latentkit.models.base import LossOutput
    from latentkit.models.conditional import ConditionalVAE, ConditionalVAEConfig
    from latentkit.models.discrete import DiscreteVAE, DiscreteVAEConfig
    from latentkit.models.hierarchical import HierarchicalVAE, HierarchicalVAEConfig
    from latentkit.models.persistence import load
    from latentkit.models.semi_supervised import SemiSupervisedVAE, SemiSupervisedVAEConfig
    from latentkit.models.vae import VAE, VAEConfig
    from latentkit.training.config import TrainConfig
    from latentkit.training.trainer import History, Trainer
    from latentkit.zoo import pretrained


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"latentkit.{name}")
    else:
        raise AttributeError(f"module 'latentkit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
