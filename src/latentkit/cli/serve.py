"""``latentkit serve RUN``: the latent-space explorer in the browser (FastAPI + uvicorn).

The map's data: ``--data NAME`` when given (``none`` for no map); otherwise the dataset the
run was trained on (its ``preprocessing.json``), else ``digits`` for a model of 1x8x8 images
and MNIST for 1x28x28 when its files are already on disk (never downloaded here); other models
get no map and a message on the page. Named datasets use their test split (held-out points),
other sources their ``train`` split, unless ``--split`` says. The data is loaded as every
other command loads it (:func:`latentkit.cli.runs.load_data_for`): a table is standardised
with the run's own scaler, so codes, map and sliders are those the model was trained with.

The app answers only requests whose ``Host`` (and ``Origin``, when sent) is the bound
``--host`` and ``--port`` (with the other spellings of loopback for a loopback host), a guard
against DNS rebinding and cross-site posts; bound to every interface (``0.0.0.0``, ``::``) it
answers to the local address each connection arrived at.
"""

from __future__ import annotations

import argparse

from latentkit.cli.columns import add_column_arguments, selection
from latentkit.cli.common import add_command, add_model_arguments, count, say

__all__ = ["add_parser", "run"]

NAMED_WITH_TEST_SPLIT = {"digits", "mnist", "fashion-mnist", "faces", "faces-color"}


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Explore a trained model's latent space in the browser.",
        "  latentkit serve runs/vae --port 8000 --data mnist\n  then open http://127.0.0.1:8000/",
    )
    add_model_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--data",
        default=None,
        help="dataset drawn on the 2-D map (a name, folder or table file; 'none' for no map); "
        "default: digits for 1x8x8 models, mnist for 1x28x28 when found",
    )
    parser.add_argument("--split", default=None, help="split of --data (default: test if any)")
    parser.add_argument(
        "--points", type=count(1), default=1000, help="data points drawn on the map (default 1000)"
    )
    add_column_arguments(parser)
    return parser


def _default_data(input_shape: tuple[int, ...]) -> tuple[str | None, dict, str | None]:
    """(dataset name, load options, note when none) for a model's input shape."""
    if input_shape == (1, 8, 8):
        return "digits", {}, None
    if input_shape == (1, 28, 28):
        return "mnist", {"download": False}, None
    return None, {}, f"no default dataset for input shape {input_shape}; pass --data NAME."


def run(args: argparse.Namespace) -> int:
    from latentkit.cli.main import UsageError
    from latentkit.cli.runs import load_data_for, open_run, read_preprocessing
    from latentkit.errors import LatentkitError

    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be in 1..65535, got {args.port}")
    allowed_hosts = _allowed_hosts(args.host, args.port)
    model = open_run(args.run)
    shape = tuple(model.input_shape)
    note = None
    recorded = read_preprocessing(args.run).get("data")
    if args.data is None and isinstance(recorded, str) and recorded:
        name, options, explicit = recorded, {}, False
    elif args.data is None:
        name, options, note = _default_data(shape)
        explicit = False
    elif args.data.lower() == "none":
        name, options, note, explicit = None, {}, "started with --data none: no map.", False
    else:
        name, options, explicit = args.data, {}, True
    data = None
    if name is not None:
        split = args.split or ("test" if name.lower() in NAMED_WITH_TEST_SPLIT else "train")
        try:
            data = load_data_for(
                model, name, split, args.run, options=options, columns=selection(args)
            )
        except LatentkitError as exc:
            if explicit:
                raise
            note = f"{name}: {' '.join(str(exc).split())}; no map."
    if data is not None:
        say(f"encoding {min(args.points, len(data))} points of {data.name} for the map")

    import uvicorn

    from latentkit.serve import create_app

    app = create_app(model, data, note=note, max_points=args.points, allowed_hosts=allowed_hosts)
    say(f"latentkit explorer for {args.run}: http://{args.host}:{args.port}/ (Ctrl+C to stop)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _allowed_hosts(host: str, port: int) -> list[str] | None:
    """The ``Host`` the app answers to: the bound address (None for every interface)."""
    from latentkit.cli.main import UsageError
    from latentkit.serve.hosts import WILDCARDS, format_authority, parse_authority

    if host in WILDCARDS:
        return None
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    authority = (bare.lower(), port)
    if parse_authority(format_authority(authority)) != authority:
        raise UsageError(f"--host must be a host name or an IP address, got {host!r}")
    return [format_authority(authority)]
