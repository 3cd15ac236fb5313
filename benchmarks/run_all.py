"""Run every benchmark script in this folder, one after the other (``make bench``).

Each script prints its table and updates its section of ``benchmarks/RESULTS.md``;
``--quick`` runs each in its smoke-test mode (small data, no RESULTS.md update where the
script says so).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "data_loading.py",
    "train_throughput.py",
    "serve_load.py",
    "mnist_likelihood.py",
    "ae_vs_pca.py",
    "sample_quality.py",
    "denoising.py",
    "inpainting.py",
    "colorization.py",
    "semi_supervised.py",
    "anomaly_oneclass.py",
    "anomaly_tabular.py",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-test mode of each script")
    parser.add_argument("only", nargs="*", help="run only these scripts (e.g. data_loading)")
    args = parser.parse_args()
    chosen = [s for s in SCRIPTS if not args.only or s.removesuffix(".py") in args.only]
    failed = []
    for script in chosen:
        command = [sys.executable, str(HERE / script), *(["--quick"] if args.quick else [])]
        print(f"== {script}: {' '.join(command[1:])}", flush=True)
        start = time.perf_counter()
        if subprocess.run(command).returncode != 0:
            failed.append(script)
        print(f"== {script}: {time.perf_counter() - start:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
