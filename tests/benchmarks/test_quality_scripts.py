"""The MNIST quality benchmarks: each ``--quick`` mode runs, prints its table and writes nothing;
and the Fréchet distance of ``sample_quality.py`` is checked against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from tests.benchmarks._scripts import benchmark_module, check_quick_mode
from tests.conftest import require_data

SCRIPTS = ["mnist_likelihood.py", "ae_vs_pca.py", "sample_quality.py"]


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_quick_mode_prints_a_table_and_writes_nothing(script: str, tmp_path) -> None:
    data = require_data("mnist").parent
    check_quick_mode(script, tmp_path, {"LATENTKIT_DATA": str(data)}, timeout=120)


def test_frechet_distance_matches_closed_forms() -> None:
    fd = benchmark_module("sample_quality").frechet_distance
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20000, 3))
    assert fd(a, a) == pytest.approx(0.0, abs=1e-9)
    # N(0, I) vs N(m, 4 I) in 3-D: |m|^2 + 3 * (1 + 4 - 2 * 2) = |m|^2 + 3
    b = 2.0 * rng.normal(size=(20000, 3)) + np.array([1.0, 2.0, 0.0])
    assert fd(a, b) == pytest.approx(5.0 + 3.0, rel=0.05)
