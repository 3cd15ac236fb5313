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
        Yield only this rank's share of each epoch's order (for distributed training); every
        rank gets the same number of batches.

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
        self.rank, self.world = rank, world

    def _order(self) -> Tensor | None:
        if self.shuffle:
            return torch.randperm(self.n, generator=self.generator)
        return None

    def _rows_per_rank(self) -> int:
        return self.n // self.world if self.world > 1 else self.n

    def __len__(self) -> int:
        rows = self._rows_per_rank()
        if self.drop_last:
            return rows // self.batch_size
        return -(-rows // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor | None, ...]]:
        order = self._order()
        rows = self._rows_per_rank()
        offset = 0
        if self.world > 1:
            # every rank sees the same permutation and takes its contiguous slice of it
            offset = self.rank * rows
            if order is None:
                order = torch.arange(self.n)
            order = order[offset : offset + rows]
            offset = 0
        for b in range(len(self)):
            start = b * self.batch_size
            stop = min(start + self.batch_size, rows)
            if order is None:
                yield tuple(None if t is None else t[start:stop] for t in self.tensors)
            else:
                idx = order[start:stop]
                yield tuple(None if t is None else t.index_select(0, idx) for t in self.tensors)
