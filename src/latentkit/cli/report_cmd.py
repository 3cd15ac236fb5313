"""``latentkit report``: one self-contained HTML report of a run.

The data is loaded as every command loads it (:func:`latentkit.cli.runs.load_data_for`: a
table is standardised with the run's scaler). For a table, the scaler's inverse goes to the
report too, so that the most anomalous rows are listed with the values of the file.
"""

from __future__ import annotations

import argparse

from latentkit.cli.columns import add_column_arguments, selection
from latentkit.cli.common import add_command, add_run_arguments, count, say

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Write a self-contained HTML report: config, metrics and every figure that applies "
        "(for a table: errors per feature, a latent map, anomaly scores and the worst rows).",
        "  latentkit report runs/vae --data mnist --out report.html\n"
        "  latentkit report runs/table --data table.csv --out report.html",
    )
    add_run_arguments(parser)
    parser.add_argument("--points", type=count(2), default=2000, help="evaluation points")
    parser.add_argument("--out", required=True, help="the HTML file to write")
    add_column_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from latentkit.cli.main import UsageError
    from latentkit.cli.runs import load_data_for, open_run
    from latentkit.viz.report import build_report

    if not args.out.lower().endswith((".html", ".htm")):
        raise UsageError(f"--out must end in .html, got {args.out}")
    model = open_run(args.run)
    data = load_data_for(model, args.data, args.split, args.run, columns=selection(args))
    to_original = None if data.is_image else _inverse_scaler(args.run)
    out = build_report(args.run, data, args.out, eval_points=args.points, to_original=to_original)
    say(f"wrote {out}")
    return 0


def _inverse_scaler(run: str):
    """The run's scaler's ``inverse_transform`` (None when the run has no scaler).

    ``load_data_for`` has already applied (and so checked) the same scaler."""
    from latentkit.cli.runs import read_preprocessing
    from latentkit.data.transforms import scaler_from_dict

    state = read_preprocessing(run).get("scaler")
    return scaler_from_dict(state).inverse_transform if state else None
