"""``latentkit report``: one self-contained HTML report of a run."""

from __future__ import annotations

import argparse

from latentkit.cli.common import add_command, add_run_arguments, count, say

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Write a self-contained HTML report: config, metrics and every figure that applies.",
        "  latentkit report runs/vae --data mnist --out report.html",
    )
    add_run_arguments(parser)
    parser.add_argument("--points", type=count(2), default=2000, help="evaluation points")
    parser.add_argument("--out", required=True, help="the HTML file to write")
    return parser


def run(args: argparse.Namespace) -> int:
    from latentkit.cli.main import UsageError
    from latentkit.cli.runs import load_data_for, open_run
    from latentkit.viz.report import build_report

    if not args.out.lower().endswith((".html", ".htm")):
        raise UsageError(f"--out must end in .html, got {args.out}")
    model = open_run(args.run)
    data = load_data_for(model, args.data, args.split, args.run)
    out = build_report(args.run, data, args.out, eval_points=args.points)
    say(f"wrote {out}")
    return 0
