"""``latentkit train``: train a model on a dataset and write a run folder.

Settings come from an optional JSON file (``--config``) and from flags; a flag given on the
command line overrides the file (:mod:`latentkit.cli.train_settings`). The file holds (every
key optional)::

    {"data": "mnist", "model": "vae", "val_fraction": 0.1,
     "columns": {"label": "species", "features": null, "drop": ["id"], "impute": null},
     "model_config": {"latent_dim": 32, "beta": 4.0, "network": {"hidden": [512, 256]}},
     "train": {"epochs": 20, "batch_size": 256, "binarize": "dynamic"}}

``model_config`` takes the fields of the model's config class (``input_shape`` comes from the
data) and ``train`` those of :class:`latentkit.training.TrainConfig`; both are validated like a
saved ``config.json`` (unknown keys and wrong types are refused). ``columns`` chooses a table's
columns (:mod:`latentkit.cli.columns`). ``--print-config`` prints the full effective settings
in this schema (every field, with the defaults sized by the data filled in) and exits without
training; given back as ``--config``, they train the same run.

Defaults that depend on the data are decided beside the models
(:func:`latentkit.models.registry.data_defaults` and ``training_length``): for a table, a
gaussian likelihood, a code smaller than its features, a network sized by its features and
rows, and a training length of about 800 optimisation steps.

The run folder: ``--out`` must not hold a run already (``config.json``, ``checkpoints/``,
``metrics.jsonl``, ...) unless ``--resume`` continues it or ``--overwrite`` replaces it
(:mod:`latentkit.cli.run_folder`).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from latentkit.cli.columns import add_column_arguments, column_names
from latentkit.cli.common import add_command, count, number, say, seed
from latentkit.cli.sequence_data import add_sequence_arguments
from latentkit.cli.train_settings import settings as _settings
from latentkit.data.corruptions import CORRUPTIONS  # names only: imports no torch

__all__ = ["add_parser", "run"]

_SCHEMA = """
--config FILE: a JSON object; every key is optional and a flag given overrides it:
  {"data": "mnist", "model": "vae", "val_fraction": 0.1, "max_samples": null,
   "columns": {"label": "species", "features": null, "drop": ["id"], "impute": "mean",
               "categorical": null, "numeric": null},
   "model_config": {"latent_dim": 32, "beta": 4.0, "network": {"hidden": [512, 256]}},
   "train": {"epochs": 20, "batch_size": 256, "lr": 0.001, "binarize": "dynamic"}}
model_config: the fields of the model's config (input_shape comes from the data); train: the
fields of latentkit.training.TrainConfig; columns: a table's label, features or dropped columns,
how missing values are filled, and the columns forced to be categories or numbers (mixed tables).
--print-config prints every setting in this form and exits; give it back with --config.

defaults sized by a table of n rows and d features (latentkit.models.registry):
  code min(16, max(2, d // 2), d - 1); hidden layers 2d rounded up to a power of two within
  [32, 64 (n < 2,000) / 128 (n < 20,000) / 256] and half of it; batches of about n / 10 (a
  power of two in 16..128); epochs for about 800 steps within 10..200 (150 rows: 80 epochs);
  a gaussian likelihood (VAEs) or squared error (autoencoder).
"""


def _widths(text: str) -> list[int]:
    """An argparse type: comma-separated positive widths (``256,128``)."""
    parse = count(1, 1_000_000)
    try:
        return [parse(part) for part in text.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers >= 1 such as 256,128, got {text!r}"
        ) from None


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Train a model on a dataset; write config, weights, metrics and checkpoints.",
        "  latentkit train --data mnist --model vae --latent-dim 32 --epochs 20 --out runs/vae\n"
        "  latentkit train --data mnist --network conv --channels 32,64 --out runs/conv\n"
        "  latentkit train --data my.csv --label y --drop id --out runs/table\n"
        "  latentkit train --data my.csv --label y --print-config > table.json\n"
        "  latentkit train --data smiles.csv --column smiles --model sequence_vae --out runs/mol\n"
        "  latentkit train --config vae.json --out runs/vae --resume",
    )
    parser.epilog += "\n" + _SCHEMA
    add = parser.add_argument
    add(
        "--data",
        default=None,
        help="dataset name (mnist, fashion-mnist, digits, faces, faces-color, dsprites), image "
        "file or folder (searched recursively) or table file (.csv, .parquet, .npy, .npz); "
        "required, here or in --config",
    )
    add(
        "--patch-size",
        type=count(2, 4096),
        default=None,
        help="train on P x P patches cut from the images of a folder (photos of mixed sizes; "
        "default: whole images)",
    )
    add(
        "--model",
        default=None,
        help="model type, e.g. vae, ae, cvae, hvae, tabular_vae (default: tabular_vae for a "
        "table with text columns or gaps, else vae)",
    )
    add(
        "--latent-dim",
        type=count(1, 100_000),
        default=None,
        help="size of the code (default: "
        "tables min(16, max(2, d // 2), d - 1) for d features; images the model's own, 16 for "
        "a VAE, 32 for an autoencoder)",
    )
    add(
        "--network",
        choices=["mlp", "conv", "resconv"],
        default=None,
        help="encoder/decoder: an MLP, or strided or residual convolutions for images "
        "(default: mlp)",
    )
    add(
        "--hidden",
        type=_widths,
        default=None,
        metavar="W,...",
        help="MLP widths in encoder "
        "order, e.g. 256,128 (default: tables sized by d and n, e.g. 32,16; images 512,256)",
    )
    add(
        "--channels",
        type=_widths,
        default=None,
        metavar="C,...",
        help="conv channels per stage, each halving H and W (default: 32,64)",
    )
    add(
        "--epochs",
        type=count(1),
        default=None,
        help="passes over the data (default: images 10; tables enough for about 800 steps, "
        "within 10..200)",
    )
    add(
        "--batch-size",
        type=count(1),
        default=None,
        help="samples per step (default: images 128; tables about a tenth of the rows, a "
        "power of two within 16..128)",
    )
    add(
        "--lr",
        type=number(0, None, low_open=True),
        default=None,
        help="learning rate of Adam (default: 0.001)",
    )
    add(
        "--seed",
        type=seed,
        default=None,
        help="seed of the weights, the validation split and the batches (default: 0)",
    )
    add(
        "--device",
        choices=["auto", "cpu", "cuda", "mps"],
        default=None,
        help="where to train (default: auto, a GPU when there is one)",
    )
    add(
        "--amp",
        choices=["none", "bf16", "fp16"],
        default=None,
        help="mixed precision (for GPUs; fp16 adds a gradient scaler) (default: none)",
    )
    add(
        "--binarize",
        choices=["none", "dynamic"],
        default=None,
        help="dynamic: a fresh Bernoulli draw of every batch (default: none)",
    )
    add(
        "--val-fraction",
        type=number(0, 1, high_open=True),
        default=None,
        help="share of the training split held out for validation "
        "(default: 0.1; 0 trains without validation)",
    )
    add(
        "--max-samples",
        type=count(1),
        default=None,
        metavar="N",
        help="train on a random subset of N samples (seeded by --seed) when the data holds "
        "more, e.g. dsprites' 737,280 images on a CPU (default: all)",
    )
    add(
        "--corruption",
        default=None,
        metavar="KIND:AMOUNT",
        help="train a denoising/inpainting model on corrupted inputs, e.g. gaussian:0.5; KIND "
        f"is one of {', '.join(CORRUPTIONS)} (default: none)",
    )
    add(
        "--config",
        default=None,
        metavar="FILE",
        help="JSON settings file (the schema below; default: none)",
    )
    add("--out", default=None, help="run folder to write (required unless --print-config)")
    add("--resume", action="store_true", help="continue the run in --out from its checkpoints")
    add(
        "--overwrite",
        action="store_true",
        help="replace the run in --out: first delete its "
        "checkpoints, metrics, weights, config and preprocessing (nothing else)",
    )
    add(
        "--print-config",
        action="store_true",
        help="print the full effective settings as JSON (the --config schema) and exit",
    )
    add_column_arguments(parser, training=True)
    add_sequence_arguments(parser)
    add(
        "--impute",
        choices=["mean", "median"],
        default=None,
        help="tables: fill missing values with the column's mean or median, also in the files "
        "later commands read (default: a table with gaps or text columns trains the "
        "mixed-table model, tabular_vae, which handles them itself)",
    )
    add(
        "--categorical",
        type=column_names,
        default=None,
        metavar="COL,...",
        help="mixed tables: columns to treat as categories (default: text columns and whole "
        "numbers with at most 10 values)",
    )
    add(
        "--numeric",
        type=column_names,
        default=None,
        metavar="COL,...",
        help="mixed tables: columns to treat as numbers (default: inferred)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    import torch

    from latentkit.cli.main import UsageError
    from latentkit.cli.run_folder import check_out, remove_previous_run
    from latentkit.cli.runs import write_preprocessing
    from latentkit.cli.train_settings import effective, load_data, printable
    from latentkit.data.columns import ColumnRecord
    from latentkit.models.registry import create_model, get_model_class
    from latentkit.training import Callback, TrainConfig, Trainer

    settings = _settings(args)
    if not settings["data"]:
        raise UsageError("--data is required (or a 'data' key in --config)")
    fraction = settings["val_fraction"]
    if not isinstance(fraction, int | float) or not 0 <= fraction < 1:
        raise UsageError(f"--val-fraction must be in [0, 1), got {fraction!r}")
    limit = settings["max_samples"]
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise UsageError(f"--max-samples must be a whole number >= 1, got {limit!r}")
    if not args.print_config:
        if args.out is None:
            raise UsageError("--out is required: the run folder to write")
        check_out(args.out, resume=args.resume, overwrite=args.overwrite)
    TrainConfig.from_dict(settings["train"])  # bad settings fail before the data is read
    named = settings["model"]  # None: chosen by the data when it is read
    sequence = named is not None and get_model_class(named).capabilities.sequence
    given = [f"--{f.replace('_', '-')}" for f in ("column", "tokens", "max_length")]
    given = [flag for flag in given if getattr(args, flag[2:].replace("-", "_")) is not None]
    if given and not sequence:
        raise UsageError(f"{', '.join(given)}: only for sequence models (--model sequence_vae)")
    preprocessing: dict[str, Any] = {"data": settings["data"]}
    if sequence:  # a column of strings as token ids; the tokens go into the model config
        from latentkit.cli.sequence_data import training_data

        data, preprocessing, token_fields = training_data(settings, args)
    else:
        data = load_data(settings, args)  # no --model: chosen by the data (mixed tables)
    if "schema" in data.meta:  # mixed tables: codes of the schema (normalised inside it)
        preprocessing["schema"] = data.meta["schema"]
    elif not data.is_image and not sequence:  # tables: standardise with training statistics
        from latentkit.data.transforms import Standardizer

        scaler = Standardizer().fit(data.x)
        data.x = scaler.transform(data.x).contiguous()
        preprocessing["scaler"] = scaler.to_dict()
    if not data.is_image and not sequence:  # a sequence run records its column in "sequences"
        classes = data.meta.get("class_names")
        preprocessing["columns"] = ColumnRecord(
            tuple(data.meta["columns"]),
            data.meta.get("label"),
            None if classes is None else tuple(classes),
            tuple(data.meta.get("ignored", ())),
            data.meta.get("fill"),
        ).to_dict()
    if limit is not None and len(data) > limit:  # a seeded subset, the same on --resume
        seed_value = settings["train"].get("seed", 0)
        keep = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed_value))
        data = data.subset(keep[:limit].sort().values)
        say(f"--max-samples: {limit} random samples of {data.name}")
    n_val = round(fraction * len(data))
    if sequence:  # sized by the config's own defaults, not by a table's columns
        fields, train_fields = token_fields | settings["model_config"], settings["train"]
    else:
        fields, train_fields = effective(settings, data, len(data) - n_val)
    config = TrainConfig.from_dict(train_fields)
    if args.print_config:
        model_config = get_model_class(settings["model"]).config_class.from_dict(
            {"input_shape": list(data.shape), **fields}
        )
        print(json.dumps(printable(settings, model_config, config), indent=2))
        return 0
    # the initial weights follow --seed too
    model = create_model(settings["model"], data.shape, seed=config.seed, **fields)
    train, val = data, None
    if n_val > 0:
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(config.seed))
        train, val = data.subset(order[n_val:]), data.subset(order[:n_val])
    say(
        f"training {model.model_type} on {data.name}: {len(train)} samples"
        + (f", {len(val)} for validation" if val is not None else "")
    )
    if not data.is_image and not sequence:
        say(_sized(settings, model, config, data))
    if args.overwrite:
        removed = remove_previous_run(args.out)
        if removed:
            say(f"--overwrite: removed {', '.join(removed)} from {args.out}")
    every = max(1, config.epochs // 50)  # about 50 lines however long the run

    class Report(Callback):
        def on_fit_start(self, model: Any, config: Any) -> None:
            # before the first epoch (so before the first checkpoint, and after a resume was
            # checked): a run killed at any moment still says how its data was scaled
            from latentkit.training.distributed import detect

            if detect().is_main:
                write_preprocessing(args.out, preprocessing)

        def on_epoch_end(self, epoch: int, record: dict[str, Any], model: Any) -> None:
            if epoch % every and epoch not in (1, config.epochs):
                return
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


def _sized(settings: dict[str, Any], model: Any, config: Any, data: Any) -> str:
    """One line on the table and the sizes chosen for it (those not given)."""
    given, train = settings["model_config"], settings["train"]
    parts = []
    if "latent_dim" not in given:
        parts.append(f"a code of {model.latent_dim}")
    hidden = (model.config.to_dict().get("network") or {}).get("hidden")
    if hidden and "hidden" not in (given.get("network") or {}):
        parts.append(f"hidden layers {'-'.join(map(str, hidden))}")
    if "batch_size" not in train:
        parts.append(f"batches of {config.batch_size}")
    if "epochs" not in train:
        parts.append(f"{config.epochs} epochs")
    label = data.meta.get("label")
    head = f"table: {data.shape[0]} features" + (f", label {label!r}" if label else "")
    return head + (f"; sized for it: {', '.join(parts)}" if parts else "")
