"""``latentkit synthesize`` and ``latentkit impute``: synthetic rows and filled gaps of a mixed
table, from a run trained on it (``latentkit train --data FILE.csv``).

Both read the run's schema (``preprocessing.json``) and write CSV or Parquet files with the
training table's columns, dtypes and categories (:mod:`latentkit.apps.synthesize`,
:mod:`latentkit.apps.impute`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from latentkit.cli.common import add_command, add_model_arguments, count, say, seed

__all__ = ["add_impute", "add_synthesize", "run_impute", "run_synthesize"]

_SUFFIXES = (".csv", ".parquet")


def _condition(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected COLUMN=VALUE such as sex=Female, got {text!r}")
    return name.strip(), value.strip()


def add_synthesize(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Draw synthetic rows of a mixed table (same columns, types and categories).",
        "  latentkit synthesize runs/adult -n 1000 --out syn.csv\n"
        "  latentkit synthesize runs/adult -n 100 --where sex=Female --out women.csv",
    )
    add_model_arguments(parser)
    parser.add_argument("-n", type=count(1, 10_000_000), default=1000, help="rows (default 1000)")
    parser.add_argument(
        "--where",
        type=_condition,
        action="append",
        default=None,
        metavar="COL=VALUE",
        help="keep only rows with this level of a binary or categorical column, drawn by "
        "rejection from the model (exact, refused when too rare); repeatable (default: none)",
    )
    parser.add_argument("--seed", type=seed, default=0, help="seed (default 0)")
    parser.add_argument("--out", required=True, help="output file: .csv or .parquet")
    parser.set_defaults(_run=run_synthesize)
    return parser


def add_impute(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Fill the missing values of a table with the run's model (MIWAE importance weights).",
        "  latentkit impute runs/adult --data holes.csv --out filled.csv\n"
        "  latentkit impute runs/adult --data holes.csv --draws 5 --out filled.csv",
    )
    add_model_arguments(parser)
    parser.add_argument("--data", required=True, help="table file (.csv, .parquet) with gaps")
    parser.add_argument(
        "--draws",
        type=count(0, 1000),
        default=0,
        help="0: one imputation (weighted mean / most likely level); M: M multiple "
        "imputations, rows of each marked by an 'imputation' column (default 0)",
    )
    parser.add_argument(
        "--samples", type=count(1, 100_000), default=100, help="importance samples (default 100)"
    )
    parser.add_argument("--seed", type=seed, default=0, help="seed (default 0)")
    parser.add_argument("--out", required=True, help="output file: .csv or .parquet")
    parser.set_defaults(_run=run_impute)
    return parser


def _write(frame: Any, path: str) -> Path:
    from latentkit._io import atomic_path
    from latentkit.cli.main import UsageError

    out = Path(path)
    if out.suffix.lower() not in _SUFFIXES:
        raise UsageError(f"cannot write {out.name}: the extension must be .csv or .parquet")
    with atomic_path(out) as tmp:
        if out.suffix.lower() == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
    return out


def _tabular(run: str) -> tuple[Any, Any]:
    from latentkit.cli.main import UsageError
    from latentkit.cli.runs import open_run, run_schema

    model = open_run(run)
    if not model.capabilities.tabular:
        raise UsageError(
            f"{run} holds a {model.model_type}, not a model of a mixed table; train one with "
            "'latentkit train --data FILE.csv' (tabular_vae)"
        )
    return model, run_schema(run)


def run_synthesize(args: argparse.Namespace) -> int:
    import torch

    from latentkit.apps.synthesize import synthesize
    from latentkit.cli.main import UsageError

    model, schema = _tabular(args.run)
    where = dict(args.where or [])
    generator = torch.Generator().manual_seed(args.seed)
    try:
        rows = synthesize(model, schema, args.n, where=where, generator=generator)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    out = _write(rows, args.out)
    say(f"wrote {out}: {len(rows)} synthetic rows of {len(schema)} columns")
    return 0


def run_impute(args: argparse.Namespace) -> int:
    import pandas as pd
    import torch

    from latentkit.apps.impute import impute
    from latentkit.data.schema import read_frame

    model, schema = _tabular(args.run)
    frame = read_frame(args.data)
    frame.columns = [str(c) for c in frame.columns]
    codes = torch.from_numpy(schema.encode(frame, args.data))
    gaps = int(torch.isnan(codes).sum())
    generator = torch.Generator().manual_seed(args.seed)
    filled = impute(
        model, codes, k=args.samples, draws=args.draws, schema=schema, generator=generator
    )
    if args.draws == 0:
        result = schema.complete(frame, filled.numpy())
    else:
        parts = [
            schema.complete(frame, f.numpy()).assign(imputation=i) for i, f in enumerate(filled)
        ]
        result = pd.concat(parts, ignore_index=True)
    out = _write(result[[*frame.columns, *(["imputation"] if args.draws else [])]], args.out)
    draws = f" in {args.draws} imputations" if args.draws else ""
    say(f"wrote {out}: {len(frame)} rows, {gaps} missing values filled{draws}")
    return 0
