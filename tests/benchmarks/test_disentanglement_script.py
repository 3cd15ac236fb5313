"""The disentanglement benchmark: its --quick mode runs, prints its table and writes nothing;
its helpers are checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from tests.benchmarks._scripts import benchmark_module, check_quick_mode


@pytest.mark.slow
def test_quick_mode_prints_a_table_and_writes_nothing(tmp_path) -> None:
    env = {"OMP_NUM_THREADS": "1"}
    check_quick_mode("disentanglement.py", tmp_path, env, args=["--threads", "1"], timeout=300)


def test_mean_spread_and_the_fixed_evaluation_sample() -> None:
    bench = benchmark_module("disentanglement")
    assert bench.mean_spread([0.1, 0.3]) == "0.200 ± 0.141"  # sample standard deviation
    assert bench.mean_spread([0.25]) == "0.250"
    from latentkit import datasets

    data = datasets.load("dsprites")
    x1, f1 = bench.evaluation_sample(data, 50)
    x2, f2 = bench.evaluation_sample(data, 50)
    assert x1.shape == (50, 1, 64, 64) and f1.shape == (50, 5)
    assert np.array_equal(f1, f2) and (x1 == x2).all()  # the same rows for every model
    assert set(bench.MODELS) == set(bench.PUBLISHED)
