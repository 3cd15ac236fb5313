"""``latentkit anomaly``: score images or table rows; write a file with a score and a flag.

One output row per input row: ``index`` (the row's position in the data: for a table file,
0-based with the header not counted), ``score`` (higher = more anomalous), ``is_anomaly`` (1
for the top ``--contamination`` share) and, for tables in ``.csv``/``.parquet``,
``top_features``: the names of the 3 features with the largest squared reconstruction error in
that row (standardised units, as the model sees them), worst first, joined by ``;``. A table
is read with the run's own columns and scaling (:func:`latentkit.cli.runs.load_data_for`).

The one-class scores of :mod:`latentkit.apps.oneclass` (``--method neighbors``, ``standardized``
and their sums such as ``neighbors+reconstruction``; they do not favour simple images as the
likelihoods do) compare each sample with the run's own training data (its dataset's training
split, or all rows of its file or folder), which is read for that: at most
:data:`MAX_REFERENCE` of its rows (seeded), so that memory and the neighbour search stay
bounded. When the rows scored are the reference's own rows (a table file scored with its
defaults), each row's own code is left out of its neighbours.
"""

from __future__ import annotations

import argparse
from typing import Any

from latentkit.cli.columns import add_column_arguments, selection
from latentkit.cli.common import add_command, add_run_arguments, count, number, say

__all__ = ["add_parser", "run"]

#: features named per row in ``top_features``
TOP_FEATURES = 3
#: the scores of latentkit.apps.anomaly, then those of latentkit.apps.oneclass
METHODS = ("reconstruction", "elbo", "nll", "latent_distance")
#: latentkit.apps.oneclass.METHODS without "complexity" (see that module: its units do not
#: match the likelihoods of these models)
ONECLASS_METHODS = ("neighbors", "standardized", "neighbors+reconstruction",
                    "neighbors+standardized", "neighbors+reconstruction+standardized")  # fmt: skip
#: most training rows read as the one-class reference (a seeded subset beyond)
MAX_REFERENCE = 20_000


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Score each sample (higher = more anomalous) and flag the top --contamination share.",
        "  latentkit anomaly runs/vae --data mnist --split test --method elbo --out scores.csv\n"
        "  latentkit anomaly runs/table-ae --data rows.csv --contamination 0.02 --out flags.csv",
    )
    add_run_arguments(parser)
    parser.add_argument(
        "--method", choices=[*METHODS, *ONECLASS_METHODS], default="reconstruction",
        help="score (default: reconstruction); neighbors, standardized and their sums: against "
        f"the codes and errors of the run's training data (at most {MAX_REFERENCE:,} rows)",
    )  # fmt: skip
    parser.add_argument("--contamination", default=0.05,
                        type=number(0, 0.5, low_open=True, high_open=True),
                        help="share of rows to flag (default 0.05)")  # fmt: skip
    parser.add_argument("--normal-class", type=count(0), default=None,
                        help="labelled data: report AUROC with this class as normal")  # fmt: skip
    parser.add_argument("--limit", type=count(1), default=None, help="score the first N samples")
    parser.add_argument("--out", required=True, help="output file: .csv, .parquet or .npy (index, "
                        "score, is_anomaly; tables add top_features, except in .npy)")  # fmt: skip
    add_column_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from latentkit.apps import anomaly
    from latentkit.cli.main import UsageError
    from latentkit.cli.runs import labels_for, load_data_for, open_run, write_table

    model = open_run(args.run)
    data = load_data_for(
        model, args.data, args.split, args.run, limit=args.limit, columns=selection(args)
    )
    reference, y = None, labels_for(model, data)
    # per-feature errors of a table: its top features, and the reconstruction score (their sum)
    errors = None if data.is_image else anomaly.feature_errors(model, data.x, y=y)  # (N, D)
    if args.method == "latent_distance":
        reference = anomaly.LatentGaussian.fit(anomaly.posterior_means(model, data.x, y=y))
    try:
        if args.method in ONECLASS_METHODS:
            scores = _oneclass_scores(model, data, y, args)
        elif args.method == "reconstruction" and errors is not None:
            scores = errors.sum(1)
        else:
            scores = anomaly.anomaly_scores(model, data.x, args.method, reference=reference, y=y)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--method {args.method}: {exc}") from exc
    threshold = anomaly.threshold_from_contamination(scores, args.contamination)
    flags = (scores > threshold).numpy()
    table = np.column_stack([np.arange(len(scores)), scores.numpy(), flags.astype(np.int64)])
    text = None
    if errors is not None and not args.out.lower().endswith(".npy"):
        names = data.meta.get("columns") or [str(j) for j in range(errors.shape[1])]
        top = anomaly.top_features(errors, TOP_FEATURES).tolist()
        text = {"top_features": [";".join(names[j] for j in row) for row in top]}
    out = write_table(args.out, table, ["index", "score", "is_anomaly"], text=text)
    say(f"flagged {int(flags.sum())} of {len(flags)} samples (score > {threshold:.4g})")
    if args.normal_class is not None:
        if data.y is None:
            raise UsageError("--normal-class needs labelled data")
        present = set(data.y.unique().tolist())
        if args.normal_class not in present or len(present) < 2:
            raise UsageError(
                f"--normal-class {args.normal_class}: AUROC needs that class and at least one "
                f"other among the labels; found classes {sorted(present)[:20]}"
            )
        metrics = anomaly.detection_metrics(scores, data.y != args.normal_class)
        say(f"AUROC {metrics['auroc']:.4f}, average precision {metrics['average_precision']:.4f}")
    say(f"wrote {out}")
    return 0


def _oneclass_scores(model: Any, data: Any, y: Any, args: argparse.Namespace) -> Any:
    """Scores of :func:`latentkit.apps.oneclass.oneclass_scores` of ``data.x`` (with labels
    ``y`` for a conditional model), a float32 tensor of shape (N,)."""
    import torch

    from latentkit.apps import oneclass
    from latentkit.cli.runs import labels_for, load_data_for

    train = load_data_for(model, None, "train", args.run, columns=selection(args))
    x_train, y_train = train.x, labels_for(model, train)
    if len(x_train) > MAX_REFERENCE:  # bounded memory and neighbour search
        keep = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(0))
        keep = keep[:MAX_REFERENCE].sort().values
        x_train, y_train = x_train[keep], None if y_train is None else y_train[keep]
    # the rows scored are the reference's own rows (e.g. the run's table scored by default)
    same = len(data.x) <= len(x_train) and torch.equal(data.x, x_train[: len(data.x)])
    say(
        f"reference: the codes and errors of {len(x_train)} training samples"
        + (" (the rows scored: each left out of its own neighbours)" if same else "")
    )
    reference = oneclass.TrainingReference.fit(model, x_train, y=y_train)
    return oneclass.oneclass_scores(
        model, data.x, reference, args.method, y=y, training_rows=same
    ).float()
