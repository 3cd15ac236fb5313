"""Retrain the pretrained models from scratch and write their folders and cards (``make zoo``).

::

    python zoo/train.py                     # every model, into src/latentkit/zoo/pretrained
    python zoo/train.py denoiser-gray       # one model (make zoo ZOO=denoiser-gray)
    python zoo/train.py --quick --out DIR   # smoke test in seconds; numbers meaningless

Each model is one stage: it is trained (timed: the card gives the CPU time and the wall time
of the training on this machine, with ``--threads`` torch threads), measured on its test set
by its recipe (``zoo/recipes.py``), and its folder is written into a temporary sibling folder
that then replaces the old one, so a run killed mid-way leaves every model either old or new.
The folder holds ``config.json`` + ``model.safetensors`` (:meth:`model.save`),
``preprocessing.json``, ``card.json`` (every number the card shows) and ``README.md`` (the
card, rendered from ``card.json``). Nothing in a card is typed by hand.

``--quick`` never writes the shipped folder: it needs ``--out`` elsewhere.

The recipes live here, outside the package, because they train (``training/``, ``apps/``)
while ``latentkit.zoo`` only loads (it sits beside ``models/`` in DESIGN.md's layers); like
``benchmarks/``, the scripts import their siblings by bare name.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

__all__ = ["build", "main", "render_card"]


def _machine(threads: int) -> dict[str, Any]:
    import torch

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def build(name: str, out: Path, *, quick: bool = False, threads: int = 1) -> dict[str, Any]:
    """Train, measure and write the pretrained model ``name`` into ``out/name``; its card."""
    import torch
    from recipes import RECIPES

    from latentkit import __version__
    from latentkit.config import write_json

    recipe = RECIPES[name]
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        start, cpu_start = time.perf_counter(), time.process_time()
        model, settings = recipe.train(quick)
        trained, cpu_trained = time.perf_counter(), time.process_time()
        quality, headline = recipe.measure(model, quick)
        measured = time.perf_counter()
    finally:
        torch.set_num_threads(previous)
    card = {
        "name": name,
        "task": recipe.task,
        "summary": recipe.summary,
        "model_type": model.model_type,
        "input_shape": list(model.input_shape),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_data": recipe.train_data,
        "test_data": recipe.test_data,
        "licence": recipe.licence,
        "usage": recipe.usage,
        "recipe": {
            "command": f"make zoo ZOO={name}",
            "python": f"python zoo/train.py {name}",
            "source": f"zoo/recipes.py, RECIPES[{name!r}]",
            "settings": settings,
        },
        "training": {
            "seconds": round(trained - start, 1),
            "cpu_seconds": round(cpu_trained - cpu_start, 1),
            "evaluation_seconds": round(measured - trained, 1),
            **_machine(threads),
        },
        "quality": quality,
        "headline": headline,
        "quick": quick,
        "latentkit_version": __version__,
    }
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=out))
    try:
        extra = {"pretrained": name, "task": recipe.task, **recipe.preprocessing}
        model.save(staging, extra=extra)
        write_json(staging / "preprocessing.json", recipe.preprocessing)
        write_json(staging / "card.json", card)
        (staging / "README.md").write_text(render_card(card))
        staging.chmod(0o755)  # mkdtemp made it private; the folder ships with the package
        _replace(staging, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return card


def _replace(new: Path, target: Path) -> None:
    """Put the folder ``new`` at ``target``, the old one removed only once the new is there."""
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _table(quality: dict[str, Any]) -> str:
    rows = [f"| {k} | {v} |" for k, v in quality.items() if isinstance(v, int | float)]
    notes = [f"- {k}: {v}" for k, v in quality.items() if not isinstance(v, int | float)]
    return "\n".join(["| measure | value |", "|---|---|", *rows, "", *notes])


def render_card(card: dict[str, Any]) -> str:
    """The model card (Markdown) of a ``card.json`` document."""
    name, train, recipe = card["name"], card["training"], card["recipe"]
    minutes = train["seconds"] / 60
    quick = (
        "\n> **Smoke-test build (`--quick`)**: a few steps on a few images; the numbers below "
        "mean nothing.\n"
        if card["quick"]
        else ""
    )
    settings = "\n".join(f"- {k}: {v}" for k, v in recipe["settings"].items())
    return f"""# {name}

{card["summary"]}.
{quick}
- task: `{card["task"]}`; model type `{card["model_type"]}`, input shape {card["input_shape"]},
  {card["parameters"]:,} parameters
- quality: {card["headline"]}

## Use

```python
import latentkit

model = latentkit.pretrained("{name}")
```

```bash
{card["usage"]}
```

## Data and licence

- trained on: {card["train_data"]}
- tested on: {card["test_data"]}
- licence: {card["licence"]}

## Retrain from scratch

```bash
{recipe["command"]}        # or: {recipe["python"]}
```

The recipe is {recipe["source"]} in the latentkit repository; `make zoo` retrains every
pretrained model. Settings:

{settings}

Training took {train["cpu_seconds"] / 60:.1f} CPU-minutes ({minutes:.1f} min of wall time) on
this machine: {train["cpu"]}, {train["cores"]} cores shared with other work (1-minute load
average {train["load_average_1min"]} at the end), {train["torch_threads"]} torch thread(s),
torch {train["torch"]}, Python {train["python"]}, {train["date"]}. Measuring on the test set
took {train["evaluation_seconds"]:.0f} s of wall time.

## Numbers on the test set

Written by the recipe run (`card.json` holds the same numbers), never by hand.

{_table(card["quality"])}
"""


def main(argv: Sequence[str] | None = None) -> int:
    from recipes import RECIPES

    from latentkit.zoo import ROOT

    parser = argparse.ArgumentParser(
        prog="python zoo/train.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="models (default: all)")
    parser.add_argument("--quick", action="store_true", help="smoke test: seconds, tiny models")
    parser.add_argument("--out", type=Path, default=None, help=f"folder (default: {ROOT})")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(RECIPES))
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(RECIPES)}")
    out = args.out or ROOT
    if args.quick and out.resolve() == ROOT.resolve():
        parser.error("--quick never writes the shipped models: pass --out ANOTHER_FOLDER")
    for name in args.names or list(RECIPES):
        print(f"{name}: training ...", flush=True)
        card = build(name, out, quick=args.quick, threads=args.threads)
        minutes = card["training"]["cpu_seconds"] / 60
        print(f"{name}: {minutes:.1f} CPU-min; {card['headline']}", flush=True)
    print(f"wrote {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
