"""``latentkit interpolate``: a decoded walk between the codes of two samples."""

from __future__ import annotations

import argparse

from latentkit.cli.common import add_command, add_run_arguments, count, say

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Interpolate in latent space between pairs of samples (linear or spherical).",
        "  latentkit interpolate runs/vae --data mnist --pairs 0:1 2:3 --steps 10 --out walk.png",
    )
    add_run_arguments(parser)
    parser.add_argument("--pairs", nargs="+", default=["0:1"], help="index pairs A:B")
    parser.add_argument(
        "--steps", type=count(2, 10_000), default=10, help="images per walk (default 10)"
    )
    parser.add_argument("--method", choices=["linear", "spherical"], default="linear",
                        help="path between the codes")  # fmt: skip
    parser.add_argument("--out", required=True, help="output file: .png or .npy")
    return parser


def run(args: argparse.Namespace) -> int:
    import torch

    from latentkit.apps.latent import interpolate
    from latentkit.cli.main import UsageError
    from latentkit.cli.runs import load_data_for, open_run, write_images

    try:
        pairs = [tuple(int(i) for i in p.split(":")) for p in args.pairs]
    except ValueError as exc:
        raise UsageError(f"--pairs takes index pairs like 0:1, got {args.pairs}") from exc
    if any(len(p) != 2 for p in pairs):
        raise UsageError(f"--pairs takes index pairs like 0:1, got {args.pairs}")
    model = open_run(args.run)
    data = load_data_for(model, args.data, args.split, args.run)
    top = max(max(p) for p in pairs)
    if top >= len(data) or min(min(p) for p in pairs) < 0:
        raise UsageError(f"indices must be in [0, {len(data)}), got {args.pairs}")
    a = data.x[torch.tensor([p[0] for p in pairs])]
    b = data.x[torch.tensor([p[1] for p in pairs])]
    y = None
    if model.needs_labels:
        y = data.y[torch.tensor([p[0] for p in pairs])]
    path = interpolate(model, a, b, steps=args.steps, method=args.method, y=y)  # (T, P, ...)
    strip = path.transpose(0, 1).reshape(-1, *path.shape[2:])  # one row per pair
    out = write_images(args.out, strip, nrow=args.steps, title=f"{args.method} interpolation")
    say(f"wrote {out}: {len(pairs)} walk(s) of {args.steps} steps")
    return 0
