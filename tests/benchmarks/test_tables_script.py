"""The mixed-tables benchmark: its ``--quick`` mode runs on penguins, prints its tables and
writes nothing; its scoring helpers (MCAR masks, imputation RMSE and accuracy, distance to the
closest record) against hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from latentkit.data.schema import TableSchema
from tests.benchmarks._scripts import benchmark_module, check_quick_mode
from tests.conftest import require_data

SINGLE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


@pytest.mark.slow
def test_quick_mode_prints_tables_and_writes_nothing(tmp_path) -> None:
    pytest.importorskip("sdv")
    data = require_data("tables").parent
    check_quick_mode("tables.py", tmp_path, {**SINGLE_THREAD, "LATENTKIT_DATA": str(data)},
                     timeout=600)  # fmt: skip


def small() -> tuple[pd.DataFrame, TableSchema]:
    frame = pd.DataFrame({"v": [0.0, 2.0, 4.0, 6.0], "c": ["a", "b", "a", "b"]})
    return frame, TableSchema.infer(frame, categorical=["c"], numeric=["v"])


def test_mcar_removes_about_the_rate_of_observed_values() -> None:
    tables = benchmark_module("tables")
    frame = pd.DataFrame(np.ones((2000, 5)))
    frame.iloc[:100, 0] = np.nan
    holey, removed = tables.mcar(frame, 0.2, seed=0)
    assert not removed[:100, 0].any()  # a gap already there is not "removed"
    assert abs(removed.mean() - 0.2 * (1 - 100 / 10_000)) < 0.01
    assert holey.isna().to_numpy().sum() == removed.sum() + 100


def test_imputation_scores_by_hand() -> None:
    tables = benchmark_module("tables")
    truth, schema = small()
    filled = pd.DataFrame({"v": [1.0, 2.0, 4.0, 3.0], "c": ["a", "a", "a", "b"]})
    removed = np.array([[True, False], [False, True], [False, False], [True, True]])
    rmse, accuracy = tables.imputation_scores(truth, filled, removed, schema)
    std = np.std([0.0, 2.0, 4.0, 6.0], ddof=1)
    assert rmse == pytest.approx(np.sqrt(((1 / std) ** 2 + (3 / std) ** 2) / 2))
    assert accuracy == pytest.approx(0.5)  # row 1 wrong ("a" for "b"), row 3 right


def test_distance_to_closest_record_by_hand() -> None:
    tables = benchmark_module("tables")
    train, schema = small()
    copy, test = train.copy(), pd.DataFrame({"v": [1.0], "c": ["b"]})
    syn, real = tables.dcr(copy, train, test, schema)
    assert syn == 0.0  # copies of training rows
    std = np.std([0.0, 2.0, 4.0, 6.0], ddof=1)
    assert real == pytest.approx(1 / std)  # (1, b) is nearest to (2, b)
