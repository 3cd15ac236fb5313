"""benchmarks/loader_scaling.py: its ``--quick`` mode runs, prints its table and writes nothing;
the growth exponent and the tables it writes are checked directly."""

from __future__ import annotations

import numpy as np
import pytest

from latentkit.data.tables import load_table
from tests.benchmarks._scripts import benchmark_module, check_quick_mode


def test_quick_mode_prints_a_table_and_writes_nothing(tmp_path) -> None:
    check_quick_mode("loader_scaling.py", tmp_path, {"OMP_NUM_THREADS": "1"}, timeout=120)


def test_growth_exponent_is_the_log_log_slope() -> None:
    exponent = benchmark_module("loader_scaling").growth_exponent
    assert exponent([10, 100, 1000], [1.0, 10.0, 100.0]) == pytest.approx(1.0)
    assert exponent([10, 1000], [1.0, 10_000.0]) == pytest.approx(2.0)
    assert exponent([1, 8], [2.0, 2.0]) == 0.0


def test_the_csv_and_npy_tables_hold_the_same_values(tmp_path) -> None:
    write_tables = benchmark_module("loader_scaling").write_tables
    csv, npy = write_tables(tmp_path, 1_500, 7, seed=0)  # more rows than the repeated block
    from_csv, from_npy = load_table(csv).x.numpy(), load_table(npy).x.numpy()
    assert from_csv.shape == (1_500, 7) and np.array_equal(from_csv, from_npy)
    assert set(np.unique(from_csv)) <= set(range(10))
