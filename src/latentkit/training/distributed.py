"""Data-parallel training with ``torch.distributed`` (DDP), launched by ``torchrun``.

The same :meth:`Trainer.fit <latentkit.training.trainer.Trainer.fit>` runs in one process or
in many: when ``torchrun`` has set ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` (and
``WORLD_SIZE > 1``), the trainer joins the process group (``nccl`` on CUDA, ``gloo`` on CPU),
wraps the model in :class:`~torch.nn.parallel.DistributedDataParallel`, and each rank reads
its ``batch_size / world_size`` rows of every *global* batch
(:class:`~latentkit.data.batches.InMemoryBatches` with ``shard``). Gradients averaged over the
ranks then equal the gradient of one process on the global batch, so the weights match
single-process training up to floating-point summation order.

Details:

- DDP hooks into ``forward``, but models are trained through ``model.loss``. :class:`LossModule`
  is a tiny module whose ``forward`` calls ``model.loss`` and returns its
  :class:`~latentkit.models.base.LossOutput` unchanged; that module is what DDP (and
  ``torch.compile``) wraps for training, and what validation calls unwrapped, so both go
  through one loss path. DDP hands the dataclass back as it is: it inspects a forward's output
  only with ``find_unused_parameters`` (or ``static_graph``), which latentkit does not set.
- The last, smaller global batch of an epoch is dropped under DDP (``drop_last``): split
  unevenly it would weight the ranks' gradients wrongly and could leave a rank with no rows.
  Validation has no gradients and covers every row (per-rank sums are all-reduced).
- Only rank 0 writes files; metrics, the NaN flag and validation sums are all-reduced.
- Each rank draws its own model noise and data-transform randomness (seeded with its rank);
  shuffling uses the same seed on every rank so that the shards partition each global batch.
"""

from __future__ import annotations

import dataclasses
import logging
import os

import torch
import torch.distributed as dist
from torch import Tensor, nn

from latentkit.errors import TrainingError
from latentkit.models.base import AbstractModel, LossOutput

__all__ = ["DistInfo", "LossModule", "all_reduce", "detect", "setup", "teardown", "wrap"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DistInfo:
    """Where this process sits in a distributed run (``world_size == 1``: not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        """True when more than one process trains."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True on the process that writes files and logs (rank 0)."""
        return self.rank == 0

    @property
    def shard(self) -> tuple[int, int] | None:
        """``(rank, world_size)`` for :class:`InMemoryBatches`, or None in one process."""
        return (self.rank, self.world_size) if self.enabled else None


def detect() -> DistInfo:
    """Read ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` (set by ``torchrun``).

    Raises
    ------
    TrainingError
        If the variables are present but not integers, or inconsistent.
    """
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
        return DistInfo(rank, world, int(os.environ.get("LOCAL_RANK", rank)))
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError as exc:
        raise TrainingError(
            f"RANK, WORLD_SIZE and LOCAL_RANK must be integers ({exc}); launch with torchrun."
        ) from exc
    if world < 1 or not 0 <= rank < world:
        raise TrainingError(f"inconsistent RANK={rank} for WORLD_SIZE={world}.")
    return DistInfo(rank, world, local)


def setup(info: DistInfo, device: torch.device) -> bool:
    """Join the process group if needed; return True when this call created it."""
    if not info.enabled or dist.is_initialized():
        return False
    if not dist.is_available():  # pragma: no cover - builds without distributed support
        raise TrainingError("WORLD_SIZE > 1 but this PyTorch build has no torch.distributed.")
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)
    logger.info("joined %s process group: rank %d of %d", backend, info.rank, info.world_size)
    return True


def teardown(created: bool) -> None:
    """Leave the process group if :func:`setup` created it."""
    if created and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce(tensor: Tensor, info: DistInfo, op: str = "sum") -> Tensor:
    """Sum (or max) ``tensor`` over the ranks in place; a no-op in one process."""
    if info.enabled:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM if op == "sum" else dist.ReduceOp.MAX)
    return tensor


class LossModule(nn.Module):
    """``forward`` = ``model.loss``: the one loss path of training (wrapped by DDP and
    ``torch.compile``) and validation (called as it is).

    Returns
    -------
    LossOutput
        The scalar ``loss`` and the per-sample terms, as ``model.loss`` returned them.
    """

    def __init__(self, model: AbstractModel) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        x: Tensor,
        y: Tensor | None = None,
        target: Tensor | None = None,
        step: int | None = None,
        generator: torch.Generator | None = None,
    ) -> LossOutput:
        return self.model.loss(x, y=y, target=target, step=step, generator=generator)


def wrap(module: LossModule, info: DistInfo, device: torch.device) -> nn.Module:
    """Wrap ``module`` in DDP when distributed (parameters are broadcast from rank 0)."""
    if not info.enabled:
        return module
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)
