"""Feeding the loop: data on the device, per-batch transforms, per-epoch generators.

- The whole dataset is moved to the training device once when it fits (on CUDA: at most
  40% of the free memory); batches are then gathered on the device with no host work besides
  one permutation per epoch. Otherwise it stays in (pinned) host memory and each batch is
  copied with ``non_blocking=True``. Data whose rows are made on demand (a
  :class:`~latentkit.data.lazy.LazyRows`, e.g. dSprites) makes each batch on the host.
- Dynamic binarization (Salakhutdinov & Murray 2008: a fresh Bernoulli draw of each image on
  every pass) and input corruptions for denoising autoencoders (Vincent et al. 2008, from
  :mod:`latentkit.data.corruptions`, looked up in its registry by ``CorruptionConfig.kind``)
  are applied per batch on the device from the trainer's data generator, without host syncs.
- Randomness is split into streams (shuffling, model noise, data transforms, validation),
  each a ``torch.Generator`` re-seeded at the start of every epoch from
  ``(seed, stream, epoch, rank)`` by :func:`epoch_generator`. The state of every stream at an
  epoch boundary is therefore a pure function of the run's seed, so a resumed run draws
  exactly what the uninterrupted run drew, whatever the world size it resumes with. Draws
  that take no generator (dropout masks) come from torch's global generators, which the
  trainer forks and seeds from ``(seed, "global", epoch, rank)`` (:func:`epoch_seed`) for
  each epoch, leaving the caller's stream as it was.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from latentkit.data.batches import InMemoryBatches
from latentkit.data.corruptions import corrupt
from latentkit.data.lazy import LazyRows
from latentkit.training.config import CorruptionConfig

__all__ = ["DeviceBatches", "epoch_generator", "epoch_seed", "place", "transform_batch"]

logger = logging.getLogger(__name__)


def epoch_seed(seed: int, stream: str, epoch: int, rank: int) -> int:
    """A seed in [0, 2**63) derived from ``(seed, stream, epoch, rank)`` by sha256."""
    digest = hashlib.sha256(f"{seed}/{stream}/{epoch}/{rank}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def epoch_generator(
    seed: int, stream: str, epoch: int, rank: int, device: torch.device
) -> torch.Generator:
    """A generator on ``device`` seeded from ``(seed, stream, epoch, rank)``."""
    generator = torch.Generator(device=device)
    generator.manual_seed(epoch_seed(seed, stream, epoch, rank))
    return generator


def place(t: Tensor | LazyRows | None, device: torch.device) -> Tensor | LazyRows | None:
    """``t`` on ``device`` if it fits there, else in (pinned) host memory; rows made on demand
    (:class:`~latentkit.data.lazy.LazyRows`) stay on the host, each batch is moved."""
    if t is None or isinstance(t, LazyRows) or t.device == device:
        return t
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        if t.numel() * t.element_size() > 0.4 * free:
            logger.info("data (%d bytes) stays in pinned host memory", t.numel() * t.element_size())
            return t.cpu().pin_memory()
    return t.to(device)


class DeviceBatches(InMemoryBatches):
    """:class:`InMemoryBatches` whose permutation lives with the data and whose batches land
    on ``device`` (a no-op copy when the data is already there)."""

    def __init__(
        self, tensors: Sequence[Tensor | None], batch_size: int, *, device: torch.device, **kwargs
    ) -> None:
        super().__init__(tensors, batch_size, **kwargs)
        self.device = device
        present = next(t for t in self.tensors if t is not None)
        self._data_device = present.device

    def _order(self) -> Tensor | None:
        order = super()._order()  # drawn on the CPU from the CPU shuffling generator
        return None if order is None else order.to(self._data_device, non_blocking=True)

    def __iter__(self) -> Iterator[tuple[Tensor | None, ...]]:
        for batch in super().__iter__():
            yield tuple(None if t is None else t.to(self.device, non_blocking=True) for t in batch)


def transform_batch(
    x: Tensor,
    *,
    binarize: bool,
    corruption: CorruptionConfig | None,
    generator: torch.Generator | None,
) -> tuple[Tensor, Tensor | None]:
    """The encoder input and the decoder target for a batch.

    Parameters
    ----------
    x : Tensor of shape (N, ...)
        Clean data (in [0, 1] when ``binarize``).
    binarize : bool
        Replace ``x`` by a Bernoulli draw with probabilities ``x``.
    corruption : CorruptionConfig or None
        Corrupt the encoder input; the target is then the clean (binarized) ``x``.
    generator : torch.Generator or None
        On ``x.device``.

    Returns
    -------
    x_in : Tensor of shape (N, ...)
    target : Tensor of shape (N, ...) or None
        None when the target is ``x_in`` itself.
    """
    if binarize:  # latentkit.data.transforms.binarize_dynamic minus its per-call range check
        x = torch.bernoulli(x, generator=generator)  # (the trainer checks the range once)
    if corruption is None:
        return x, None
    c = corruption  # the kind was checked against the registry by CorruptionConfig
    return corrupt(x, c.kind, c.amount, clip=c.clip, generator=generator), x
