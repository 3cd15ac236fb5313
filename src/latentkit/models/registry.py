"""The model registry: ``model_type`` (as written in ``config.json``) to model class.

The mapping is an explicit dict of module paths, imported on first use, so looking a name up
never imports more than the one model module and adding a model is one line here.

:func:`create_model` builds a model from plain JSON fields, with its initial weights drawn
under a seed when one is given (:func:`latentkit._seeding.build_seeded`).
:func:`data_defaults` holds the config defaults that depend on the kind of data rather than on
the model alone: tables are standardised (zero mean, unit variance per column, real values of
either sign), so a model for a table gets a gaussian likelihood (VAE family) or a squared-error
reconstruction (autoencoder) instead of the Bernoulli/BCE defaults meant for images in [0, 1].
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import TYPE_CHECKING, Any

from latentkit._seeding import build_seeded
from latentkit.errors import ConfigError

if TYPE_CHECKING:
    from latentkit.models.base import AbstractModel

__all__ = ["MODELS", "NETWORKS", "create_model", "data_defaults", "get_model_class"]

#: model_type -> "module:ClassName"
MODELS: dict[str, str] = {
    "autoencoder": "latentkit.models.autoencoder:Autoencoder",
    "vae": "latentkit.models.vae:VAE",
    "conditional_vae": "latentkit.models.conditional:ConditionalVAE",
    "semi_supervised_vae": "latentkit.models.semi_supervised:SemiSupervisedVAE",
    "hierarchical_vae": "latentkit.models.hierarchical:HierarchicalVAE",
    "discrete_vae": "latentkit.models.discrete:DiscreteVAE",
}

#: Networks saved and loaded like models (``latentkit.load``) but trained by their own app, not
#: by ``latentkit train``, and without a bottleneck code, so the model suite over
#: :data:`MODELS` does not apply to them: model_type -> "module:ClassName".
NETWORKS: dict[str, str] = {
    "residual_denoiser": "latentkit.models.residual:ResidualDenoisingModel",
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
    target = MODELS.get(name) or NETWORKS.get(name)
    if target is None:
        known = ", ".join(sorted([*MODELS, *ALIASES, *NETWORKS]))
        raise ConfigError(f"unknown model type {model_type!r}; known types are: {known}.")
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)


#: Config field -> value for models of tables (standardised values, not pixels in [0, 1]);
#: a field applies to the model types whose config has it.
TABLE_DEFAULTS: dict[str, Any] = {"likelihood": "gaussian", "reconstruction": "mse"}


def data_defaults(model_type: str, *, is_image: bool) -> dict[str, Any]:
    """Config fields that a model of ``model_type`` should default to for this kind of data.

    Parameters
    ----------
    model_type : str
        A registered model type or alias.
    is_image : bool
        True for images in [0, 1] (the config defaults already fit them: nothing is added);
        False for standardised tables: :data:`TABLE_DEFAULTS` restricted to the fields of the
        model's config.

    Returns
    -------
    dict
        Plain JSON field values; explicit user settings should override them, e.g.
        ``create_model(t, shape, **{**data_defaults(t, is_image=False), **user_fields})``.
    """
    if is_image:
        return {}
    names = {f.name for f in dataclasses.fields(get_model_class(model_type).config_class)}
    return {name: value for name, value in TABLE_DEFAULTS.items() if name in names}


def create_model(
    model_type: str, input_shape: tuple[int, ...], *, seed: int | None = None, **fields: Any
) -> AbstractModel:
    """Build an untrained model of ``model_type`` for data points of shape ``input_shape``.

    ``fields`` are config fields given as plain JSON values (nested configs as dicts), so the
    CLI and JSON files go through the same validation as ``config.json``. With ``seed`` the
    initial weights follow that seed alone and the global random stream is left untouched;
    without it they are drawn from the global stream.
    """
    cls = get_model_class(model_type)
    config = cls.config_class.from_dict({"input_shape": list(input_shape), **fields})
    try:
        return build_seeded(lambda: cls(config), seed)
    except (RuntimeError, TypeError, OverflowError, MemoryError) as exc:  # absurd sizes
        reason = " ".join(str(exc).split())[:200]
        raise ConfigError(
            f"cannot build a {model_type} with this config ({type(exc).__name__}: {reason}); "
            "expected sizes (latent_dim, network widths) that fit in memory."
        ) from exc
