"""``latentkit datasets``: list the named datasets and where each one was found."""

from __future__ import annotations

import argparse

from latentkit.cli.common import add_command, say

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "List the named datasets and where latentkit finds them.",
        "  latentkit datasets --root ~/data",
    )
    parser.add_argument("--root", default=None, help="a folder to search first")
    return parser


def run(args: argparse.Namespace) -> int:
    from latentkit.data.sources import describe_sources

    for line in describe_sources(root=args.root):
        say(line)
    return 0
