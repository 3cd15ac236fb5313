"""Helpers shared by the subcommands: help formatting, output messages, and the argument
types that validate every number a user types where it enters (one-line errors, exit 2).

Counts have upper bounds as well as lower ones: a count is the size of something the command
allocates (samples to draw, importance samples per point, images per walk), so an absurd value
is refused before it exhausts memory. The bounds are far above what any run needs.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_COUNT",
    "SEED_MAX",
    "add_command",
    "add_model_arguments",
    "add_run_arguments",
    "count",
    "epoch_printer",
    "fraction",
    "model_ref",
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


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description and examples as written and shows every option's default
    (unless the help text already states it, or the default is None/False: not set)."""

    def _format_action(self, action: argparse.Action) -> str:
        if not action.help and action.option_strings and not _unset(action.default):
            action = copy.copy(action)  # a flag without help text still shows its default
            action.help = "one of the choices" if action.choices else "a value"
        return super()._format_action(action)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if not action.option_strings or _unset(default) or "default" in text:
            return text
        shown = " ".join(map(str, default)) if isinstance(default, list | tuple) else default
        return f"{text} (default: {str(shown).replace('%', '%%')})"


def _unset(default: object) -> bool:
    return default is None or default is False or default is argparse.SUPPRESS


def add_command(
    subparsers: argparse._SubParsersAction, name: str, summary: str, examples: str
) -> argparse.ArgumentParser:
    """Add a subcommand whose ``--help`` shows every default and ends with ``examples``."""
    return subparsers.add_parser(
        name,
        help=summary,
        description=summary,
        epilog=f"example:\n{examples}",
        formatter_class=HelpFormatter,
    )


def say(message: str) -> None:
    """Print a status line for the user (the CLI is the only place that prints)."""
    print(message, file=sys.stdout, flush=True)


def model_ref(text: str) -> str:
    """An argparse type: a model folder, or a pretrained name turned into its folder.

    A path that exists wins; a pretrained name (``latentkit models``) gives its folder; any
    other text is kept, so that opening it says the folder does not exist and lists the
    pretrained names (after the other flags were checked). An empty text means no model was
    given (the default of ``--model`` where a command has no default model).
    """
    from latentkit import zoo

    if not text:
        raise argparse.ArgumentTypeError(
            "no model given: pass a run folder or a pretrained model as RUN or --model "
            f"(pretrained: {', '.join(zoo.names())})"
        )
    if Path(text).exists() or text not in zoo.names():
        return text
    return str(zoo.path(text))


class _ModelAction(argparse.Action):
    """Stores RUN or ``--model`` into ``args.run``; refuses both; an absent RUN leaves it."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # type: ignore[no-untyped-def]
        if values is None:  # RUN left out: --model, or its default, decides
            return
        given = getattr(namespace, "_model_given", None)
        if given is not None:
            raise argparse.ArgumentError(
                self, f"the model is given twice ({given} and {values}); pass RUN or --model"
            )
        namespace._model_given = values
        setattr(namespace, self.dest, values)


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The model to apply, into ``args.run``: a positional RUN or ``--model NAME_OR_RUN``.

    Either is a run folder or a pretrained model's name (a path that exists wins). Without
    either, the command's default pretrained model is used (``latentkit.zoo.DEFAULT_MODELS``,
    looked up by the command's name), and commands without one ask for a model.
    """
    from latentkit import zoo

    command = parser.prog.split()[-1]
    default = zoo.DEFAULT_MODELS.get(command)
    hint = f"default: the pretrained {default}" if default else "no default"
    # --model first: its default (a string, converted by model_ref only when neither RUN nor
    # --model was given) is what args.run starts as
    parser.add_argument("--model", dest="run", metavar="NAME_OR_RUN", type=model_ref,
                        action=_ModelAction, default=default or "",
                        help=f"run folder or pretrained model instead of RUN ({hint})")  # fmt: skip
    parser.add_argument("run", nargs="?", default=None, metavar="RUN", type=model_ref,
                        action=_ModelAction, help="run folder written by 'latentkit train', or a "
                        "pretrained model ('latentkit models')")  # fmt: skip


def add_run_arguments(parser: argparse.ArgumentParser, *, data: bool = True) -> None:
    """The model (:func:`add_model_arguments`) and, with ``data``, ``--data`` and ``--split``."""
    add_model_arguments(parser)
    if data:
        parser.add_argument("--data", default=None, help="dataset, image folder or table file "
                            "(default: the run's own)")  # fmt: skip
        parser.add_argument("--split", default=None,
                            help="split (default: test for named datasets, all rows of a file "
                            "or folder)")  # fmt: skip


def epoch_printer(epochs: int, prefix: str = "") -> Any:
    """A training callback that prints one line per epoch: the losses and the seconds taken
    (imported lazily: building the parsers must not import torch)."""
    from latentkit.training import Callback

    class EpochPrinter(Callback):
        def on_epoch_end(self, epoch: int, record: dict[str, Any], model: Any) -> None:
            losses = ", ".join(
                f"{k} {v:.4f}" for k, v in record.items() if k.endswith("_loss") and v is not None
            )
            say(f"{prefix}epoch {epoch}/{epochs}: {losses} ({record['seconds']:.1f} s)")

    return EpochPrinter()
