"""Integers a float cannot hold exactly (CSV beyond 2**53, Parquet uint64) load as the nearest
float32, like every other value of a table, instead of failing inside pyarrow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from latentkit.data.tables import load_table


def test_csv_integers_beyond_2_to_the_53_load_rounded(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("a,b\n9007199254740993,1\n-9223372036854775808,2\n3,3\n")
    x = load_table(path).x.numpy()
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x[:, 0], np.float32([2.0**53, -(2.0**63), 3.0]))
    np.testing.assert_array_equal(x[:, 1], [1.0, 2.0, 3.0])


def test_parquet_uint64_loads_rounded(tmp_path: Path) -> None:
    table = pa.table(
        {
            "a": pa.array([2**64 - 1, 2**53 + 1, 7], pa.uint64()),
            "b": pa.array([1, 2, 3], pa.int64()),
            "y": pa.array([0, 1, 2], pa.uint64()),
        }
    )
    pq.write_table(table, tmp_path / "u.parquet")
    data = load_table(tmp_path / "u.parquet", label="y")
    np.testing.assert_array_equal(data.x[:, 0].numpy(), np.float32([2.0**64, 2.0**53, 7.0]))
    assert data.y.tolist() == [0, 1, 2]
