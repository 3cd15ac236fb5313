"""Benchmark: latency and throughput of the explorer's API under concurrent load.

Starts the app (``latentkit.serve.create_app``) with uvicorn on 127.0.0.1 and a free port,
then sends POST requests from several threads, each on one keep-alive connection, and reports
p50/p99 latency, requests per second and the count of 5xx answers (which must be 0; the
script exits 1 otherwise). Every scenario stops at its request count or its time limit,
whichever comes first. The model is a saved model folder (``--run``) or, by default, an
untrained VAE on 1x28x28 images with a 16-dimensional code (the MNIST size; weights do not
change the cost of a forward pass).

    python benchmarks/serve_load.py                    # 2000 requests per scenario, 8 threads
    python benchmarks/serve_load.py --quick            # 300 requests per scenario
    python benchmarks/serve_load.py --run runs/vae     # a trained model
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import latentkit
from _results import markdown_table, print_table, update_results
from latentkit.models.registry import create_model
from latentkit.serve import create_app
from latentkit.serve.server import BackgroundServer


def scenarios(latent_dim: int) -> list[tuple[str, str, dict]]:
    """(name, path, body) of each measured request kind."""
    rng = np.random.default_rng(0)
    code = rng.standard_normal(latent_dim).round(3).tolist()
    return [
        ("decode 1 code (slider)", "/api/decode", {"z": [code]}),
        ("decode 16 codes", "/api/decode", {"z": [code] * 16}),
        ("sample 8", "/api/sample", {"n": 8, "temperature": 1.0, "seed": 1}),
        ("invalid (wrong dims)", "/api/decode", {"z": [code[:-1] or [0.0, 0.0]]}),
    ]


def hammer(
    port: int, path: str, body: dict, requests: int, threads: int, time_limit: float
) -> dict:
    """Send ``requests`` POSTs from ``threads`` threads; latencies in seconds and statuses."""
    payload = json.dumps(body).encode()
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.perf_counter() + time_limit

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json"}
        while time.perf_counter() < deadline:
            with lock:
                if next(counter, None) is None:
                    break
            start = time.perf_counter()
            try:
                connection.request("POST", path, body=payload, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 599  # a failed connection counts as a server error
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                statuses.append(status)
        connection.close()

    start = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - start
    lat = np.asarray(latencies) * 1000
    codes = np.asarray(statuses)
    return {
        "done": len(latencies),
        "p50": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "p99": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
        "rps": len(latencies) / wall,
        "4xx": int(((codes >= 400) & (codes < 500)).sum()),
        "5xx": int((codes >= 500).sum()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", default=None, help="a saved model folder (default: untrained)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per scenario")
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per scenario")
    parser.add_argument("--quick", action="store_true", help="300 requests per scenario")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    requests = 300 if args.quick else args.requests

    if args.run:
        model, label = latentkit.load(args.run), f"model {args.run}"
    else:
        torch.manual_seed(0)
        model = create_model("vae", (1, 28, 28), latent_dim=16)
        label = "untrained VAE, input 1x28x28, latent_dim 16, default MLP"
    app = create_app(model)
    rows = []
    with BackgroundServer(app) as server:
        warm = scenarios(model.latent_dim)[0]
        hammer(server.port, warm[1], warm[2], 50, 2, 30.0)  # warm-up, not reported
        for name, path, body in scenarios(model.latent_dim):
            r = hammer(server.port, path, body, requests, args.threads, args.time_limit)
            rows.append(
                [name, r["done"], args.threads, r["p50"], r["p99"], r["rps"], r["4xx"], r["5xx"]]
            )
    headers = ["scenario", "requests", "threads", "p50 ms", "p99 ms", "req/s", "4xx", "5xx"]
    table = markdown_table(headers, rows)
    print_table("Explorer API under load", table)
    server_errors = sum(row[-1] for row in rows)
    incomplete = [row[0] for row in rows if row[1] < requests]
    notes = (
        f"{label}; uvicorn (one worker) and the client threads share this machine. "
        f"Each scenario: up to {requests} POSTs, {args.threads} threads with keep-alive "
        f"connections, at most {args.time_limit:.0f} s. The model runs under one lock, so "
        "requests are served one at a time; 'invalid' requests are refused by validation "
        "(422) before reaching the model."
    )
    if incomplete:
        notes += f" Stopped by the time limit: {', '.join(incomplete)}."
    if not args.no_write:
        command = "python benchmarks/serve_load.py" + (" --quick" if args.quick else "")
        update_results("Explorer API load", command, table, notes)
    if server_errors:
        print(f"FAIL: {server_errors} server errors (5xx)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
