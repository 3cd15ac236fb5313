"""The ``--label``, ``--features`` and ``--drop`` flags of the commands that read table files.

``latentkit train`` chooses a table's columns with them and records the choice in the run's
``preprocessing.json`` (see :mod:`latentkit.data.columns`); every command that applies the run
reads the same columns from the file it is given without any flag. There the flags only say
how a file differs: ``--label`` names its label column when it is called differently,
``--features`` (the run's features, in any order) or ``--drop`` let it hold other columns.
Values are comma-separated column names (``.npy``/``.npz``: column indices, ``0,3``).
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_column_arguments", "column_names", "selection"]


def column_names(text: str) -> list[str]:
    """An argparse type: comma-separated column names, none of them empty."""
    names = [name.strip() for name in text.split(",")]
    if not text.strip() or any(not name for name in names):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated column names such as a,b,c, got {text!r}"
        )
    return names


def _label(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a column name, got an empty text")
    return text.strip()


def add_column_arguments(parser: argparse.ArgumentParser, *, training: bool = False) -> None:
    """Add ``--label``, ``--features`` and ``--drop`` (the last two exclusive)."""
    group = parser.add_argument_group("table columns (CSV, Parquet, .npy and .npz files)")
    if training:
        label = (
            "label column: not a feature; text labels (e.g. setosa) become classes 0, 1, ... "
            "in sorted order, their names recorded (default: none)"
        )
        features = "feature columns, in this order (default: every column but the label)"
        drop = "columns to leave out of the features, e.g. an id (default: none)"
    else:
        label = "this file's label column (default: the run's label column, when present)"
        features = (
            "the run's feature columns, in any order; other columns of the file are then "
            "ignored (default: the file must hold the run's columns and no others)"
        )
        drop = "columns of this file to ignore (default: none)"
    group.add_argument("--label", type=_label, default=None, metavar="COL", help=label)
    exclusive = group.add_mutually_exclusive_group()
    exclusive.add_argument(
        "--features", type=column_names, default=None, metavar="COL,...", help=features
    )
    exclusive.add_argument("--drop", type=column_names, default=None, metavar="COL,...", help=drop)


def selection(args: argparse.Namespace) -> dict[str, Any]:
    """The column flags given, as the ``columns`` of :func:`latentkit.cli.runs.load_data_for`."""
    chosen = {key: getattr(args, key, None) for key in ("label", "features", "drop")}
    return {key: value for key, value in chosen.items() if value is not None}
