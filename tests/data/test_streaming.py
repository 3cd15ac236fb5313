"""Streaming readers: same rows as the file, labels aligned, and bounded memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from latentkit.data.streaming import NpyBatches, ParquetBatches
from latentkit.errors import DataError


@pytest.fixture
def npy(tmp_path: Path) -> tuple[Path, Path, np.ndarray]:
    array = np.random.default_rng(0).random((100_000, 16), dtype=np.float32)  # 6.4 MB
    np.save(tmp_path / "x.npy", array)
    np.save(tmp_path / "y.npy", np.arange(100_000) % 7)
    return tmp_path / "x.npy", tmp_path / "y.npy", array


def test_npy_batches_cover_the_file(npy: tuple[Path, Path, np.ndarray]) -> None:
    x_path, y_path, array = npy
    batches = NpyBatches(x_path, 3000, labels=y_path)
    assert len(batches) == 34
    xs, ys = zip(*batches, strict=True)
    assert xs[0].dtype == torch.float32 and ys[0].dtype == torch.int64
    assert torch.equal(torch.cat(xs), torch.from_numpy(array))
    assert torch.equal(torch.cat(ys), torch.arange(100_000) % 7)
    assert len(NpyBatches(x_path, 3000, drop_last=True)) == 33


def test_npy_shuffle_visits_every_block_once(npy: tuple[Path, Path, np.ndarray]) -> None:
    x_path, y_path, array = npy
    gen = torch.Generator().manual_seed(0)
    batches = NpyBatches(x_path, 10_000, labels=y_path, shuffle=True, generator=gen)
    first_rows = [int(y[0]) for _, y in batches]  # labels are row index % 7
    xs, ys = zip(*batches, strict=True)  # a second epoch: another block order
    starts = sorted(int(np.flatnonzero(array[:, 0] == float(x[0, 0]))[0]) for x in xs)
    assert starts == list(range(0, 100_000, 10_000))  # every block exactly once
    unshuffled = [int(y[0]) for _, y in NpyBatches(x_path, 10_000, labels=y_path)]
    assert first_rows != unshuffled  # seeded: deterministic
    for x, y in zip(xs, ys, strict=True):  # labels travel with their rows
        start = int(np.flatnonzero(array[:, 0] == float(x[0, 0]))[0])
        assert torch.equal(y, torch.arange(start, start + 10_000) % 7)


def test_npy_memory_stays_at_one_batch(npy: tuple[Path, Path, np.ndarray]) -> None:
    x_path, _, array = npy
    batch_bytes = 1000 * 16 * 4  # 64 kB, 1/100 of the file
    tracemalloc.start()
    try:
        total = 0.0
        for x, _ in NpyBatches(x_path, 1000):
            total += float(x[0, 0])
        _, streaming_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        whole = np.load(x_path)  # the measurement does see a full read
        _, full_peak = tracemalloc.get_traced_memory()
        del whole
    finally:
        tracemalloc.stop()
    assert full_peak >= array.nbytes
    assert streaming_peak < 4 * batch_bytes, (streaming_peak, batch_bytes)


@pytest.fixture
def parquet(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    values = rng.random((60_000, 8))  # 3.8 MB as float64
    labels = rng.integers(0, 5, 60_000)  # with the labels: 4.3 MB, in 24 row groups
    table = pa.table(
        {**{f"f{j}": values[:, j] for j in range(8)}, "y": labels, "s": ["a"] * 60_000}
    )
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=2_500)
    return tmp_path / "t.parquet", values, labels


def test_parquet_batches_are_exact_and_aligned(
    parquet: tuple[Path, np.ndarray, np.ndarray],
) -> None:
    path, values, labels = parquet
    features = [f"f{j}" for j in range(8)]
    batches = ParquetBatches(path, 1_024, features=features, label="y")
    assert len(batches) == 59
    sizes = [len(x) for x, _ in batches]
    assert sizes[:-1] == [1_024] * 58 and sizes[-1] == 60_000 - 58 * 1_024
    xs, ys = zip(*batches, strict=True)
    np.testing.assert_allclose(torch.cat(xs).numpy(), values.astype(np.float32))
    np.testing.assert_array_equal(torch.cat(ys).numpy(), labels)
    assert len(list(ParquetBatches(path, 1_024, features=features, drop_last=True))) == 58


def test_parquet_shuffle_and_errors(parquet: tuple[Path, np.ndarray, np.ndarray]) -> None:
    path, values, _ = parquet
    features = [f"f{j}" for j in range(8)]
    gen = torch.Generator().manual_seed(0)
    shuffled = torch.cat(
        [x for x, _ in ParquetBatches(path, 5_000, features=features, shuffle=True, generator=gen)]
    )
    assert not torch.equal(shuffled[:2_500], torch.from_numpy(values[:2_500].astype(np.float32)))
    assert torch.allclose(shuffled.sum(dim=0), torch.from_numpy(values.sum(axis=0)).float())
    with pytest.raises(DataError, match=r"column 's' is string, expected a numeric column"):
        ParquetBatches(path, 10)
    with pytest.raises(DataError, match="no column 'zz'"):
        ParquetBatches(path, 10, features=["zz"])


def test_parquet_memory_stays_at_one_row_group(
    parquet: tuple[Path, np.ndarray, np.ndarray],
) -> None:
    path, values, _ = parquet
    features = [f"f{j}" for j in range(8)]
    arrow_peak = 0
    tracemalloc.start()
    try:
        for _x, _ in ParquetBatches(path, 1_000, features=features, label="y"):
            arrow_peak = max(arrow_peak, pa.total_allocated_bytes())
        _, numpy_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    file_bytes = values.nbytes  # 3.8 MB in memory
    assert arrow_peak < file_bytes / 4, (arrow_peak, file_bytes)
    assert numpy_peak < file_bytes / 8, (numpy_peak, file_bytes)


def test_bad_npy_inputs(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros((5, 2)))
    np.save(tmp_path / "y.npy", np.zeros(4, dtype=np.int64))
    with pytest.raises(DataError, match=r"expected integer labels of shape \(5,\)"):
        NpyBatches(tmp_path / "x.npy", 2, labels=tmp_path / "y.npy")
    (tmp_path / "bad.npy").write_bytes(b"nope")
    with pytest.raises(DataError, match="cannot memory-map"):
        NpyBatches(tmp_path / "bad.npy", 2)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        NpyBatches(tmp_path / "x.npy", 0)
