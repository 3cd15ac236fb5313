"""Batching: an in-memory iterator over contiguous tensors.

``torch.utils.data.DataLoader`` over a ``TensorDataset`` indexes one sample at a time and
collates with ``torch.stack``; for data already in memory that per-sample Python work
dominates. :class:`InMemoryBatches` draws one permutation per epoch and slices whole batches
with ``index_select`` (one gather per tensor per batch), which is many times faster
(``benchmarks/data_loading.py`` measures it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

__all__ = ["InMemoryBatches"]


class InMemoryBatches:
    """Iterate over aligned tensors in batches.

    Parameters
    ----------
    tensors : sequence of Tensor, each of shape (N, ...)
        Tensors that share their first dimension (e.g. ``x`` and ``y``); ``None`` entries are
        passed through as ``None``.
    batch_size : int
        Rows per batch.
    shuffle : bool
        Draw a fresh permutation each epoch from ``generator``.
    drop_last : bool
        Skip the last, smaller batch.
    generator : torch.Generator, optional
        Source of the permutations (makes epochs reproducible).
    shard : tuple of (rank, world_size), optional
        Distributed training: ``batch_size`` is the *global* batch, and this rank yields its
        ``batch_size // world_size`` rows of each global batch. Averaging gradients over the
        ranks then reproduces single-process training with the same global batch exactly.
        ``batch_size`` must be divisible by ``world_size``.

    Yields
    ------
    tuple of Tensor
        One batch of each tensor, shape ``(batch_size, ...)``.
    """

    def __init__(
        self,
        tensors: Sequence[Tensor | None],
        batch_size: int,
        *,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: torch.Generator | None = None,
        shard: tuple[int, int] | None = None,
    ) -> None:
        present = [t for t in tensors if t is not None]
        if not present:
            raise ValueError("InMemoryBatches needs at least one tensor.")
        n = len(present[0])
        for t in present:
            if len(t) != n:
                raise ValueError(
                    f"all tensors must share their first dimension: got {len(t)} and {n}."
                )
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
        self.tensors = [None if t is None else t.contiguous() for t in tensors]
        self.n = n
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        rank, world = shard or (0, 1)
        if not 0 <= rank < world:
            raise ValueError(f"shard rank must be in [0, {world}), got {rank}.")
        if batch_size % world:
            raise ValueError(
                f"the global batch_size {batch_size} must be divisible by the world size {world}."
            )
        self.rank, self.world = rank, world

    def _order(self) -> Tensor | None:
        if self.shuffle:
            return torch.randperm(self.n, generator=self.generator)
        return None

    def __len__(self) -> int:
        if self.drop_last:
            return self.n // self.batch_size
        return -(-self.n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor | None, ...]]:
        order = self._order()  # (N,) or None for the natural order
        for b in range(len(self)):
            start = b * self.batch_size
            stop = min(start + self.batch_size, self.n)
            if self.world > 1:  # this rank's equal share of the global batch
                share = -(-(stop - start) // self.world)
                start, stop = start + self.rank * share, min(start + (self.rank + 1) * share, stop)
            if order is None:
                yield tuple(None if t is None else t[start:stop] for t in self.tensors)
            else:
                idx = order[start:stop]
                yield tuple(None if t is None else t.index_select(0, idx) for t in self.tensors)
