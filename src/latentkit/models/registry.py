"""The model registry: ``model_type`` (as written in ``config.json``) to model class.

The mapping is an explicit dict of module paths, imported on first use, so looking a name up
never imports more than the one model module and adding a model is one line here.

:func:`create_model` builds a model from plain JSON fields, with its initial weights drawn
under a seed when one is given (:func:`latentkit._seeding.build_seeded`).
:func:`data_defaults` holds the config defaults that depend on the data rather than on the
model alone, and :func:`training_defaults` the batch size and the epochs. For a table of ``n``
training rows and ``d`` features (standardised: zero mean, unit variance per column, real
values of either sign):

- the likelihood: gaussian (VAE family) or a squared-error reconstruction (autoencoder) instead
  of the Bernoulli/BCE defaults meant for images in [0, 1];
- the code: smaller than the number of features, ``min(16, max(2, d // 2), d - 1)`` (at
  least 1): 2 for 4 features, 6 for 13, 15 for 30, 16 from 32 on. A code as wide as the
  input can learn the identity, which reconstructs everything, anomalies included;
- the network (MLP): two hidden layers, the first ``2 * d`` rounded up to a power of two
  within [32, cap] and the second half of it (at least twice the code); the cap grows with the
  rows, 64 below 2,000 rows, 128 below 20,000, else 256, so that a small table does not get
  a network with far more weights than it has values (the image default, 512-256, has about
  300,000 weights for 30 features);
- a conditional model: as many classes as the labels hold;
- the training length counted in optimisation steps, as :mod:`latentkit.sklearn` does:
  ``ceil(TABLE_STEPS / batches per epoch)`` epochs within :data:`TABLE_EPOCHS`, in batches of
  about a tenth of the rows (a power of two within [16, 128]), so that a small table makes
  several steps per epoch: 150 rows in batches of 16 give 80 epochs of 10 steps; 1,000 rows in
  batches of 64, 50 epochs; 100,000 rows in batches of 128, 10 epochs. The image defaults
  (batches of 128, 10 epochs) would make 20 steps on a table of 150 rows.

Images keep the configs' own defaults (and 10 epochs). Explicit settings always win.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from typing import TYPE_CHECKING, Any

from latentkit._seeding import build_seeded
from latentkit.errors import ConfigError

if TYPE_CHECKING:
    from latentkit.models.base import AbstractModel

__all__ = [
    "MIXED_TABLE_STEPS",
    "MODELS",
    "NETWORKS",
    "TABLE_EPOCHS",
    "TABLE_STEPS",
    "create_model",
    "data_defaults",
    "epochs_for_steps",
    "get_model_class",
    "table_batch_size",
    "table_code_size",
    "table_hidden",
    "training_defaults",
]

#: model_type -> "module:ClassName"
MODELS: dict[str, str] = {
    "autoencoder": "latentkit.models.autoencoder:Autoencoder",
    "vae": "latentkit.models.vae:VAE",
    "conditional_vae": "latentkit.models.conditional:ConditionalVAE",
    "semi_supervised_vae": "latentkit.models.semi_supervised:SemiSupervisedVAE",
    "hierarchical_vae": "latentkit.models.hierarchical:HierarchicalVAE",
    "discrete_vae": "latentkit.models.discrete:DiscreteVAE",
    "sequence_vae": "latentkit.models.sequence:SequenceVAE",
    "factor_vae": "latentkit.models.factor_vae:FactorVAE",
    "tabular_vae": "latentkit.models.tabular:TabularVAE",
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
    "tabular": "tabular_vae",
    "hivae": "tabular_vae",
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


#: optimisation steps aimed at on a table, and the bounds on the epochs that gives
TABLE_STEPS = 800
#: steps aimed at by the model of mixed tables (tabular_vae), whose samples are its product:
#: chosen on a validation split of training rows (German credit: the sdmetrics quality of
#: samples against the held-out training rows was 0.845 after 800 steps, 0.854 after 2000 and
#: 0.876 after 4000; 3000 keeps the CPU time of a table of 5,000 rows near a minute)
MIXED_TABLE_STEPS = 3000
TABLE_EPOCHS = (10, 200)
#: batches per epoch aimed at by the batch size of a table
TABLE_BATCHES = 10


def table_code_size(n_features: int) -> int:
    """The default code size for ``n_features`` features: below ``n_features`` (from 2 on)."""
    return max(1, min(16, max(2, n_features // 2), n_features - 1))


def table_hidden(n_features: int, n_samples: int) -> tuple[int, int]:
    """The default MLP widths for a table of ``n_samples`` rows and ``n_features`` features."""
    cap = 64 if n_samples < 2_000 else 128 if n_samples < 20_000 else 256
    first = min(cap, max(32, 2 ** math.ceil(math.log2(max(1, 2 * n_features)))))
    return first, max(first // 2, 2 * table_code_size(n_features))


def epochs_for_steps(n_samples: int, batch_size: int, steps: int, bounds: tuple[int, int]) -> int:
    """``ceil(steps / batches per epoch)`` within ``bounds``: the epochs that make about
    ``steps`` optimisation steps on ``n_samples`` rows (shared with :mod:`latentkit.sklearn`)."""
    batches = max(1, math.ceil(n_samples / batch_size))
    low, high = bounds
    return min(high, max(low, math.ceil(steps / batches)))


def table_batch_size(n_samples: int) -> int:
    """The default batch size for ``n_samples`` training rows: about a tenth of them, as a
    power of two within [16, 128]."""
    per_batch = max(1, n_samples // TABLE_BATCHES)
    return max(16, min(128, 2 ** math.floor(math.log2(per_batch))))


def training_defaults(
    *,
    is_image: bool,
    n_samples: int,
    batch_size: int | None = None,
    epochs: int | None = None,
    steps: int = TABLE_STEPS,
) -> dict[str, int]:
    """TrainConfig fields sized by the data: ``{}`` for images (the config's 10 epochs of
    batches of 128); for a table of ``n_samples`` training rows, the batch size, the epochs of
    :data:`TABLE_STEPS` steps within :data:`TABLE_EPOCHS` and a checkpoint every twentieth of
    them. A ``batch_size`` or ``epochs`` given is the user's: it is not returned, and the
    epochs are counted in batches of the given size. ``steps``: :data:`TABLE_STEPS`, or
    :data:`MIXED_TABLE_STEPS` for the model of mixed tables."""
    if is_image:
        return {}
    out = {} if batch_size is not None else {"batch_size": table_batch_size(n_samples)}
    if epochs is None:
        size = batch_size if batch_size is not None else out["batch_size"]
        epochs = epochs_for_steps(n_samples, size, steps, TABLE_EPOCHS)
        out |= {"epochs": epochs, "checkpoint_every": max(1, epochs // 20)}
    return out


def data_defaults(
    model_type: str,
    *,
    is_image: bool,
    n_features: int | None = None,
    n_samples: int | None = None,
    n_classes: int | None = None,
    kinds: tuple[str, ...] | None = None,
    levels: tuple[int, ...] | None = None,
) -> dict[str, Any]:
    """Config fields that a model of ``model_type`` should default to for this data.

    Parameters
    ----------
    model_type : str
        A registered model type or alias.
    is_image : bool
        True for images in [0, 1] (the config defaults already fit them: nothing is added);
        False for standardised tables: :data:`TABLE_DEFAULTS` restricted to the fields of the
        model's config and, given the table's size, the sizes described in the module
        docstring.
    n_features, n_samples : int, optional
        The table's features ``d`` and training rows ``n``: with both, the code size
        (:func:`table_code_size`) and the network (:func:`table_hidden`).
    n_classes : int, optional
        Classes of the labels, for the models that have ``num_classes``.
    kinds, levels : tuple, optional
        A mixed table's column likelihoods and levels
        (:class:`latentkit.data.schema.TableSchema`), for the models that have ``kinds``.

    Returns
    -------
    dict
        Plain JSON field values; explicit user settings should override them, e.g.
        ``create_model(t, shape, **{**data_defaults(t, is_image=False), **user_fields})``
        (a ``network`` default is a whole network, to be updated key by key).
    """
    if is_image:
        return {}
    fields = {f.name: f for f in dataclasses.fields(get_model_class(model_type).config_class)}
    out = {name: value for name, value in TABLE_DEFAULTS.items() if name in fields}
    if kinds is not None and levels is not None and "kinds" in fields:
        out["kinds"], out["levels"] = list(kinds), list(levels)
    if n_classes is not None and "num_classes" in fields:
        out["num_classes"] = max(2, n_classes)
    if n_features is None or n_samples is None:
        return out
    code = table_code_size(n_features)
    if "latent_dim" in fields:
        out["latent_dim"] = code
    if "top_latent_dim" in fields:  # the hierarchical model's upper code: smaller again
        out["top_latent_dim"] = max(1, code // 2)
    if "network" in fields:
        field = fields["network"]
        network = (
            field.default_factory()  # type: ignore[misc]
            if field.default is dataclasses.MISSING
            else field.default
        )
        hidden = table_hidden(n_features, n_samples)
        out["network"] = dataclasses.replace(network, kind="mlp", hidden=hidden).to_dict()
    return out


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
