"""Training throughput: latentkit's Trainer against a plain PyTorch loop and pythae.

One process, ``torch.set_num_threads(2)``, MNIST (the first ``--samples`` training images, from
``LATENTKIT_DATA`` or the latentkit cache; random data is refused). The model is an MLP VAE
784-512-256-(32) / 32-256-512-784 with a Bernoulli likelihood, batch 256, Adam (lr 1e-3):

(a) ``latentkit.Trainer``;
(b) a plain loop as tutorials write it: ``DataLoader`` over a ``TensorDataset``, sigmoid
    output with ``binary_cross_entropy``, ``loss.item()`` every step;
(c) pythae's ``TrainingPipeline`` with the same encoder and decoder (``pip install
    latentkit[bench]``);
(d) the machine's fp32 matmul rate (2048 x 2048), for the effective rate of (a):
    6 x parameters x samples/s (forward + backward of a dense network).

Every contender is timed the same way: samples trained divided by the wall time of the whole
call (``Trainer.fit``, the plain loop, the pipeline), set-up included.

Plus a conv VAE on 28 x 28 (latentkit only, no target). Contenders run interleaved for
``--rounds`` rounds and the best round of each is reported, which damps the noise of a
shared machine; an untimed warm-up call of each contender (1024 images) comes first.
``--quick`` trains on 2048 images for a smoke test and writes nothing.

``--device cuda`` runs every contender on the GPU (the plain loop moves each batch there, as
tutorials do; latentkit keeps the data on the device; the matmul rate is the GPU's fp32 rate)
and adds latentkit with bf16 autocast; its table goes to a section of its own. On a GPU an
epoch of 15000 images is a fraction of a second, so pass ``--samples 60000 --epochs 3``.

Usage::

    python benchmarks/train_throughput.py            # writes the section of RESULTS.md
    python benchmarks/train_throughput.py --quick
    python benchmarks/train_throughput.py --device cuda --samples 60000 --epochs 3
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn import functional as F

HERE = Path(__file__).resolve().parent
SECTION = "Training throughput"
LATENT, HIDDEN, BATCH, LR = 32, (512, 256), 256, 1e-3


def load_mnist(limit: int | None) -> Tensor:
    """MNIST training images ``(N, 1, 28, 28)`` in [0, 1]."""
    os.environ.setdefault("LATENTKIT_DATA", str(HERE.parents[1] / "shared" / "data"))
    from latentkit import datasets

    x = datasets.load("mnist", "train").x
    return x[:limit].contiguous() if limit else x


# -- (a) latentkit ---------------------------------------------------------------------------
def latentkit_vae(conv: bool = False) -> nn.Module:
    from latentkit.models.vae import VAE, VAEConfig
    from latentkit.nn import NetworkConfig

    network = NetworkConfig(kind="conv", channels=(32, 64), dense=256) if conv else None
    network = network or NetworkConfig(kind="mlp", hidden=HIDDEN)
    config = VAEConfig(input_shape=(1, 28, 28), latent_dim=LATENT, network=network)
    return VAE(config)


def run_latentkit(
    x: Tensor, device: str, epochs: int, conv: bool = False, amp: str = "none"
) -> float:
    from latentkit.training import TrainConfig, Trainer

    torch.manual_seed(0)
    model = latentkit_vae(conv)
    config = TrainConfig(epochs=epochs, batch_size=BATCH, lr=LR, device=device, progress=False,
                         channels_last=conv, amp=amp)  # fmt: skip
    start = time.perf_counter()
    Trainer(config).fit(model, x)
    return epochs * len(x) / (time.perf_counter() - start)


# -- (b) the plain loop ----------------------------------------------------------------------
class PlainVAE(nn.Module):
    """The PyTorch-examples VAE, widened to 784-512-256-(32)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(784, 512), nn.Linear(512, 256)
        self.fc_mu, self.fc_logvar = nn.Linear(256, LATENT), nn.Linear(256, LATENT)
        self.fc3, self.fc4, self.fc5 = (
            nn.Linear(LATENT, 256),
            nn.Linear(256, 512),
            nn.Linear(512, 784),
        )

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        h = F.relu(self.fc2(F.relu(self.fc1(x.view(-1, 784)))))
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        recon = torch.sigmoid(self.fc5(F.relu(self.fc4(F.relu(self.fc3(z))))))
        return recon, mu, logvar


def run_plain(x: Tensor, device: str, epochs: int) -> float:
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    model = PlainVAE().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loader = DataLoader(TensorDataset(x), batch_size=BATCH, shuffle=True)
    start = time.perf_counter()
    total = 0.0
    for _ in range(epochs):
        for (batch,) in loader:
            batch = batch.to(device)
            optimizer.zero_grad()
            recon, mu, logvar = model(batch)
            bce = F.binary_cross_entropy(recon, batch.view(-1, 784), reduction="sum")
            kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            loss = (bce + kld) / len(batch)
            loss.backward()
            total += loss.item()  # syncs the device every step, as tutorials do
            optimizer.step()
    return epochs * len(x) / (time.perf_counter() - start)


# -- (c) pythae -------------------------------------------------------------------------------
def run_pythae(x: Tensor, device: str, epochs: int) -> float | str:
    try:
        from pythae.models import VAE, VAEConfig
        from pythae.models.base.base_utils import ModelOutput
        from pythae.models.nn import BaseDecoder, BaseEncoder
        from pythae.pipelines import TrainingPipeline
        from pythae.trainers import BaseTrainerConfig
    except ImportError as exc:
        return f"not installed ({exc}); pip install 'latentkit[bench]'"

    class Encoder(BaseEncoder):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(),
                                     nn.Linear(512, 256), nn.ReLU())  # fmt: skip
            self.mu, self.logvar = nn.Linear(256, LATENT), nn.Linear(256, LATENT)

        def forward(self, x: Tensor) -> ModelOutput:
            h = self.net(x)
            return ModelOutput(embedding=self.mu(h), log_covariance=self.logvar(h))

    class Decoder(BaseDecoder):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(nn.Linear(LATENT, 256), nn.ReLU(), nn.Linear(256, 512),
                                     nn.ReLU(), nn.Linear(512, 784), nn.Sigmoid())  # fmt: skip

        def forward(self, z: Tensor) -> ModelOutput:
            return ModelOutput(reconstruction=self.net(z).view(-1, 1, 28, 28))

    torch.manual_seed(0)
    model = VAE(VAEConfig(input_dim=(1, 28, 28), latent_dim=LATENT, reconstruction_loss="bce"),
                encoder=Encoder(), decoder=Decoder())  # fmt: skip
    for name in list(logging.root.manager.loggerDict):  # pythae logs to stdout at INFO
        if name.startswith("pythae"):
            logging.getLogger(name).setLevel(logging.ERROR)
    quiet = contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO())
    with tempfile.TemporaryDirectory() as out, quiet[0], quiet[1]:
        config = BaseTrainerConfig(output_dir=out, num_epochs=epochs, learning_rate=LR,
                                   per_device_train_batch_size=BATCH,
                                   no_cuda=device != "cuda")  # fmt: skip
        pipeline = TrainingPipeline(training_config=config, model=model)
        start = time.perf_counter()
        pipeline(train_data=x)
        return epochs * len(x) / (time.perf_counter() - start)


# -- (d) matmul ------------------------------------------------------------------------------
def run_matmul(device: str, n: int = 2048, reps: int = 6) -> float:
    """fp32 GFLOP/s of an n x n matmul (on CUDA: 8192, many reps; PyTorch leaves TF32 off for
    matmuls unless asked, and this script does not ask)."""
    if device == "cuda":
        n, reps = 8192, 50
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    _sync(device)
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    _sync(device)
    return reps * 2 * n**3 / (time.perf_counter() - start) / 1e9


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def write_results(section: str, table: str, notes: str) -> None:
    sys.path.insert(0, str(HERE))
    from _results import update_results

    command = shlex.join(["python", "benchmarks/train_throughput.py", *sys.argv[1:]])
    update_results(section, command, table, notes)


def _targets(
    runs: dict[str, list[float]], lk_runs: list[float], fraction: float, skipped: dict[str, str]
) -> str:
    """Which of the issue's targets the medians of this run meet."""
    parts = []
    for name, goal in (("pythae TrainingPipeline", 2.0), ("plain PyTorch loop", 1.3)):
        if name in skipped or not runs.get(name):
            parts.append(f"{goal}x {name}: not measured")
            continue
        ratio = statistics.median(a / b for a, b in zip(lk_runs, runs[name], strict=True))
        parts.append(f"{goal}x {name}: {'met' if ratio >= goal else 'not met'} ({ratio:.2f}x)")
    parts.append(
        f"70% of the matmul rate: {'met' if fraction >= 0.7 else 'not met'} ({fraction:.0%})"
    )
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2048 images, one round, no file")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (best kept)")
    parser.add_argument("--samples", type=int, default=15000, help="MNIST images per epoch")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-pythae", action="store_true", help="skip pythae")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per contender per round")
    args = parser.parse_args(argv)
    device, epochs = args.device, args.epochs
    torch.set_num_threads(args.threads)
    x = load_mnist(2048 if args.quick else args.samples)
    rounds = 1 if args.quick else args.rounds

    def pythae(data: Tensor, n: int) -> float | str:
        return "skipped (--no-pythae)" if args.no_pythae else run_pythae(data, device, n)

    contenders = {
        "latentkit Trainer": lambda data, n: run_latentkit(data, device, n),
        "plain PyTorch loop": lambda data, n: run_plain(data, device, n),
        "pythae TrainingPipeline": pythae,
        "latentkit Trainer, conv VAE": lambda data, n: run_latentkit(
            data[: len(data) // 4], device, n, conv=True
        ),
        "matmul": lambda data, n: run_matmul(device),
    }
    if device == "cuda":
        contenders["latentkit Trainer, bf16 autocast"] = lambda data, n: run_latentkit(
            data, device, n, amp="bf16"
        )
    for fn in contenders.values():  # untimed warm-up: imports, kernel and allocator set-up
        fn(x[: 4 * BATCH], 1)
    runs: dict[str, list[float]] = {name: [] for name in contenders}
    skipped: dict[str, str] = {}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    for r in range(rounds):
        for name, fn in contenders.items():
            value = fn(x, epochs)
            if isinstance(value, str):
                skipped[name] = value
            else:
                runs[name].append(value)
            print(f"round {r + 1} {name}: {value if isinstance(value, str) else f'{value:,.0f}'}")
    params = sum(p.numel() for p in latentkit_vae().parameters())
    matmul = max(runs.pop("matmul"))
    lk_runs = runs["latentkit Trainer"]
    lk = statistics.median(lk_runs)
    rows = [
        "| contender | samples/s (median) | samples/s (best) | latentkit speed-up "
        "(median of per-round ratios) |",
        "|---|---:|---:|---:|",
    ]
    for name, values in runs.items():
        if name in skipped:
            rows.append(f"| {name} | {skipped[name]} | | |")
            continue
        median, top = statistics.median(values), max(values)
        if name == "latentkit Trainer" or name.startswith("latentkit Trainer,"):
            ratio = "(reference)" if name == "latentkit Trainer" else "(no target)"
        else:
            ratios = [a / b for a, b in zip(lk_runs, values, strict=True)]
            low, high = min(ratios), max(ratios)
            ratio = f"{statistics.median(ratios):.2f}x (rounds: {low:.2f}x to {high:.2f}x)"
        rows.append(f"| {name} | {median:,.0f} | {top:,.0f} | {ratio} |")
    effective = 6 * params * lk / 1e9
    best_effective = 6 * params * max(lk_runs) / 1e9
    size = 8192 if device == "cuda" else 2048
    rows.append(f"| fp32 matmul {size}x{size} (best) | {matmul:,.1f} GFLOP/s | | |")
    rows.append(
        f"| latentkit effective rate (6 x {params:,} params x samples/s) | "
        f"{effective:,.1f} GFLOP/s = {effective / matmul:.0%} of matmul | "
        f"{best_effective:,.1f} GFLOP/s = {best_effective / matmul:.0%} | |"
    )
    table = "\n".join(rows)
    verdict = _targets(runs, lk_runs, effective / matmul, skipped)
    where = (
        f"{torch.cuda.get_device_name()}, CUDA {torch.version.cuda}, torch {torch.__version__}"
        if device == "cuda"
        else f"{args.threads} threads"
    )
    notes = (
        f"{where}, {len(x)} MNIST images (conv VAE: {len(x) // 4}), batch {BATCH}, "
        f"Adam, {epochs} epoch(s) per contender per round, {rounds} interleaved rounds. "
        f"1-minute load average at the start: {load:.1f} on {os.cpu_count()} cores: the "
        "machine is shared, so a contender's best round mostly says when the neighbours were "
        "quiet; the per-round ratio compares contenders that ran back to back.\n\n"
        f"Targets in this run: {verdict}.\n\n" + (CUDA_NOTE if device == "cuda" else CPU_NOTE)
    )
    print(table)
    print(notes)
    if not args.quick:
        write_results(SECTION + (" (CUDA)" if device == "cuda" else ""), table, notes)
    return 0


CUDA_NOTE = (
    "GPU run: the speed limits described for the CPU table do not carry over, and this run "
    "was not profiled; the rows are what the GPU measured, nothing more."
)
CPU_NOTE = (
    "What limits the speed: a profile of one step (quiet machine) puts about three "
    "quarters of its time in the matmuls (mm/addmm, forward and backward), which already "
    "run at roughly 80% of the 2048x2048 rate; the rest is memory-bound elementwise work "
    "(ReLU and its backward, BCE-with-logits, sampling, KL) and the optimizer (fused Adam: "
    "0.43 ms per step at 2 threads on a quiet machine, against 3.2 ms for foreach and 4.6 ms "
    "for the default per-parameter Adam that the plain loop and pythae use, in a step of "
    "about 15 ms). A bare loop of the same model steps "
    "(no Trainer) runs at the Trainer's speed, so the loop adds no overhead; torch.compile "
    "and flushing denormals gave no measurable gain. With the matmuls fixed by the model, "
    "2x pythae would need pythae's non-matmul work to exceed its matmul time, which it "
    "does not on a CPU: the Trainer's savings (per-sample DataLoader indexing, .item() "
    "syncs, unfused Adam) matter most on a GPU, where the matmuls are cheap."
)


if __name__ == "__main__":
    raise SystemExit(main())
