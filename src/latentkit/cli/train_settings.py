"""The settings of ``latentkit train``: a ``--config`` file, the flags on top, and the
defaults sized by the data under both.

:func:`settings` reads the file (checked: its keys, the JSON type of each section, the
``columns`` object) and applies the flags given. :func:`load_data` reads the training data with
the chosen columns, and :func:`effective` fills in the defaults that depend on it
(:func:`latentkit.models.registry.data_defaults` and ``training_defaults``): explicit values
always win, key by key in ``model_config.network``. :func:`printable` is what
``--print-config`` prints: the same schema, every field filled in.
"""

from __future__ import annotations

import argparse
from typing import Any

from latentkit.data.corruptions import CORRUPTIONS  # names only: imports no torch

__all__ = ["effective", "load_data", "printable", "settings"]

_FILE_KEYS = {"data", "model", "val_fraction", "max_samples", "columns", "model_config", "train"}
_COLUMN_KEYS = ("label", "features", "drop", "impute", "categorical", "numeric")
#: flag destination -> key of the "train" section
_TRAIN_FLAGS = {
    "epochs": "epochs",
    "batch_size": "batch_size",
    "lr": "lr",
    "seed": "seed",
    "device": "device",
    "binarize": "binarize",
    "amp": "amp",
}
#: flag destination -> key of model_config's "network"
_NETWORK_FLAGS = {"network": "kind", "hidden": "hidden", "channels": "channels"}


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """The file's settings with the flags applied on top."""
    from latentkit.config import read_json
    from latentkit.errors import ConfigError

    document: dict[str, Any] = {}
    if args.config is not None:
        document = read_json(args.config)
        if not isinstance(document, dict):
            raise ConfigError(f"{args.config}: expected a JSON object.")
        unknown = sorted(set(document) - _FILE_KEYS)
        if unknown:
            raise ConfigError(
                f"{args.config}: unknown key(s) {unknown}; known keys are {sorted(_FILE_KEYS)}."
            )
        _check_file_types(args.config, document)
    model_config = dict(document.get("model_config") or {})
    train = dict(document.get("train") or {})
    columns = {key: (document.get("columns") or {}).get(key) for key in _COLUMN_KEYS}
    if args.latent_dim is not None:
        model_config["latent_dim"] = args.latent_dim
    network = {key: getattr(args, dest) for dest, key in _NETWORK_FLAGS.items()}
    network = {key: value for key, value in network.items() if value is not None}
    if network:
        given = model_config.get("network")
        model_config["network"] = {**(given if isinstance(given, dict) else {}), **network}
    for dest, key in _TRAIN_FLAGS.items():
        if getattr(args, dest) is not None:
            train[key] = getattr(args, dest)
    if args.corruption is not None:
        train["corruption"] = _corruption(args.corruption)
    if args.features is not None or args.drop is not None:  # a flag replaces the file's choice
        columns["features"], columns["drop"] = args.features, args.drop
    if args.label is not None:
        columns["label"] = args.label
    if args.impute is not None:
        columns["impute"] = args.impute
    for key in ("categorical", "numeric"):
        if getattr(args, key, None) is not None:
            columns[key] = getattr(args, key)
    return {
        "data": args.data or document.get("data"),
        "model": args.model or document.get("model"),  # None: chosen by the data (load_data)
        "val_fraction": document.get("val_fraction", 0.1)
        if args.val_fraction is None
        else args.val_fraction,
        "max_samples": document.get("max_samples")
        if args.max_samples is None
        else args.max_samples,
        "columns": columns,
        "model_config": model_config,
        "train": train,
    }


#: key of a --config file -> (JSON types it may hold, what to say)
_FILE_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "data": ((str,), "a dataset name or a path"),
    "model": ((str,), "a model type such as 'vae'"),
    "val_fraction": ((int, float), "a number in [0, 1)"),
    "max_samples": ((int,), "a whole number of samples >= 1 (or null: all)"),
    "columns": ((dict,), "an object with 'label', 'features', 'drop' and 'impute'"),
    "model_config": ((dict,), "an object of model settings"),
    "train": ((dict,), "an object of training settings"),
}


def _check_file_types(path: str, settings: dict[str, Any]) -> None:
    """Refuse a --config whose sections hold the wrong kind of JSON value."""
    from latentkit.errors import ConfigError

    for key, value in settings.items():
        if value is None and key == "max_samples":  # null: every sample
            continue
        types, expected = _FILE_TYPES[key]
        if value is None or isinstance(value, bool) or not isinstance(value, types):
            raise ConfigError(
                f"{path}: {key!r} must be {expected}, got {type(value).__name__} {value!r:.60}."
            )
    columns = settings.get("columns", {})
    unknown = sorted(set(columns) - set(_COLUMN_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {unknown} in 'columns'; known keys are {list(_COLUMN_KEYS)}."
        )
    label = columns.get("label")
    if label is not None and (not isinstance(label, str) or not label):
        raise ConfigError(
            f"{path}: columns.label must be a column name or null, got {label!r:.60}."
        )
    for key in ("features", "drop", "categorical", "numeric"):
        names = columns.get(key)
        if names is not None and (
            not isinstance(names, list) or not all(isinstance(n, str) and n for n in names)
        ):
            raise ConfigError(
                f"{path}: columns.{key} must be a list of column names or null, got {names!r:.60}."
            )
    if columns.get("features") is not None and columns.get("drop") is not None:
        raise ConfigError(f"{path}: columns: give 'features' or 'drop', not both.")
    if columns.get("impute") not in (None, "mean", "median"):
        raise ConfigError(
            f"{path}: columns.impute must be 'mean', 'median' or null, got "
            f"{columns['impute']!r:.60}."
        )


def _corruption(spec: str) -> dict[str, Any]:
    """``KIND:AMOUNT`` (amount 0 when left out) as the ``corruption`` section of TrainConfig."""
    from latentkit.errors import ConfigError

    kind, _, amount = spec.partition(":")
    if kind not in CORRUPTIONS:
        raise ConfigError(
            f"--corruption: unknown kind {kind!r} in {spec!r}; KIND is one of "
            f"{', '.join(CORRUPTIONS)} (e.g. gaussian:0.5)."
        )
    try:
        return {"kind": kind, "amount": float(amount or 0)}
    except ValueError as exc:
        raise ConfigError(
            f"--corruption takes KIND:AMOUNT (e.g. gaussian:0.5), got {spec!r}."
        ) from exc


def load_data(settings: dict[str, Any], args: argparse.Namespace) -> Any:
    """The training data, a table with the chosen columns (on ``--resume`` without a choice:
    the columns the run recorded)."""
    from latentkit.cli.main import UsageError
    from latentkit.data.columns import is_table_file, load_columns

    name, columns = settings["data"], settings["columns"]
    chosen = {key: value for key, value in columns.items() if value is not None}
    if not is_table_file(name):
        settings["model"] = settings["model"] or "vae"
        if chosen:
            raise UsageError(
                f"--{', --'.join(chosen)}: only for table files, and {name} is not one "
                "(.csv, .parquet, .npy or .npz)"
            )
        from latentkit.cli.inputs import read_data
        from latentkit.errors import DataError

        patch = getattr(args, "patch_size", None)
        try:
            options = None if patch is None else {"patch_size": patch}
            return read_data(name, "train", options=options)
        except DataError as exc:
            if patch is None and "differ in size" in str(exc):
                raise UsageError(f"{exc} For training, --patch-size P cuts P x P patches.") from exc
            raise
    schema = None
    if args.resume and args.out is not None:
        chosen = chosen or _recorded_choice(args.out)
        schema = _recorded_schema(args.out)
    mixed = _load_mixed(name, settings, chosen, schema)
    if mixed is not None:
        return mixed
    settings["model"] = settings["model"] or "vae"
    chosen.pop("categorical", None), chosen.pop("numeric", None)
    data = load_columns(name, "train", **chosen)
    data.meta["fill"] = _fill(data, chosen.get("impute"))
    return data


def _load_mixed(
    name: str, settings: dict[str, Any], chosen: dict[str, Any], schema: Any = None
) -> Any:
    """A CSV/Parquet table as the codes of a mixed-table schema
    (:mod:`latentkit.data.mixed`) when the model is tabular, ``--categorical``/``--numeric``
    are given, or (no model named, no ``--impute``) a feature holds text or gaps; else None.
    Sets ``settings["model"]`` to ``tabular_vae`` when no model was named. ``schema``: the
    schema a resumed run recorded, used as it is (not inferred again)."""
    from pathlib import Path

    from latentkit.cli.main import UsageError
    from latentkit.models.registry import get_model_class

    if Path(name).suffix.lower() not in (".csv", ".parquet"):
        return None
    model = settings["model"]
    tabular = model is not None and get_model_class(model).capabilities.tabular
    forced = [f"--{k}" for k in ("categorical", "numeric") if chosen.get(k)]
    if forced and model is not None and not tabular:
        raise UsageError(
            f"{' and '.join(forced)}: only for the mixed-table model (--model tabular_vae), "
            f"not {model}"
        )
    if schema is None and not (
        tabular or forced or (model is None and chosen.get("impute") is None)
    ):
        return None
    try:
        import pandas  # noqa: F401
    except ImportError:
        if tabular or forced:
            raise UsageError("mixed tables need pandas: pip install 'latentkit[tables]'") from None
        return None
    from latentkit.data.columns import choose
    from latentkit.data.mixed import load_mixed, needs_schema
    from latentkit.data.schema import read_frame

    frame = read_frame(name)
    frame.columns = [str(c) for c in frame.columns]
    select = {k: chosen.get(k) for k in ("label", "features", "drop")}
    features, _ = choose(list(frame.columns), name, **select)
    if schema is None and not (tabular or forced or needs_schema(frame, features)):
        return None
    settings["model"] = model or "tabular_vae"
    return load_mixed(
        name,
        frame=frame,
        schema=schema,
        **select,
        categorical=chosen.get("categorical"),
        numeric=chosen.get("numeric"),
    )


def _recorded_choice(out: str) -> dict[str, Any]:
    """The label and features recorded by the run in ``out`` (empty without a record)."""
    from pathlib import Path

    from latentkit.cli.runs import PREPROCESSING_FILE, read_preprocessing
    from latentkit.data.columns import ColumnRecord

    recorded = read_preprocessing(out).get("columns")
    if recorded is None:
        return {}
    record = ColumnRecord.from_dict(recorded, str(Path(out) / PREPROCESSING_FILE))
    fill = {} if record.fill is None else {"impute": record.fill}
    return {"features": list(record.features), "label": record.label, **fill}


def _recorded_schema(out: str) -> Any:
    """The table schema recorded by the run in ``out`` (None when it recorded none)."""
    from latentkit.cli.runs import read_preprocessing, run_schema

    prep = read_preprocessing(out)
    return run_schema(out, prep) if "schema" in prep else None


def _fill(data: Any, impute: str | dict | None) -> dict[str, float] | None:
    """What fills a feature's missing values in later files: the training file's mean or
    median of every feature (those it imputed: the values it used)."""
    import numpy as np

    if impute is None or isinstance(impute, dict):
        return impute
    x = data.x.numpy()  # (N, D), before scaling
    stats = x.mean(0, dtype=np.float64) if impute == "mean" else np.median(x, axis=0)
    imputed = data.meta.get("imputed", {})
    return {
        name: float(imputed[name]["value"]) if name in imputed else float(value)
        for name, value in zip(data.meta["columns"], stats, strict=True)
    }


def effective(settings: dict[str, Any], data: Any, n_train: int) -> tuple[dict, dict]:
    """(model config fields, train config fields): the defaults sized by the data under the
    settings given."""
    from latentkit.models.registry import data_defaults, training_defaults

    given = settings["model_config"]
    schema = data.meta.get("schema")
    kinds = levels = None
    if schema is not None:
        from latentkit.data.schema import TableSchema

        table = TableSchema.from_dict(schema)
        kinds, levels = table.kinds, table.levels
    defaults = data_defaults(
        settings["model"],
        is_image=data.is_image,
        n_features=None if data.is_image else data.shape[0],
        n_samples=n_train,
        n_classes=data.num_classes,
        kinds=kinds,
        levels=levels,
    )
    fields = defaults | given
    if isinstance(defaults.get("network"), dict) and isinstance(given.get("network"), dict):
        fields["network"] = defaults["network"] | given["network"]
    train = settings["train"]
    from latentkit.models.registry import MIXED_TABLE_STEPS, TABLE_STEPS, get_model_class

    tabular = get_model_class(settings["model"]).capabilities.tabular
    sized = training_defaults(
        is_image=data.is_image,
        n_samples=n_train,
        batch_size=train.get("batch_size"),
        epochs=train.get("epochs"),
        steps=MIXED_TABLE_STEPS if tabular else TABLE_STEPS,
    )
    return fields, sized | train


def printable(settings: dict[str, Any], model: Any, train: Any) -> dict[str, Any]:
    """The full effective settings in the --config schema."""
    from latentkit.models.registry import ALIASES

    model_config = model.to_dict()
    model_config.pop("input_shape")  # comes from the data
    return {
        "data": settings["data"],
        "model": ALIASES.get(settings["model"], settings["model"]),
        "val_fraction": settings["val_fraction"],
        "max_samples": settings["max_samples"],
        "columns": settings["columns"],
        "model_config": model_config,
        "train": train.to_dict(),
    }
