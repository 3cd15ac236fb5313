"""``latentkit train``: train a model on a dataset and write a run folder.

Settings come from an optional JSON file (``--config``) and from flags; a flag given on the
command line overrides the file. The file holds::

    {"data": "mnist", "model": "vae", "val_fraction": 0.1,
     "model_config": {"latent_dim": 32, "beta": 4.0, "network": {"hidden": [512, 256]}},
     "train": {"epochs": 20, "batch_size": 256, "binarize": "dynamic"}}

``model_config`` takes the fields of the model's config class (``input_shape`` comes from the
data) and ``train`` those of :class:`latentkit.training.TrainConfig`; both are validated like a
saved ``config.json`` (unknown keys and wrong types are refused).
"""

from __future__ import annotations

import argparse
from typing import Any

from latentkit.cli.common import add_command, count, number, say, seed
from latentkit.data.corruptions import CORRUPTIONS  # names only: imports no torch

__all__ = ["add_parser", "run"]

_FILE_KEYS = {"data", "model", "val_fraction", "model_config", "train"}
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


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Train a model on a dataset; write config, weights, metrics and checkpoints.",
        "  latentkit train --data mnist --model vae --latent-dim 32 --epochs 20 --out runs/vae\n"
        "  latentkit train --config vae.json --out runs/vae --resume",
    )
    parser.add_argument("--data", default=None, help="dataset name, image folder or table file")
    parser.add_argument("--model", default=None, help="model type (default: vae), e.g. ae, vae")
    parser.add_argument(
        "--latent-dim", type=count(1, 100_000), default=None, help="size of the code"
    )
    parser.add_argument("--epochs", type=count(1), default=None, help="passes over the data")
    parser.add_argument("--batch-size", type=count(1), default=None, help="samples per step")
    parser.add_argument(
        "--lr", type=number(0, None, low_open=True), default=None, help="learning rate"
    )
    parser.add_argument("--seed", type=seed, default=None, help="seed of initialisation and data")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default=None)
    parser.add_argument("--amp", choices=["none", "bf16", "fp16"], default=None,
                        help="mixed precision (for GPUs; fp16 adds a gradient scaler)")  # fmt: skip
    parser.add_argument("--binarize", choices=["none", "dynamic"], default=None,
                        help="dynamic: a fresh Bernoulli draw of every batch")  # fmt: skip
    parser.add_argument("--val-fraction", type=number(0, 1, high_open=True), default=None,
                        help="share of the training split held out for validation "
                        "(default 0.1; 0 trains without validation)")  # fmt: skip
    parser.add_argument("--corruption", default=None, metavar="KIND:AMOUNT",
                        help="train a denoising/inpainting model on corrupted inputs, e.g. "
                        f"gaussian:0.5; KIND is one of {', '.join(CORRUPTIONS)}")  # fmt: skip
    parser.add_argument("--config", default=None, metavar="FILE", help="JSON settings file")
    parser.add_argument("--out", required=True, help="run folder to write")
    parser.add_argument("--resume", action="store_true", help="continue from its checkpoints")
    return parser


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The file's settings with the flags applied on top."""
    from latentkit.config import read_json
    from latentkit.errors import ConfigError

    settings: dict[str, Any] = {}
    if args.config is not None:
        settings = read_json(args.config)
        if not isinstance(settings, dict):
            raise ConfigError(f"{args.config}: expected a JSON object.")
        unknown = sorted(set(settings) - _FILE_KEYS)
        if unknown:
            raise ConfigError(
                f"{args.config}: unknown key(s) {unknown}; known keys are {sorted(_FILE_KEYS)}."
            )
        _check_file_types(args.config, settings)
    model_config = dict(settings.get("model_config") or {})
    train = dict(settings.get("train") or {})
    if args.latent_dim is not None:
        model_config["latent_dim"] = args.latent_dim
    for dest, key in _TRAIN_FLAGS.items():
        if getattr(args, dest) is not None:
            train[key] = getattr(args, dest)
    if args.corruption is not None:
        train["corruption"] = _corruption(args.corruption)
    return {
        "data": args.data or settings.get("data"),
        "model": args.model or settings.get("model") or "vae",
        "val_fraction": settings.get("val_fraction", 0.1)
        if args.val_fraction is None
        else args.val_fraction,
        "model_config": model_config,
        "train": train,
    }


#: key of a --config file -> (JSON types it may hold, what to say)
_FILE_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "data": ((str,), "a dataset name or a path"),
    "model": ((str,), "a model type such as 'vae'"),
    "val_fraction": ((int, float), "a number in [0, 1)"),
    "model_config": ((dict,), "an object of model settings"),
    "train": ((dict,), "an object of training settings"),
}


def _check_file_types(path: str, settings: dict[str, Any]) -> None:
    """Refuse a --config whose sections hold the wrong kind of JSON value."""
    from latentkit.errors import ConfigError

    for key, value in settings.items():
        types, expected = _FILE_TYPES[key]
        if value is None or isinstance(value, bool) or not isinstance(value, types):
            raise ConfigError(
                f"{path}: {key!r} must be {expected}, got {type(value).__name__} {value!r:.60}."
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


def run(args: argparse.Namespace) -> int:
    import torch

    import latentkit
    from latentkit.cli.main import UsageError
    from latentkit.cli.runs import write_preprocessing
    from latentkit.models.registry import create_model, data_defaults
    from latentkit.training import Callback, TrainConfig, Trainer

    settings = _settings(args)
    if not settings["data"]:
        raise UsageError("--data is required (or a 'data' key in --config)")
    fraction = settings["val_fraction"]
    if not isinstance(fraction, int | float) or not 0 <= fraction < 1:
        raise UsageError(f"--val-fraction must be in [0, 1), got {fraction!r}")
    config = TrainConfig.from_dict(settings["train"])
    data = latentkit.datasets.load(settings["data"], "train")
    preprocessing: dict[str, Any] = {"data": settings["data"]}
    if not data.is_image:  # tables: standardise with statistics of the training split
        from latentkit.data.transforms import Standardizer

        scaler = Standardizer().fit(data.x)
        data.x = scaler.transform(data.x).contiguous()
        preprocessing["scaler"] = scaler.to_dict()
    # defaults for the kind of data (tables: a gaussian likelihood), overridden by the settings
    fields = data_defaults(settings["model"], is_image=data.is_image) | settings["model_config"]
    # the initial weights follow --seed too
    model = create_model(settings["model"], data.shape, seed=config.seed, **fields)
    train, val = data, None
    n_val = round(fraction * len(data))
    if n_val > 0:
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(config.seed))
        train, val = data.subset(order[n_val:]), data.subset(order[:n_val])
    say(
        f"training {model.model_type} on {data.name}: {len(train)} samples"
        + (f", {len(val)} for validation" if val is not None else "")
    )

    class Report(Callback):
        def on_fit_start(self, model: Any, config: Any) -> None:
            # before the first epoch (so before the first checkpoint, and after a resume was
            # checked): a run killed at any moment still says how its data was scaled
            from latentkit.training.distributed import detect

            if detect().is_main:
                write_preprocessing(args.out, preprocessing)

        def on_epoch_end(self, epoch: int, record: dict[str, Any], model: Any) -> None:
            losses = ", ".join(
                f"{k} {v:.4f}" for k, v in record.items() if k.endswith("_loss") and v is not None
            )
            say(f"epoch {epoch}/{config.epochs}: {losses} ({record['seconds']:.1f} s)")

    history = Trainer(config, callbacks=[Report()]).fit(
        model, train, val, out=args.out, resume=args.resume
    )
    if history.stopped_early:
        say(f"stopped early; kept the weights of epoch {history.best_epoch}")
    say(
        f"wrote {args.out}: config.json, model.safetensors, metrics.jsonl, checkpoints/, "
        "preprocessing.json "
        f"({len(history)} epoch{'s' if len(history) != 1 else ''})"
    )
    return 0
