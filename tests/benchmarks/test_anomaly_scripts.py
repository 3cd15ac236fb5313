"""The anomaly benchmarks: each ``--quick`` mode runs, prints its table and writes nothing; and
their helper maths (PCA residuals, component counts, anomaly fractions) against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from tests.benchmarks._scripts import benchmark_module, check_quick_mode
from tests.conftest import require_data

SINGLE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                  "NUMBA_NUM_THREADS")}  # fmt: skip


@pytest.mark.slow
def test_oneclass_quick_mode_prints_tables_and_writes_nothing(tmp_path) -> None:
    data = require_data("mnist").parent
    require_data("fashion-mnist")
    env = {**SINGLE_THREAD, "LATENTKIT_DATA": str(data)}
    check_quick_mode("anomaly_oneclass.py", tmp_path, env)


@pytest.mark.slow
def test_tabular_quick_mode_prints_a_table_and_writes_nothing(tmp_path) -> None:
    data = require_data("tables").parent
    check_quick_mode("anomaly_tabular.py", tmp_path, {**SINGLE_THREAD, "LATENTKIT_DATA": str(data)})


def test_pca_components_for_a_variance_fraction() -> None:
    count = benchmark_module("anomaly_oneclass").pca_components_for
    variances = np.array([5.0, 3.0, 1.0, 1.0])  # cumulative fractions 0.5, 0.8, 0.9, 1.0
    assert count(variances, 0.5) == 1
    assert count(variances, 0.6) == 2
    assert count(variances, 0.9) == 3
    assert count(variances, 0.95) == 4


def test_pca_error_is_the_squared_distance_to_the_principal_plane() -> None:
    pca_error = benchmark_module("anomaly_oneclass").PCAError
    rng = np.random.default_rng(0)
    # points spread in the x-y plane around (1, 2, 3) with a tiny z noise: 2 components
    # explain 90%; the error of a point is its squared z-distance to the plane z = 3
    plane = np.c_[rng.normal(scale=3.0, size=(500, 2)), 1e-3 * rng.normal(size=500)]
    detector = pca_error(0.9).fit(plane + np.array([1.0, 2.0, 3.0]))
    assert detector.n_components_ == 2
    points = np.array([[1.0, 2.0, 3.0], [7.0, -4.0, 5.0], [0.0, 0.0, 0.0]])
    expected = np.array([0.0, 4.0, 9.0])
    assert detector.decision_function(points) == pytest.approx(expected, abs=1e-3)


def test_anomaly_count_makes_the_requested_fraction() -> None:
    tabular = benchmark_module("anomaly_tabular")
    # 357 benign rows, 8% anomalies: a / (357 + a) = 0.08 -> a = 0.08 * 357 / 0.92 = 31.04
    assert tabular.anomaly_count(357, 0.08) == 31
    assert tabular.anomaly_count(900, 0.10) == 100  # 100 / 1000
    with pytest.raises(ValueError, match="fraction"):
        tabular.anomaly_count(10, 1.0)


def test_tabular_tasks_have_the_documented_sizes_and_z_scores() -> None:
    tabular = benchmark_module("anomaly_tabular")
    (cancer,) = tabular.tasks_of("breast cancer", seed=0)
    assert len(cancer.x) == 357 + 31 and cancer.anomalous.sum() == 31
    assert cancer.x.mean(0) == pytest.approx(np.zeros(30), abs=1e-9)
    assert cancer.x.std(0) == pytest.approx(np.ones(30), abs=1e-9)
    digits = tabular.tasks_of("digits", seed=1)
    assert len(digits) == 10
    for task in digits:
        assert task.anomalous.mean() == pytest.approx(0.10, abs=0.01)
    other = tabular.tasks_of("breast cancer", seed=2)[0]
    assert not np.array_equal(other.x, cancer.x)  # a fresh subsample per seed


def test_shared_table_tasks_have_the_documented_sizes(monkeypatch) -> None:
    monkeypatch.setenv("LATENTKIT_DATA", str(require_data("tables").parent))
    tabular = benchmark_module("anomaly_tabular")
    penguins = tabular.tasks_of("penguins", seed=0)  # each species in turn, 8%
    assert len(penguins) == 3
    for task in penguins:
        assert task.x.shape[1] == 4
        assert task.anomalous.mean() == pytest.approx(0.08, abs=0.01)
    (adult,) = tabular.tasks_of("adult", seed=0)  # 2000 normal rows, categories one-hot
    assert adult.anomalous.sum() == tabular.anomaly_count(2000, 0.08)
    assert len(adult.x) == 2000 + adult.anomalous.sum() and adult.x.shape[1] > 50
    assert np.isfinite(adult.x).all()


def test_tabular_ranks_share_ties_and_average_over_datasets() -> None:
    tabular = benchmark_module("anomaly_tabular")
    # two datasets, one seed; (auroc, ap) per method
    metrics = {
        "a": {"d1": [(0.9, 0.5)], "d2": [(0.6, 0.2)]},
        "b": {"d1": [(0.8, 0.4)], "d2": [(0.6, 0.3)]},
        "c": {"d1": [(0.7, 0.1)], "d2": [(0.9, 0.6)]},
    }
    ranks = tabular.ranks(metrics, ["d1", "d2"])
    np.testing.assert_allclose(ranks["a"], [[1.0, 2.5]])  # tie on d2 shares ranks 2 and 3
    np.testing.assert_allclose(ranks["c"], [[3.0, 1.0]])
    means = tabular.summary(metrics, ["d1", "d2"])
    assert means["b"]["auroc"][0] == pytest.approx(0.7)
    assert means["b"]["ap"][0] == pytest.approx(0.35)
    assert means["b"]["rank"][0] == pytest.approx(2.25)


def test_oneclass_target_verdict_names_the_reason() -> None:
    verdict = benchmark_module("anomaly_oneclass").target_verdict
    met = verdict("mnist", "VAE x", 0.98, "PCA", 0.94, 0.975)
    assert met.endswith("target (>= 0.975 and above every peer) met.")
    low = verdict("fashion-mnist", "VAE x", 0.92996, "IsolationForest", 0.919, 0.93)
    assert "not met (0.9300 is below 0.93)" in low  # 4 decimals round up; the test does not
    both = verdict("mnist", "VAE x", 0.90, "PCA", 0.94, 0.975)
    assert "not met (0.9000 is below 0.975; PCA is not beaten)" in both
