"""Helpers shared by the subcommands: help formatting, output messages, and the argument
types that validate every number a user types where it enters (one-line errors, exit 2).

Counts have upper bounds as well as lower ones: a count is the size of something the command
allocates (samples to draw, importance samples per point, images per walk), so an absurd value
is refused before it exhausts memory. The bounds are far above what any run needs.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable

__all__ = [
    "MAX_COUNT",
    "SEED_MAX",
    "add_command",
    "add_run_arguments",
    "count",
    "fraction",
    "number",
    "say",
    "seed",
]

#: Largest count any flag accepts (samples, importance samples, points, steps).
MAX_COUNT = 1_000_000
#: Seeds are integers in [0, SEED_MAX] (what every random generator latentkit uses accepts).
SEED_MAX = 2**32 - 1


def _integer(text: str) -> int:
    value = text.strip()
    if not value.isascii() or not value.lstrip("+-").isdigit() or len(value) > 20:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(value)


def count(low: int = 1, high: int = MAX_COUNT) -> Callable[[str], int]:
    """An argparse type: a whole number in ``[low, high]``."""

    def parse(text: str) -> int:
        value = _integer(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in [{low}, {high}], got {value}")
        return value

    parse.__name__ = "count"  # argparse names the type in its messages
    return parse


def seed(text: str) -> int:
    """An argparse type: a seed, a whole number in ``[0, SEED_MAX]``."""
    value = _integer(text)
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"a seed must be in [0, {SEED_MAX}], got {value}")
    return value


def number(
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> Callable[[str], float]:
    """An argparse type: a finite number in the interval ``low .. high`` (open ends if asked)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and (value >= high if high_open else value > high)
        if not math.isfinite(value) or too_low or too_high:
            left = "(" if low_open else "["
            right = ")" if high_open or high is None else "]"
            span = f"{left}{'-inf' if low is None else f'{low:g}'}, "
            span += f"{'inf' if high is None else f'{high:g}'}{right}"
            raise argparse.ArgumentTypeError(f"must be a finite number in {span}, got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


def fraction(text: str) -> float:
    """An argparse type: a number in [0, 1]."""
    return number(0.0, 1.0)(text)


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
