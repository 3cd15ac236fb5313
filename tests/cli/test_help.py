"""Every subcommand's --help shows the default of each option that has one."""

from __future__ import annotations

import argparse

import pytest

from latentkit.cli.main import SUBCOMMANDS, build_parser


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", list(SUBCOMMANDS))
def test_help_shows_every_default(command):
    parser = subparsers()[command]
    text = " ".join(parser.format_help().split())
    for action in parser._actions:
        if not action.option_strings or action.default in (None, False, argparse.SUPPRESS):
            continue
        if action.dest == "help":
            continue
        shown = action.default
        if isinstance(shown, list | tuple):
            shown = " ".join(map(str, shown))
        help_text = " ".join((action.help or "").split())
        assert "default" in help_text or f"(default: {shown})" in text, (command, action.dest)
