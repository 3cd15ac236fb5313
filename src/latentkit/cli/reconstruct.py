"""``latentkit reconstruct``: inputs next to their reconstructions."""

from __future__ import annotations

import argparse

from latentkit.cli.columns import add_column_arguments, selection
from latentkit.cli.common import add_command, add_run_arguments, count, say

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Reconstruct samples: a PNG of inputs above reconstructions, or the array as .npy.",
        "  latentkit reconstruct runs/vae --data mnist -n 16 --out recon.png",
    )
    add_run_arguments(parser)
    parser.add_argument(
        "-n", type=count(1, 10_000), default=16, help="number of samples (default 16)"
    )
    parser.add_argument("--out", required=True, help="output file: .png or .npy")
    add_column_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    import torch

    from latentkit.cli.runs import load_data_for, open_run, write_images

    model = open_run(args.run)
    data = load_data_for(
        model, args.data, args.split, args.run, limit=args.n, columns=selection(args)
    )
    y = data.y if model.needs_labels else None
    with torch.inference_mode():
        recon = model.reconstruct(data.x.to(model.device), y).cpu()
    if args.out.lower().endswith(".png"):
        out = write_images(
            args.out,
            torch.cat([data.x, recon]),
            nrow=len(data),
            title="input (top) / reconstruction (bottom)",
        )
    else:
        out = write_images(args.out, recon)
    say(f"wrote {out}: {len(data)} reconstructions")
    return 0
