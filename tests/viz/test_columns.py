"""The report's per-column distances (real against synthetic) against hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from latentkit.viz.columns import column_distance


def test_ks_statistic_by_hand() -> None:
    real = np.array([1.0, 2.0, 3.0, 4.0], dtype=object)
    synthetic = np.array([3.0, 4.0, 5.0, 6.0, np.nan], dtype=object)  # NaN: left out
    # ECDFs at 2: 0.5 against 0 -> 0.5; at 4: 1 against 0.5 -> 0.5
    assert column_distance(real, synthetic, True) == pytest.approx(0.5)
    assert column_distance(real, real, True) == 0.0


def test_total_variation_by_hand() -> None:
    real = np.array(["a", "a", "b", "c"], dtype=object)  # 0.5, 0.25, 0.25
    synthetic = np.array(["a", "b", "b", "b", None], dtype=object)  # 0.25, 0.75, 0
    assert column_distance(real, synthetic, False) == pytest.approx(0.5 * (0.25 + 0.5 + 0.25))
