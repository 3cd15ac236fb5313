"""Helpers shared by the subcommands: help formatting and output messages."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_command", "add_run_arguments", "say"]


def add_command(
    subparsers: argparse._SubParsersAction, name: str, summary: str, examples: str
) -> argparse.ArgumentParser:
    """Add a subcommand whose ``--help`` ends with ``examples``."""
    return subparsers.add_parser(
        name,
        help=summary,
        description=summary,
        epilog=f"example:\n{examples}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def say(message: str) -> None:
    """Print a status line for the user (the CLI is the only place that prints)."""
    print(message, file=sys.stdout, flush=True)


def add_run_arguments(parser: argparse.ArgumentParser, *, data: bool = True) -> None:
    """The positional run folder and, with ``data``, the ``--data`` and ``--split`` options."""
    parser.add_argument("run", help="run folder written by 'latentkit train'")
    if data:
        parser.add_argument("--data", default=None, help="dataset, image folder or table file "
                            "(default: the run's own)")  # fmt: skip
        parser.add_argument("--split", default=None,
                            help="split (default: test for named datasets, all rows of a file "
                            "or folder)")  # fmt: skip
