"""``latentkit generate``: new samples from a generative model."""

from __future__ import annotations

import argparse

from latentkit.cli.common import add_command, add_run_arguments, count, number, say, seed

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Draw new samples from the prior (optionally of one class) as a PNG grid or .npy.",
        "  latentkit generate runs/vae -n 64 --temperature 0.8 --out samples.png\n"
        "  latentkit generate runs/cvae -n 16 --label 3 --out threes.png\n"
        "  latentkit generate runs/mol -n 1000 --out molecules.csv   # a sequence model",
    )
    add_run_arguments(parser, data=False)
    parser.add_argument(
        "-n", type=count(1, 100_000), default=64, help="number of samples (default 64)"
    )
    parser.add_argument(
        "--temperature",
        type=number(0, 1000),
        default=1.0,
        help="prior scale; for a sequence model the token temperature, 0 greedy (default 1)",
    )
    parser.add_argument(
        "--label", type=count(0), default=None, help="class, for conditional models"
    )
    parser.add_argument("--seed", type=seed, default=0, help="seed (default 0)")
    parser.add_argument("--out", required=True, help="output file: .png or .npy; a sequence "
                        "model: .csv, a string a row under the column name")  # fmt: skip
    return parser


def run(args: argparse.Namespace) -> int:
    from latentkit.apps.generate import generate
    from latentkit.cli.main import UsageError
    from latentkit.cli.runs import open_run, write_images

    model = open_run(args.run)
    if model.capabilities.sequence:
        return _strings(model, args)
    if args.label is not None and not model.capabilities.conditional:
        raise UsageError(
            f"--label: this {model.model_type} is not conditioned on labels; leave --label out "
            "(train a conditional_vae to generate one class)"
        )
    try:
        samples = generate(
            model, args.n, temperature=args.temperature, y=args.label, seed=args.seed
        )
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    out = write_images(args.out, samples, title=f"samples (temperature {args.temperature:g})")
    say(f"wrote {out}: {args.n} samples")
    return 0


def _strings(model: object, args: argparse.Namespace) -> int:
    """A sequence model's samples as strings in a CSV file (SMILES for a SELFIES model)."""
    import torch

    from latentkit.apps.sequences import sample_strings
    from latentkit.cli.main import UsageError
    from latentkit.cli.sequence_data import output_strings, write_strings

    if args.label is not None:
        raise UsageError("--label: a sequence model is not conditioned on labels")
    generator = torch.Generator().manual_seed(args.seed)
    strings = sample_strings(model, args.n, temperature=args.temperature, generator=generator)
    column, strings = output_strings(model, args.run, strings)
    out = write_strings(args.out, column, strings)
    say(f"wrote {out}: {args.n} strings under the column {column!r}")
    return 0
