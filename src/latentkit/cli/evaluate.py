"""``latentkit evaluate``: metrics of a trained model on a dataset split."""

from __future__ import annotations

import argparse
import json
from typing import Any

from latentkit.cli.common import add_command, add_run_arguments, say

__all__ = ["add_parser", "evaluate_model", "run"]


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Evaluate a trained model: loss terms, reconstruction error, ELBO and IWAE NLL.",
        "  latentkit evaluate runs/vae --data mnist --split test --json",
    )
    add_run_arguments(parser)
    parser.add_argument("--k", type=int, default=100, help="importance samples for the NLL")
    parser.add_argument("--limit", type=int, default=None, help="evaluate the first N samples")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampling")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def evaluate_model(model: Any, x: Any, y: Any = None, *, k: int = 100, seed: int = 0) -> dict:
    """Mean loss terms, squared reconstruction error and, for VAEs, ELBO, NLL, active units."""
    import torch

    from latentkit.evaluation import active_units, elbo, log_likelihood

    model.eval()
    metrics: dict[str, Any] = {"samples": len(x)}
    sums: dict[str, float] = {}
    with torch.inference_mode():
        for start in range(0, len(x), 512):
            xb = x[start : start + 512].to(model.device)
            yb = (
                None
                if y is None or not model.needs_labels
                else y[start : start + 512].to(model.device)
            )
            out = model.loss(xb, y=yb, generator=torch.Generator().manual_seed(seed))
            for name, term in out.per_sample().items():
                sums[name] = sums.get(name, 0.0) + float(term.sum())
            recon = model.reconstruct(xb, yb)
            sums["squared_error"] = sums.get("squared_error", 0.0) + float(
                (recon - xb).square().flatten(1).sum(1).sum()
            )
    metrics.update({name: value / len(x) for name, value in sums.items()})
    if hasattr(model, "log_importance_weights") and not model.needs_labels:
        g = torch.Generator().manual_seed(seed)
        metrics["negative_elbo"] = float(-elbo(model, x, samples=1, generator=g).mean())
        metrics[f"nll_iwae_k{k}"] = float(-log_likelihood(model, x, k=k, generator=g).mean())
        if hasattr(model, "posterior") and model.model_type != "discrete_vae":
            metrics["active_units"] = active_units(model, x)
    return metrics


def run(args: argparse.Namespace) -> int:
    from latentkit.cli.main import UsageError
    from latentkit.cli.runs import load_data_for, open_run

    if args.k < 1:
        raise UsageError(f"--k must be >= 1, got {args.k}")
    model = open_run(args.run)
    data = load_data_for(model, args.data, args.split, args.run, limit=args.limit)
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
