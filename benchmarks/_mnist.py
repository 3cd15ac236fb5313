"""Shared pieces of the MNIST quality benchmarks (likelihood, AE vs PCA, sample quality).

- :func:`load_mnist`: MNIST images ``(N, 1, 28, 28)`` in [0, 1] from ``LATENTKIT_DATA`` (the
  shared data folder beside the repository by default); never downloads, random data refused.
- :class:`PlainVAE` and :func:`train_plain`: the baseline as a PyTorch tutorial writes it
  (MLP 784-512-256-(32), sigmoid Bernoulli decoder, one-sample ELBO, ``DataLoader`` over a
  ``TensorDataset``, ``torch.optim.Adam(lr=1e-3)``, batch 128), trained for a wall-clock budget
  with a fresh Bernoulli binarization of every batch. It also offers
  ``log_importance_weights`` so that latentkit's IWAE estimator scores it exactly like
  latentkit's own models.
- :func:`fit_for_minutes`: trains a latentkit model with ``Trainer`` for a wall-clock budget.
  The cosine schedule needs the number of epochs up front, so one epoch on a 10% subset first
  measures samples/s and the epochs are chosen to fill the budget; a callback then stops early
  if the machine slows down (no overrun of more than half an epoch) and runs the caller's
  evaluation at checkpoints in training time. Evaluation time is excluded from training time.
- :func:`write_section`, :func:`command_line`, :func:`save_grid`: RESULTS.md and figures.
"""

from __future__ import annotations

import math
import os
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from latentkit.models.base import Capabilities

HERE = Path(__file__).resolve().parent
FIGURES = HERE / "figures"

Checkpoint = Callable[[float, int], None]  # (training seconds so far, epoch) -> None


def load_mnist(split: str, limit: int | None = None) -> tuple[Tensor, Tensor]:
    """MNIST ``split`` images ``(N, 1, 28, 28)`` in [0, 1] and labels ``(N,)``."""
    os.environ.setdefault("LATENTKIT_DATA", str(HERE.parents[1] / "shared" / "data"))
    from latentkit import datasets

    data = datasets.load("mnist", split, download=False)
    x, y = data.x, data.y
    assert y is not None
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return x.contiguous(), y.contiguous()


# -- the plain PyTorch baseline ----------------------------------------------------------------
class PlainVAE(nn.Module):
    """The PyTorch-examples VAE, widened to 784-512-256-(latent); decoder outputs logits.

    Not a latentkit model: it declares the one capability latentkit's likelihood estimators
    read (``log_importance_weights``), so both run through the same evaluation code.
    """

    capabilities = Capabilities(likelihood_bound=True)

    def __init__(self, latent: int = 32) -> None:
        super().__init__()
        self.latent = latent
        self.fc1, self.fc2 = nn.Linear(784, 512), nn.Linear(512, 256)
        self.fc_mu, self.fc_logvar = nn.Linear(256, latent), nn.Linear(256, latent)
        self.fc3, self.fc4, self.fc5 = (
            nn.Linear(latent, 256),
            nn.Linear(256, 512),
            nn.Linear(512, 784),
        )

    @property
    def device(self) -> torch.device:
        return self.fc1.weight.device

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = F.relu(self.fc2(F.relu(self.fc1(x.reshape(-1, 784)))))  # (N, 256)
        return self.fc_mu(h), self.fc_logvar(h)  # (N, latent) each

    def decode_logits(self, z: Tensor) -> Tensor:
        return self.fc5(F.relu(self.fc4(F.relu(self.fc3(z)))))  # (N, 784)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode_logits(z), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, temperature: float = 1.0, generator: Any = None) -> Tensor:
        """Decoded means (pixel probabilities) of ``n`` prior draws, ``(n, 1, 28, 28)``."""
        z = temperature * torch.randn(n, self.latent, generator=generator)
        return torch.sigmoid(self.decode_logits(z)).view(n, 1, 28, 28)

    def log_importance_weights(
        self, x: Tensor, k: int, *, generator: Any = None, **_: Any
    ) -> Tensor:
        """``log p(x, z_i) - log q(z_i | x)`` for k posterior draws, shape ``(k, N)``."""
        mu, logvar = self.encode(x)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn((k, *mu.shape), generator=generator)  # (k, N, latent)
        z = mu + std * eps
        logits = self.decode_logits(z.reshape(-1, self.latent)).view(k, len(x), 784)
        target = x.reshape(1, -1, 784).expand_as(logits)
        log_px = -F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(-1)
        half_log_2pi = 0.5 * math.log(2 * math.pi)
        log_pz = (-0.5 * z.square() - half_log_2pi).sum(-1)
        log_qz = (-0.5 * eps.square() - 0.5 * logvar - half_log_2pi).sum(-1)
        return log_px + log_pz - log_qz


@dataclass
class PlainRun:
    seconds: float = 0.0  # training wall time, evaluations excluded
    steps: int = 0
    epochs: float = 0.0


def train_plain(
    model: PlainVAE,
    x: Tensor,
    budget_s: float,
    *,
    seed: int = 0,
    batch_size: int = 128,
    lr: float = 1e-3,
    checkpoint_s: float | None = None,
    on_checkpoint: Checkpoint | None = None,
) -> PlainRun:
    """Tutorial-style training loop for ``budget_s`` seconds of training wall time."""
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    shuffle = torch.Generator().manual_seed(seed)
    loader = DataLoader(TensorDataset(x), batch_size=batch_size, shuffle=True, generator=shuffle)
    run = PlainRun()
    next_check = checkpoint_s if checkpoint_s else math.inf
    start = time.perf_counter()
    paused = 0.0
    epoch = 0
    while run.seconds < budget_s:
        epoch += 1
        for i, (batch,) in enumerate(loader):
            model.train()
            batch = torch.bernoulli(batch)  # dynamic binarization
            optimizer.zero_grad()
            logits, mu, logvar = model(batch)
            bce = F.binary_cross_entropy_with_logits(logits, batch.view(-1, 784), reduction="sum")
            kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            loss = (bce + kld) / len(batch)
            loss.backward()
            optimizer.step()
            run.steps += 1
            run.seconds = time.perf_counter() - start - paused
            run.epochs = epoch - 1 + (i + 1) / len(loader)
            if run.seconds >= next_check and on_checkpoint is not None:
                t = time.perf_counter()
                on_checkpoint(run.seconds, run.epochs)
                paused += time.perf_counter() - t
                next_check += checkpoint_s or math.inf
            if run.seconds >= budget_s:
                break
    return run


# -- latentkit under a wall-clock budget -------------------------------------------------------
@dataclass
class BudgetRun:
    seconds: float = 0.0  # training wall time, evaluations excluded
    epochs: int = 0
    planned_epochs: int = 0
    samples_per_second: float = 0.0  # of the calibration epoch (fixed epochs: median epoch)
    records: list[dict[str, Any]] = field(default_factory=list)


def _budget_callback(budget_s: float, checkpoint_s: float | None, on_checkpoint: Any, run: Any):
    from latentkit.training.callbacks import Callback

    class Budget(Callback):
        """Stops before the budget is overrun by more than half an epoch; runs checkpoints."""

        def on_fit_start(self, model: Any, config: Any) -> None:
            self.start, self.paused, self.last = time.perf_counter(), 0.0, 0.0
            self.next_check = checkpoint_s if checkpoint_s else math.inf

        def on_epoch_end(self, epoch: int, record: dict[str, Any], model: Any) -> bool:
            seconds = time.perf_counter() - self.start - self.paused
            epoch_s, self.last = seconds - self.last, seconds
            run.seconds, run.epochs = seconds, epoch
            if seconds >= self.next_check and on_checkpoint is not None:
                t = time.perf_counter()
                on_checkpoint(seconds, epoch)
                self.paused += time.perf_counter() - t
                while self.next_check <= seconds:
                    self.next_check += checkpoint_s or math.inf
            return seconds + 0.5 * epoch_s > budget_s

    return Budget()


def fit_for_minutes(
    make_model: Callable[[int], nn.Module],
    x: Tensor,
    budget_s: float,
    train_options: dict[str, Any],
    *,
    checkpoint_s: float | None = None,
    on_checkpoint: Checkpoint | None = None,
    epochs: int | None = None,
) -> tuple[nn.Module, BudgetRun]:
    """Train ``make_model(total_steps)`` with latentkit's Trainer for about ``budget_s``.

    ``train_options`` are TrainConfig fields (batch_size, lr, scheduler, binarize, seed, ...).
    With ``epochs``, the run is that many epochs whatever the time (for comparisons that must
    not depend on the machine's load), and ``budget_s`` is ignored.
    """
    from latentkit.training import TrainConfig, Trainer

    options = {"progress": False, "device": "cpu", **train_options}
    run = BudgetRun()
    if epochs is not None:
        budget_s, run.planned_epochs = math.inf, epochs
    else:
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(1))
        calib = x[order[: len(x) // 10]]
        Trainer(TrainConfig(epochs=1, **options)).fit(make_model(1), calib)  # warm the kernels
        history = Trainer(TrainConfig(epochs=1, **options)).fit(make_model(1), calib)
        run.samples_per_second = float(history.records[-1]["samples_per_second"])
        epoch_s = len(x) / run.samples_per_second
        run.planned_epochs = max(1, int(0.97 * budget_s / epoch_s))
    steps = run.planned_epochs * math.ceil(len(x) / options["batch_size"])
    model = make_model(steps)
    callback = _budget_callback(budget_s, checkpoint_s, on_checkpoint, run)
    config = TrainConfig(epochs=run.planned_epochs, **options)
    history = Trainer(config, callbacks=[callback]).fit(model, x)
    run.records = history.records
    if epochs is not None:  # no calibration epoch: the median epoch of the run itself
        rates = sorted(float(r["samples_per_second"]) for r in history.records)
        run.samples_per_second = rates[len(rates) // 2]
    return model, run


# -- output ------------------------------------------------------------------------------------
def command_line() -> str:
    """The command that reproduces this run, as typed from the repository root."""
    script = Path(sys.argv[0]).resolve()
    try:
        shown = script.relative_to(HERE.parent)
    except ValueError:
        shown = script
    return shlex.join(["python", str(shown), *sys.argv[1:]])


def write_section(path: Path, section: str, table: str, notes: str) -> None:
    sys.path.insert(0, str(HERE))
    from _results import update_results

    update_results(section, command_line(), table, notes, path=path)
    print(f"updated section {section!r} of {path}")


def save_grid(images: Tensor, path: Path, nrow: int = 8) -> Path:
    """A small grayscale PNG of ``images`` ``(N, 1, H, W)`` in [0, 1], ``nrow`` per row."""
    from PIL import Image

    from latentkit.viz.grids import image_grid

    picture = image_grid(images.clamp(0, 1), nrow=nrow)[..., 0]  # (H', W')
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round(picture * 255).astype(np.uint8), mode="L").save(path, optimize=True)
    return path


def add_run_arguments(parser: Any, *, threads: int = 2, seed_help: str | None = None) -> None:
    """Flags every benchmark script takes: threads, seed, quick mode and where results go."""
    parser.add_argument("--threads", type=int, default=threads, help="torch threads")
    parser.add_argument("--seed", type=int, default=0, help=seed_help)
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke test, no files")
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--figures", type=Path, default=FIGURES)


def add_common_arguments(parser: Any, minutes: float) -> None:
    """Flags every wall-clock-budgeted MNIST quality script takes: ``--minutes`` and the rest."""
    parser.add_argument("--minutes", type=float, default=minutes, help="training budget")
    add_run_arguments(parser)


def machine_line(threads: int) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"torch {torch.__version__}, {threads} threads on {os.cpu_count()} cores, "
        f"1-minute load average {load:.2f} at the end"
    )
