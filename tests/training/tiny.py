"""Tiny models and data for the training tests (fast on two CPU cores)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import torch
from torch import Tensor, nn

from latentkit.config import Config
from latentkit.data.dataset import Dataset
from latentkit.models.base import AbstractModel, LossOutput
from latentkit.training import Callback


@dataclasses.dataclass(frozen=True)
class TinyConfig(Config):
    input_shape: tuple[int, ...] = (8,)  # one data point
    latent_dim: int = 2  # size of the code
    hidden: int = 16  # width of the single hidden layer
    variational: bool = False  # Gaussian posterior + KL (a VAE) instead of a plain AE
    nan_at_call: int = -1  # the loss returns NaN on this call of loss() (-1: never)


class TinyModel(AbstractModel):
    """A one-hidden-layer MLP autoencoder (or VAE) with a squared-error reconstruction."""

    model_type = "tiny"
    config_class = TinyConfig

    def __init__(self, config: TinyConfig) -> None:
        super().__init__(config)
        d = int(torch.tensor(config.input_shape).prod())
        out = 2 * config.latent_dim if config.variational else config.latent_dim
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(d, config.hidden), nn.Tanh(),
                                 nn.Linear(config.hidden, out))  # fmt: skip
        self.dec = nn.Sequential(nn.Linear(config.latent_dim, config.hidden), nn.Tanh(),
                                 nn.Linear(config.hidden, d))  # fmt: skip
        self.calls = 0

    def encode(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.enc(x)[:, : self.config.latent_dim]

    def decode(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.dec(z).view(-1, *self.config.input_shape)

    def loss(self, x, *, y=None, target=None, step=None, generator=None) -> LossOutput:
        self.calls += 1
        target = x if target is None else target
        h = self.enc(x)  # (N, latent) or (N, 2 * latent)
        kl = None
        if self.config.variational:
            mean, log_var = h.chunk(2, dim=-1)
            eps = torch.randn(mean.shape, generator=generator, device=mean.device)
            z = mean + (0.5 * log_var).exp() * eps
            kl = 0.5 * (mean.pow(2) + log_var.exp() - 1 - log_var).sum(-1)  # (N,)
        else:
            z = h
        # the decoder network itself: decode() is inference (no graph, by the model contract)
        recon = (self.dec(z).view_as(target) - target).pow(2).flatten(1).sum(-1)  # (N,)
        if self.training and self.calls == self.config.nan_at_call:
            recon = recon * float("nan")
        total = recon if kl is None else recon + kl
        return LossOutput(total.mean(), recon, kl)


def tiny_data(n: int = 64, d: int = 8, seed: int = 0) -> Dataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, d, generator=g)
    return Dataset(x, None, "tiny")


def make_model(seed: int = 0, **fields) -> TinyModel:
    torch.manual_seed(seed)
    return TinyModel(TinyConfig(**fields))


#: the run compared between one process and two ``gloo`` processes
DDP_CONFIG = dict(epochs=2, batch_size=16, lr=1e-2, device="cpu", progress=False, seed=3)


def weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class Interrupt(Exception):
    pass


class StopAfter(Callback):
    """Simulates a crash right after the checkpoint of epoch ``n`` was written."""

    def __init__(self, n: int) -> None:
        self.n = n

    def on_epoch_end(self, epoch, record, model):
        if epoch == self.n:
            raise Interrupt


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for torchrun's rendezvous)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REPO = Path(__file__).resolve().parents[2]
TORCHRUN = Path(sys.executable).parent / "torchrun"
#: skip marker arguments for tests that launch torchrun
NO_TORCHRUN = shutil.which("torchrun", path=str(TORCHRUN.parent)) is None


def run_ddp_worker(out: Path, device: str, timeout: float) -> subprocess.CompletedProcess:
    """Two ranks of ``ddp_worker.py`` under torchrun (``gloo`` on cpu, ``nccl`` on cuda); rank
    0 writes ``out/ddp.safetensors``, ``out/ddp.loss`` and the run folder ``out/run``."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO),
           "LATENTKIT_TEST_DEVICE": device}  # fmt: skip
    env.pop("CI", None)
    command = [str(TORCHRUN), "--nnodes=1", "--nproc_per_node=2", "--master_addr=127.0.0.1",
               f"--master_port={free_port()}", str(REPO / "tests" / "training" / "ddp_worker.py"),
               str(out / "ddp.safetensors"), str(out / "run")]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
