"""``latentkit encode``: codes of a dataset (posterior means) to .npy, .csv or .parquet."""

from __future__ import annotations

import argparse

from latentkit.cli.columns import add_column_arguments, selection
from latentkit.cli.common import add_command, add_run_arguments, count, say

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Encode a dataset: one code per sample (the posterior mean for a VAE).",
        "  latentkit encode runs/vae --data mnist --split test --out codes.npy",
    )
    add_run_arguments(parser)
    parser.add_argument("--limit", type=count(1), default=None, help="encode the first N samples")
    parser.add_argument("--out", required=True, help="output file: .npy, .csv or .parquet (by "
                        "its suffix; labelled data: a label column after the codes)")  # fmt: skip
    add_column_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from latentkit.cli.runs import labels_for, load_data_for, open_run, write_table
    from latentkit.evaluation import posterior_means

    model = open_run(args.run)
    if model.capabilities.sequence:  # a column of strings
        from latentkit.apps.sequences import encode_strings
        from latentkit.cli.runs import read_preprocessing
        from latentkit.cli.sequence_data import model_strings

        name = args.data or read_preprocessing(args.run).get("data")
        strings = model_strings(model, args.run, name, None)[: args.limit]
        codes = encode_strings(model, strings).numpy()
        out = write_table(args.out, codes, [f"z{i}" for i in range(codes.shape[1])])
        say(f"wrote {out}: {len(strings)} codes of dimension {model.latent_dim}")
        return 0
    data = load_data_for(
        model, args.data, args.split, args.run, limit=args.limit, columns=selection(args)
    )
    codes = posterior_means(model, data.x, y=labels_for(model, data)).numpy()
    columns = [f"z{i}" for i in range(codes.shape[1])]
    if data.y is not None:
        codes = np.column_stack([codes, data.y.numpy()])
        columns.append("label")
    out = write_table(args.out, codes, columns)
    say(f"wrote {out}: {len(data)} codes of dimension {model.latent_dim}")
    return 0
