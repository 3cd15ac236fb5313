"""Sequence files for the commands: training data of a sequence model, strings in and out.

``latentkit train --data smiles.csv --column smiles --model sequence_vae`` reads one column of
strings (or the records of a FASTA file), splits them into tokens (``--tokens``: smiles,
selfies or chars; SELFIES are written from the SMILES of the column) and trains on their ids.
The tokens travel in the model's ``config.json``; the run's ``preprocessing.json`` records the
column's name and whether SELFIES were made from SMILES, so ``generate`` writes SMILES under
the same column name and ``encode`` / ``interpolate`` read the same column.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = [
    "add_sequence_arguments",
    "model_strings",
    "output_strings",
    "record_of",
    "sequence_dataset",
    "training_data",
    "write_strings",
]

_FASTA = (".fa", ".fasta", ".faa", ".fna")


def add_sequence_arguments(parser: argparse.ArgumentParser) -> None:
    """``--column``, ``--tokens`` and ``--max-length`` of ``latentkit train``."""
    group = parser.add_argument_group("sequences (--model sequence_vae: a CSV column or FASTA)")
    group.add_argument("--column", default=None, metavar="COL",
                       help="the CSV column of strings (default: the first column)")  # fmt: skip
    group.add_argument(
        "--tokens",
        choices=["smiles", "selfies", "chars"],
        default=None,
        help="how strings split into tokens; selfies: SELFIES written from the column's SMILES "
        "(needs latentkit[chem]) (default: chars for FASTA files, else smiles)",
    )
    from latentkit.cli.common import count

    group.add_argument(
        "--max-length",
        type=count(2, 100_000),
        default=None,
        metavar="L",
        help="ids per sequence, the end token included (default: the longest sequence + 1, "
        "at most 1024: a longer sequence needs --max-length)",
    )


def record_of(run: str) -> dict[str, Any]:
    """The sequence record of a run's preprocessing (column name, SELFIES from SMILES)."""
    from latentkit.cli.runs import read_preprocessing

    record = read_preprocessing(run).get("sequences")
    return record if isinstance(record, dict) else {}


def training_data(
    settings: dict[str, Any], args: argparse.Namespace
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """(Dataset of ids ``(N, L)`` as float32, the preprocessing record, model config fields)."""
    import torch

    from latentkit.data.dataset import Dataset
    from latentkit.data.limits import check_data_bytes
    from latentkit.data.sequences import DEFAULT_MAX_LENGTH, Tokenizer, read_strings, to_selfies
    from latentkit.errors import DataError

    name = settings["data"]
    kind = args.tokens or ("chars" if Path(name).suffix.lower() in _FASTA else "smiles")
    strings = read_strings(name, args.column)
    column = args.column or _first_column(name)
    if kind == "selfies":
        strings = to_selfies(strings)
    tokenizer = Tokenizer.fit(strings, kind)
    at, longest = tokenizer.longest(strings)
    if args.max_length is None and longest + 1 > DEFAULT_MAX_LENGTH:
        text = strings[at] if len(strings[at]) <= 60 else strings[at][:57] + "..."
        raise DataError(
            f"{name}: the longest sequence (row {at}, {text!r}) has {longest} tokens, more than "
            f"the default max length of {DEFAULT_MAX_LENGTH} ids holds; pass --max-length "
            f"{longest + 1} if it fits in memory, or drop long rows."
        )
    length = args.max_length or longest + 1
    check_data_bytes(
        name, f"the ids of shape ({len(strings)}, {length}) as int64 and float32",
        len(strings) * length * 12,
    )  # fmt: skip
    ids = tokenizer.encode(strings, length, source=name)  # a too small --max-length: the longest
    data = Dataset(ids.to(torch.float32), None, name, {"column": column, "tokens": kind})
    record = {"column": column, "tokens": kind, "selfies_from_smiles": kind == "selfies"}
    fields = {"tokens": list(tokenizer.tokens), "token_kind": kind}
    return data, {"data": name, "sequences": record}, fields


def _first_column(name: str) -> str:
    if Path(name).suffix.lower() in _FASTA:
        return "sequence"
    import csv

    with open(name, encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))[0].strip()


def model_strings(model: Any, run: str, data: str, column: str | None) -> list[str]:
    """The strings of ``data`` (the run's column unless ``column``), as the model reads them
    (SELFIES written from SMILES when the run did so)."""
    from latentkit.data.sequences import read_strings, to_selfies

    record = record_of(run)
    strings = read_strings(data, column or record.get("column"))
    return to_selfies(strings) if record.get("selfies_from_smiles") else strings


def sequence_dataset(model: Any, run: str, data: str) -> Any:
    """The run's column of ``data`` as a Dataset of token ids ``(N, L)`` (float32)."""
    import torch

    from latentkit.data.dataset import Dataset

    strings = model_strings(model, run, data, None)
    ids = model.tokenizer.encode(strings, model.input_shape[0], source=data)
    return Dataset(ids.to(torch.float32), None, data, {"column": record_of(run).get("column")})


def output_strings(model: Any, run: str, strings: list[str]) -> tuple[str, list[str]]:
    """(column name, strings as the user gave them: SMILES back from SELFIES)."""
    record = record_of(run)
    if record.get("selfies_from_smiles"):
        from latentkit.apps.molecules import to_smiles

        strings = to_smiles(strings, "selfies")
    return str(record.get("column") or "sequence"), strings


def write_strings(path: str, column: str, strings: list[str]) -> Path:
    """One string per row of a CSV file under ``column`` (atomic write)."""
    import csv
    import io

    from latentkit._io import atomic_write_bytes
    from latentkit.cli.main import UsageError

    out = Path(path)
    if out.suffix.lower() != ".csv":
        raise UsageError(f"--out: a sequence model writes a .csv file, got {path!r}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([column])
    writer.writerows([s] for s in strings)
    atomic_write_bytes(out, buffer.getvalue().encode("utf-8"))
    return out
