"""Batches from files larger than memory: memory-mapped ``.npy`` arrays and Parquet row groups.

Both readers yield ``(x, y)`` tuples like :class:`~latentkit.data.batches.InMemoryBatches`
(``y`` is None without labels), materialising one batch at a time: a ``.npy`` file is opened
with ``np.load(mmap_mode="r")`` and each batch is copied out of the mapping; a Parquet file is
read with ``ParquetFile.iter_batches`` without pre-buffering (pyarrow's default would read
every requested row group up front), so one row group is decoded at a time, and the record
batches are re-cut to exactly ``batch_size`` rows with a carry of fewer than ``batch_size`` rows.
Peak memory is therefore about one batch (plus one Parquet row group), whatever the file size.
Both are checked against :func:`latentkit.data.limits.max_data_bytes` when the reader is made:
one float32 batch, and the decoded size of the largest Parquet row group from the file's
metadata (a row group of a billion zeros compresses to a few kilobytes).

Shuffling is by blocks, to keep reads sequential: ``NpyBatches`` visits its batch-sized blocks
in a random order, ``ParquetBatches`` its row groups; rows inside a block keep their order.
For a full shuffle, shuffle the file once when writing it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from torch import Tensor

from latentkit.data.limits import check_data_bytes
from latentkit.errors import DataError

__all__ = ["NpyBatches", "ParquetBatches"]

Batch = tuple[Tensor, Tensor | None]


def _check_batch_size(batch_size: int) -> int:
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    return int(batch_size)


def _count(rows: int, batch_size: int, drop_last: bool) -> int:
    return rows // batch_size if drop_last else -(-rows // batch_size)


class NpyBatches:
    """Batches read from a memory-mapped ``.npy`` array.

    Parameters
    ----------
    path : str or Path
        A ``.npy`` file holding an array of shape (N, ...) of a numeric dtype.
    batch_size : int
        Rows per batch.
    labels : str or Path, optional
        A ``.npy`` file of shape (N,) with integer labels, read the same way.
    shuffle : bool
        Visit the batch-sized blocks in a new random order each epoch.
    drop_last : bool
        Skip the last, smaller batch.
    generator : torch.Generator, optional
        Source of the block order.
    transform : callable, optional
        Applied to each float32 batch (e.g. ``lambda x: x / 255`` for uint8 images).

    Yields
    ------
    x : Tensor of shape (B, ...), float32
    y : Tensor of shape (B,), int64, or None
    """

    def __init__(
        self,
        path: str | Path,
        batch_size: int,
        *,
        labels: str | Path | None = None,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: torch.Generator | None = None,
        transform: Callable[[Tensor], Tensor] | None = None,
    ) -> None:
        self.path = Path(path)
        self.batch_size = _check_batch_size(batch_size)
        self.array = self._open(self.path)
        if not (np.issubdtype(self.array.dtype, np.number) or self.array.dtype == np.bool_):
            raise DataError(f"{self.path}: expected a numeric array, found {self.array.dtype}.")
        self.labels = None if labels is None else self._open(Path(labels))
        if self.labels is not None and (
            self.labels.shape != (len(self.array),)
            or not np.issubdtype(self.labels.dtype, np.integer)
        ):
            raise DataError(
                f"{labels}: expected integer labels of shape ({len(self.array)},), found "
                f"{self.labels.dtype} of shape {self.labels.shape}."
            )
        rows = min(self.batch_size, len(self.array))
        check_data_bytes(
            self.path,
            f"one batch of {rows:,} rows of shape {self.array.shape[1:]} as float32",
            rows * int(np.prod(self.array.shape[1:])) * 4,
        )
        self.shuffle, self.drop_last = shuffle, drop_last
        self.generator, self.transform = generator, transform

    @staticmethod
    def _open(path: Path) -> np.ndarray:
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise DataError(f"{path}: cannot memory-map it as a .npy array ({exc}).") from exc
        if array.ndim < 1:
            raise DataError(f"{path}: expected an array of shape (N, ...), found a scalar.")
        return array

    def __len__(self) -> int:
        return _count(len(self.array), self.batch_size, self.drop_last)

    def __iter__(self) -> Iterator[Batch]:
        blocks = torch.arange(len(self))
        if self.shuffle:
            blocks = blocks[torch.randperm(len(blocks), generator=self.generator)]
        for block in blocks.tolist():
            start = block * self.batch_size
            stop = min(start + self.batch_size, len(self.array))
            x = torch.from_numpy(np.array(self.array[start:stop], dtype=np.float32))  # one copy
            if self.transform is not None:
                x = self.transform(x)
            y = None
            if self.labels is not None:
                y = torch.from_numpy(np.array(self.labels[start:stop], dtype=np.int64))
            yield x, y


class ParquetBatches:
    """Batches of table rows read from a Parquet file, one row group at a time.

    Parameters
    ----------
    path : str or Path
        A Parquet file.
    batch_size : int
        Rows per batch (batches span row groups; only the last one may be smaller).
    features : sequence of str, optional
        Feature columns (numeric); default every column except ``label``.
    label : str, optional
        Integer label column.
    shuffle : bool
        Visit the row groups in a new random order each epoch.
    drop_last : bool
        Skip the last, smaller batch.
    generator : torch.Generator, optional
        Source of the row-group order.

    Yields
    ------
    x : Tensor of shape (B, D), float32
    y : Tensor of shape (B,), int64, or None
    """

    def __init__(
        self,
        path: str | Path,
        batch_size: int,
        *,
        features: Sequence[str] | None = None,
        label: str | None = None,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        self.path = Path(path)
        self.batch_size = _check_batch_size(batch_size)
        try:
            # pre_buffer=False: the default pre-buffers every requested row group at once
            self.file = pq.ParquetFile(self.path, pre_buffer=False)
        except (OSError, pa.ArrowInvalid) as exc:
            raise DataError(f"{self.path}: cannot open it as Parquet ({exc}).") from exc
        schema = self.file.schema_arrow
        names = list(schema.names)
        wanted = [c for c in names if c != label] if features is None else list(features)
        for column in [*wanted, *([label] if label else [])]:
            if column not in names:
                raise DataError(f"{self.path}: no column {column!r}; the columns are {names}.")
            kind = schema.field(column).type
            if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
                raise DataError(
                    f"{self.path}: column {column!r} is {kind}, expected a numeric column; "
                    "leave it out with features=[...]."
                )
        self.features, self.label = wanted, label
        self.shuffle, self.drop_last, self.generator = shuffle, drop_last, generator
        self._check_sizes(schema)

    def _check_sizes(self, schema: pa.Schema) -> None:
        """Refuse a row group or a batch over the data limit, from the metadata alone."""
        meta = self.file.metadata
        columns = [*self.features, *([self.label] if self.label else [])]
        width = sum(max(1, schema.field(c).type.bit_width // 8) for c in columns)  # numeric
        groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        if groups:
            largest = max(range(len(groups)), key=groups.__getitem__)
            check_data_bytes(
                self.path,
                f"row group {largest} ({groups[largest]:,} rows of {len(columns)} columns), "
                "decoded,",
                groups[largest] * width,
            )
        rows = min(self.batch_size, meta.num_rows)
        check_data_bytes(
            self.path,
            f"one batch of {rows:,} rows x {len(self.features)} columns as float32",
            rows * len(self.features) * 4,
        )

    def __len__(self) -> int:
        return _count(self.file.metadata.num_rows, self.batch_size, self.drop_last)

    def _arrays(self, batch: pa.RecordBatch) -> tuple[np.ndarray, np.ndarray | None]:
        for column in (*self.features, *([self.label] if self.label else [])):
            nulls = batch.column(column).null_count
            if nulls:
                raise DataError(
                    f"{self.path}: column {column!r} has {nulls} missing value(s) in this "
                    "batch; fill them before streaming (or load the file with impute=...)."
                )
        x = np.empty((batch.num_rows, len(self.features)), dtype=np.float32)  # (B, D)
        for j, column in enumerate(self.features):
            x[:, j] = batch.column(column).to_numpy(zero_copy_only=False)
        y = None
        if self.label is not None:
            y = batch.column(self.label).to_numpy(zero_copy_only=False).astype(np.int64)
        return x, y

    def __iter__(self) -> Iterator[Batch]:
        groups = torch.arange(self.file.num_row_groups)
        if self.shuffle:
            groups = groups[torch.randperm(len(groups), generator=self.generator)]
        columns = [*self.features, *([self.label] if self.label else [])]
        size = self.batch_size
        xs: list[np.ndarray] = []  # pending rows: fewer than 2 * batch_size
        ys: list[np.ndarray] = []
        pending = 0
        for record in self.file.iter_batches(
            batch_size=size, row_groups=groups.tolist(), columns=columns
        ):
            x, y = self._arrays(record)
            xs.append(x)
            ys += [] if y is None else [y]
            pending += len(x)
            while pending >= size:
                x_all = np.concatenate(xs)
                y_all = np.concatenate(ys) if ys else None
                yield self._tensors(x_all[:size], None if y_all is None else y_all[:size])
                xs = [x_all[size:]]
                ys = [] if y_all is None else [y_all[size:]]
                pending -= size
        if pending and not self.drop_last:
            yield self._tensors(np.concatenate(xs), np.concatenate(ys) if ys else None)

    @staticmethod
    def _tensors(x: np.ndarray, y: np.ndarray | None) -> Batch:
        label = None if y is None else torch.from_numpy(np.ascontiguousarray(y))
        return torch.from_numpy(np.ascontiguousarray(x)), label
