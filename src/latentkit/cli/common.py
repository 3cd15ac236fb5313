"""Helpers shared by the subcommands: help formatting and output messages."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_command", "say"]


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
