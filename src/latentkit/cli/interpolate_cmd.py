"""``latentkit interpolate``: a decoded walk between the codes of two samples."""

from __future__ import annotations

import argparse
from typing import Any

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
    parser.add_argument("--out", required=True, help="output file: .png or .npy; a sequence "
                        "model: .csv of strings (molecules: valid steps only)")  # fmt: skip
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
    if model.capabilities.sequence:
        return _strings(model, args, pairs)
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


def _strings(model: object, args: argparse.Namespace, pairs: list[tuple[int, ...]]) -> int:
    """Walks between rows of a sequence file, written as a CSV of (pair, t, string)."""
    import torch

    from latentkit.apps.molecules import to_smiles
    from latentkit.apps.sequences import decode_strings, encode_strings, interpolate_molecules
    from latentkit.cli.main import UsageError
    from latentkit.cli.runs import read_preprocessing
    from latentkit.cli.sequence_data import model_strings, output_strings

    if args.method != "linear":
        raise UsageError("--method: sequence models interpolate linearly")
    name = args.data or read_preprocessing(args.run).get("data")
    strings = model_strings(model, args.run, name, None)
    if max(max(p) for p in pairs) >= len(strings) or min(min(p) for p in pairs) < 0:
        raise UsageError(f"indices must be in [0, {len(strings)}), got {args.pairs}")
    molecules = model.tokenizer.kind in ("smiles", "selfies")  # type: ignore[attr-defined]
    rows: list[tuple[int, float, str]] = []
    for number, (a, b) in enumerate(pairs):
        if molecules:  # valid molecules only, each shown once
            ends = to_smiles([strings[a], strings[b]], model.tokenizer.kind)  # type: ignore[attr-defined]
            walk = interpolate_molecules(model, ends[0], ends[1], steps=args.steps)
            rows += [(number, t, s) for t, s in walk]
        else:
            z = encode_strings(model, [strings[a], strings[b]])
            t = torch.linspace(0, 1, args.steps)
            path = (1 - t)[:, None] * z[0] + t[:, None] * z[1]
            decoded = decode_strings(model, path)
            rows += [(number, float(ti), s) for ti, s in zip(t.tolist(), decoded, strict=True)]
    column = output_strings(model, args.run, [])[0]
    out = _write_walks(args.out, column, rows)
    say(f"wrote {out}: {len(pairs)} walk(s), {len(rows)} steps kept")
    return 0


def _write_walks(path: str, column: str, rows: list[tuple[int, float, str]]) -> Any:
    import csv
    import io
    from pathlib import Path

    from latentkit._io import atomic_write_bytes
    from latentkit.cli.main import UsageError

    if Path(path).suffix.lower() != ".csv":
        raise UsageError(f"--out: a sequence model writes a .csv file, got {path!r}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["pair", "t", column])
    writer.writerows([(p, f"{t:.4f}", s) for p, t, s in rows])
    atomic_write_bytes(path, buffer.getvalue().encode("utf-8"))
    return Path(path)
