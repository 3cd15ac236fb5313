"""Benchmark: batches per second of InMemoryBatches vs DataLoader over a TensorDataset.

Both shuffle every epoch. ``DataLoader`` indexes one sample at a time and collates with
``torch.stack``; ``InMemoryBatches`` gathers a whole batch with one ``index_select``. Data:
MNIST train when it is found on this machine (never downloaded here), else the bundled digits.

    python benchmarks/data_loading.py            # full epochs, best of 3
    python benchmarks/data_loading.py --quick    # a few hundred batches, best of 2
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import markdown_table, print_table, update_results
from latentkit.data.batches import InMemoryBatches
from latentkit.data.mnist import MNIST
from latentkit.datasets import Dataset, load

BATCH_SIZES = (128, 512)


def pick_data(root: str | None) -> tuple[Dataset, str, float]:
    """MNIST train if present (no download), else digits train; and the load time in s."""
    start = time.perf_counter()
    if MNIST.find("train", root) is not None:
        data = load("mnist", "train", root, download=False)
        label = "MNIST train (60000 x 1 x 28 x 28)"
    else:
        data = load("digits", "train")
        label = f"digits train ({len(data)} x 1 x 8 x 8; MNIST not found)"
    return data, label, time.perf_counter() - start


def time_epoch(batches: Iterable, max_batches: int | None) -> tuple[int, int, float]:
    """Iterate (touching every batch) and return (batches, samples, seconds)."""
    count = samples = 0
    start = time.perf_counter()
    for x, _y in batches:
        samples += len(x)
        count += 1
        if max_batches is not None and count >= max_batches:
            break
    return count, samples, time.perf_counter() - start


def best_rate(
    make: Callable[[], Iterable], repeats: int, max_batches: int | None
) -> tuple[float, float]:
    """Best batches/s and samples/s over ``repeats`` epochs."""
    best = (0.0, 0.0)
    for _ in range(repeats):
        count, samples, seconds = time_epoch(make(), max_batches)
        if count / seconds > best[0]:
            best = (count / seconds, samples / seconds)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer batches and repeats")
    parser.add_argument("--root", default=None, help="folder searched first for MNIST")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    repeats, max_batches = (2, 200) if args.quick else (3, None)

    data, label, load_seconds = pick_data(args.root)
    x, y = data.x, data.y
    dataset = TensorDataset(x, y)
    rows = []
    for batch_size in BATCH_SIZES:
        generator = torch.Generator().manual_seed(0)

        def ours_epoch(bs: int = batch_size, g: torch.Generator = generator) -> Iterable:
            return InMemoryBatches([x, y], bs, shuffle=True, generator=g)

        def loader_epoch(bs: int = batch_size, g: torch.Generator = generator) -> Iterable:
            return DataLoader(dataset, batch_size=bs, shuffle=True, generator=g)

        ours = best_rate(ours_epoch, repeats, max_batches)
        loader = best_rate(loader_epoch, repeats, max_batches)
        for name, (batches_s, samples_s) in (
            ("InMemoryBatches", ours),
            ("DataLoader(TensorDataset)", loader),
        ):
            rows.append([name, batch_size, batches_s, samples_s, batches_s / loader[0]])
    table = markdown_table(
        ["iterator", "batch size", "batches/s", "samples/s", "speed-up vs DataLoader"], rows
    )
    command = " ".join(["python benchmarks/data_loading.py", *(argv or sys.argv[1:])])
    scope = "first 200 batches" if args.quick else "full epochs"
    notes = (
        f"Data: {label}, loaded by `latentkit.datasets.load` in {load_seconds:.2f} s "
        f"(gzip decompression included). Shuffle on, best of {repeats} runs over {scope}; "
        f"DataLoader with num_workers=0. torch threads: {torch.get_num_threads()}."
    )
    print_table(f"Data loading: {label}", table)
    path = update_results("Data loading", command, table, notes)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
