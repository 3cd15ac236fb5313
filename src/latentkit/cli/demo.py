"""``latentkit demo``: show what latentkit finds and can do on this machine."""

from __future__ import annotations

import argparse

from latentkit.cli.common import add_command, say

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Run the demonstration: find data, load it and summarise it.",
        "  latentkit demo",
    )
    parser.add_argument("--out", default="demo", help="output folder (default: demo)")
    return parser


def run(args: argparse.Namespace) -> int:
    from latentkit.data.sources import describe_sources

    say("latentkit demo: datasets on this machine")
    for line in describe_sources():
        say(f"  {line}")
    return 0
