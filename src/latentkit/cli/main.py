"""Entry point of the ``latentkit`` command.

Each subcommand lives in its own module of this package and provides ``add_parser`` (which
must not import torch, so that ``latentkit --help`` answers at once) and ``run(args) -> int``.
Errors a user can fix (:class:`~latentkit.errors.LatentkitError`, bad flags, an ``OSError``
such as a missing file or a full disk) become one line on stderr and exit status 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

#: subcommand name -> module inside ``latentkit.cli``; listed in the order of ``--help``.
#: A value "module:function" names the function that adds the parser (default add_parser).
SUBCOMMANDS: dict[str, str] = {
    "datasets": "datasets_cmd",
    "train": "train",
    "evaluate": "evaluate",
    "encode": "encode",
    "reconstruct": "reconstruct",
    "generate": "generate_cmd",
    "interpolate": "interpolate_cmd",
    "denoise": "restore:add_denoise",
    "inpaint": "restore:add_inpaint",
    "colorize": "restore:add_colorize",
    "synthesize": "tables_cmd:add_synthesize",
    "impute": "tables_cmd:add_impute",
    "anomaly": "anomaly_cmd",
    "report": "report_cmd",
    "serve": "serve",
    "models": "models_cmd",
    "demo": "demo",
}

EPILOG = """examples:
  latentkit datasets                      list the datasets latentkit can find
  latentkit demo                          train a VAE and write demo/report.html
  latentkit <command> --help              help and an example for one command
"""


class UsageError(Exception):
    """A bad flag or argument: reported in one line with exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (no usage dump) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def build_parser() -> OneLineParser:
    """The top-level parser with every subcommand attached."""
    from latentkit import __version__

    parser = OneLineParser(
        prog="latentkit",
        description="Autoencoders and variational autoencoders: train, apply, measure.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"latentkit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=OneLineParser
    )
    for name, target in SUBCOMMANDS.items():
        module_name, _, adder = target.partition(":")
        module = importlib.import_module(f"latentkit.cli.{module_name}")
        sub = getattr(module, adder or "add_parser")(subparsers, name)
        if "_run" not in sub._defaults:
            sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    from latentkit.errors import LatentkitError

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        return int(args._run(args) or 0)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (LatentkitError, OSError) as exc:  # OSError: missing files, full or read-only disk
        if debug:
            raise
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())
