"""Rows made on demand: :class:`LazyRows`, an array too large to hold as float32 in memory.

A :class:`~latentkit.data.dataset.Dataset` normally holds its ``x`` as one float32 tensor.
Data generated from an index (dSprites: 737,280 images of 64 x 64 would take 12 GB as
float32) holds a :class:`LazyRows` instead: ``len(x)``, ``x.shape``, ``x[i:j]``, ``x[index]``
and ``x.index_select(0, index)`` work as on a tensor and return float32 tensors made for just
those rows, so a batch costs its own size, whatever the dataset's. ``x.take(index)`` is a
lazy view (what ``Dataset.subset`` uses), and ``x.value_range`` declares the range of every
value, which the trainer checks instead of scanning every row.

A request for more rows than :func:`latentkit.data.limits.max_data_bytes` allows as float32
is refused with a :class:`~latentkit.errors.DataError` before anything is made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from latentkit.data.limits import check_data_bytes
from latentkit.errors import DataError

__all__ = ["LazyRows"]


class LazyRows:
    """A float32 array of shape (N, *row_shape) whose rows are made when indexed.

    Parameters
    ----------
    make : callable
        ``make(ids)`` with ``ids`` an int64 array of shape (B,) of row ids in
        ``[0, total)`` returns a float32 tensor of shape (B, *row_shape). It must be a pure
        function of the ids (the same rows every call).
    total : int
        Rows of the underlying source.
    row_shape : sequence of int
        Shape of one row, e.g. ``(1, 64, 64)``.
    value_range : tuple of float
        ``(low, high)``: every value ``make`` returns lies in it.
    name : str
        Named in error messages.
    ids : ndarray of shape (N,), optional
        The source rows this view shows, in order (default: all of them).
    """

    dtype = torch.float32
    device = torch.device("cpu")

    def __init__(
        self,
        make: Callable[[np.ndarray], Tensor],
        total: int,
        row_shape: Sequence[int],
        value_range: tuple[float, float],
        name: str,
        ids: np.ndarray | None = None,
    ) -> None:
        self._make, self._total = make, int(total)
        self.row_shape = tuple(int(s) for s in row_shape)
        self.value_range = (float(value_range[0]), float(value_range[1]))
        self.name = name
        self.ids = np.arange(self._total, dtype=np.int64) if ids is None else ids

    # -- tensor-like facts ---------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids)

    @property
    def shape(self) -> torch.Size:
        """``(N, *row_shape)``."""
        return torch.Size((len(self), *self.row_shape))

    @property
    def ndim(self) -> int:
        return 1 + len(self.row_shape)

    def contiguous(self) -> LazyRows:
        """Itself: nothing is stored to lay out."""
        return self

    def __repr__(self) -> str:
        return f"LazyRows({self.name!r}, shape={tuple(self.shape)}, float32, made on demand)"

    # -- indexing ------------------------------------------------------------------------
    def _positions(self, key: Any) -> np.ndarray:
        """Positions in this view (int64, shape (B,)) selected by ``key``."""
        n = len(self)
        if isinstance(key, slice):
            return np.arange(n, dtype=np.int64)[key]
        if isinstance(key, Tensor):
            key = key.detach().cpu().numpy()
        index = np.asarray(key)
        if index.dtype == np.bool_:
            if index.shape != (n,):
                raise IndexError(f"{self.name}: a mask must have shape ({n},), got {index.shape}.")
            return np.flatnonzero(index)
        if not np.issubdtype(index.dtype, np.integer) or index.ndim != 1:
            raise IndexError(
                f"{self.name}: expected a slice, an int, or a 1-d integer or boolean index, "
                f"got {index.dtype} of shape {index.shape}."
            )
        if index.size and (index.min() < -n or index.max() >= n):
            raise IndexError(f"{self.name}: index out of range for {n} rows.")
        return np.where(index < 0, index + n, index).astype(np.int64)

    def rows(self, positions: np.ndarray) -> Tensor:
        """The float32 rows at ``positions`` of this view: shape (B, *row_shape)."""
        size = int(np.prod(self.row_shape, dtype=np.int64))
        check_data_bytes(self.name, f"{len(positions):,} rows of {self.row_shape} as float32",
                         len(positions) * size * 4)  # fmt: skip
        if len(positions) == 0:
            return torch.zeros((0, *self.row_shape), dtype=torch.float32)
        out = self._make(self.ids[positions])
        assert out.shape == (len(positions), *self.row_shape) and out.dtype == torch.float32
        return out

    def __getitem__(self, key: Any) -> Tensor:
        """Rows as a float32 tensor: ``x[3]`` of shape ``row_shape``, ``x[i:j]`` of shape
        (j - i, *row_shape), ``x[index]`` of shape (len(index), *row_shape)."""
        if isinstance(key, int | np.integer):
            return self.rows(self._positions(np.array([int(key)])))[0]
        if isinstance(key, tuple):
            raise IndexError(f"{self.name}: index rows only (x[i:j], x[index]), then the tensor.")
        return self.rows(self._positions(key))

    def index_select(self, dim: int, index: Tensor) -> Tensor:
        """``x[index]`` (rows only, ``dim`` 0), as :meth:`torch.Tensor.index_select`."""
        if dim != 0:
            raise DataError(f"{self.name}: only rows can be selected lazily (dim 0), got {dim}.")
        return self[index]

    def take(self, key: Any) -> LazyRows:
        """A lazy view of the rows ``key`` selects (nothing is made)."""
        ids = self.ids[self._positions(key)]
        return LazyRows(self._make, self._total, self.row_shape, self.value_range, self.name, ids)
