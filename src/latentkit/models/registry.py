"""The model registry: ``model_type`` (as written in ``config.json``) to model class.

The mapping is an explicit dict of module paths, imported on first use, so looking a name up
never imports more than the one model module and adding a model is one line here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from latentkit.errors import ConfigError

if TYPE_CHECKING:
    from latentkit.models.base import AbstractModel

__all__ = ["MODELS", "create_model", "get_model_class"]

#: model_type -> "module:ClassName"
MODELS: dict[str, str] = {
    "autoencoder": "latentkit.models.autoencoder:Autoencoder",
    "vae": "latentkit.models.vae:VAE",
    "conditional_vae": "latentkit.models.conditional:ConditionalVAE",
    "semi_supervised_vae": "latentkit.models.semi_supervised:SemiSupervisedVAE",
    "hierarchical_vae": "latentkit.models.hierarchical:HierarchicalVAE",
    "discrete_vae": "latentkit.models.discrete:DiscreteVAE",
}

#: Short names accepted by ``create_model`` and the CLI's ``--model``.
ALIASES: dict[str, str] = {
    "ae": "autoencoder",
    "cvae": "conditional_vae",
    "m2": "semi_supervised_vae",
    "hvae": "hierarchical_vae",
    "gumbel_vae": "discrete_vae",
}


def get_model_class(model_type: str) -> type[AbstractModel]:
    """The class registered under ``model_type`` (or one of its aliases)."""
    name = ALIASES.get(model_type, model_type)
    if name not in MODELS:
        known = ", ".join(sorted([*MODELS, *ALIASES]))
        raise ConfigError(f"unknown model type {model_type!r}; known types are: {known}.")
    module_name, class_name = MODELS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def create_model(model_type: str, input_shape: tuple[int, ...], **fields: Any) -> AbstractModel:
    """Build an untrained model of ``model_type`` for data points of shape ``input_shape``.

    ``fields`` are config fields given as plain JSON values (nested configs as dicts), so the
    CLI and JSON files go through the same validation as ``config.json``.
    """
    cls = get_model_class(model_type)
    config = cls.config_class.from_dict({"input_shape": list(input_shape), **fields})
    try:
        return cls(config)
    except (RuntimeError, TypeError, OverflowError, MemoryError) as exc:  # absurd sizes
        reason = " ".join(str(exc).split())[:200]
        raise ConfigError(
            f"cannot build a {model_type} with this config ({type(exc).__name__}: {reason}); "
            "expected sizes (latent_dim, network widths) that fit in memory."
        ) from exc
