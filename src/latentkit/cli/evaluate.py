"""``latentkit evaluate``: metrics of a trained model on a dataset split."""

from __future__ import annotations

import argparse
import json
from typing import Any

from latentkit.cli.columns import add_column_arguments, selection
from latentkit.cli.common import add_command, add_run_arguments, count, say, seed

__all__ = ["add_parser", "evaluate_model", "run"]


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Evaluate a trained model: loss terms, reconstruction error, ELBO and IWAE NLL.",
        "  latentkit evaluate runs/vae --data mnist --split test --json",
    )
    add_run_arguments(parser)
    parser.add_argument(
        "--k", type=count(1, 100_000), default=100, help="importance samples for the NLL"
    )
    parser.add_argument("--limit", type=count(1), default=None, help="evaluate the first N samples")
    parser.add_argument("--seed", type=seed, default=0, help="seed of the sampling")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_column_arguments(parser)
    return parser


def evaluate_model(model: Any, x: Any, y: Any = None, *, k: int = 100, seed: int = 0) -> dict:
    """Mean loss terms, squared reconstruction error and, for VAEs, ELBO, NLL, active units
    (the summary of :func:`latentkit.evaluation.evaluate`)."""
    from latentkit.evaluation import evaluate

    return evaluate(model, x, y, k=k, seed=seed).summary


def run(args: argparse.Namespace) -> int:
    from latentkit.cli.runs import load_data_for, open_run

    model = open_run(args.run)
    data = load_data_for(
        model, args.data, args.split, args.run, limit=args.limit, columns=selection(args)
    )
    metrics = {"data": data.name, "split": args.split, "model_type": model.model_type}
    metrics.update(evaluate_model(model, data.x, data.y, k=args.k, seed=args.seed))
    if args.json:
        print(json.dumps(metrics))
    else:
        width = max(len(k) for k in metrics)
        for key, value in metrics.items():
            shown = f"{value:.4f}" if isinstance(value, float) else str(value)
            say(f"{key:<{width}}  {shown}")
    return 0
