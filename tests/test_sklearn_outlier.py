"""latentkit.sklearn.AutoencoderOutlierDetector (= OutlierDetector): scikit-learn's estimator
checks, the robust scaling and neighbour distances against direct computations, the two scores
on anomalies each of them should catch, and the quality bar on breast cancer."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.estimator_checks import parametrize_with_checks

from latentkit.apps.oneclass import knn_distance, robust_location_scale
from latentkit.sklearn import AutoencoderOutlierDetector, OutlierDetector

TINY = {"n_estimators": 2, "hidden": 8, "latent_dim": 2, "max_steps": 10, "n_neighbors": 3}


@parametrize_with_checks([AutoencoderOutlierDetector(**TINY)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_outlier_detector_is_the_autoencoder_ensemble():
    assert OutlierDetector is AutoencoderOutlierDetector


def test_robust_scale_is_median_and_iqr_with_fallbacks():
    first = [1.0, 2.0, 3.0, 4.0, 100.0, 5.0, 6.0, 7.0]
    second = [5.0, 5.0, 5.0, 5.0, 5.0, 9.0, 5.0, 5.0]
    x = np.stack([first, second, [2.0] * 8], axis=1)
    location, scale = robust_location_scale(x)
    q25, q75 = np.percentile(x[:, 0], [25, 75])
    np.testing.assert_allclose(location, [4.5, 5.0, 2.0])
    np.testing.assert_allclose(scale[0], q75 - q25)  # the outlier 100 does not set the scale
    np.testing.assert_allclose(scale[1], x[:, 1].std())  # IQR 0: the standard deviation
    assert scale[2] == 1.0  # constant column


def test_neighbour_distance_matches_a_brute_force_search():
    rng = np.random.default_rng(0)
    reference, queries = rng.normal(size=(50, 3)), rng.normal(size=(2100, 3))  # > 1 block
    distances, _ = NearestNeighbors(n_neighbors=4).fit(reference).kneighbors(queries)
    np.testing.assert_allclose(knn_distance(queries, reference, 4), distances.mean(1))
    assert knn_distance(queries[:3], reference[:2], 4).shape == (3,)  # k capped at the rows
    # the reference rows themselves, each without its own zero distance
    distances, _ = NearestNeighbors(n_neighbors=5).fit(reference).kneighbors(reference)
    np.testing.assert_allclose(
        knn_distance(reference, reference, 4, leave_self_out=True), distances[:, 1:].mean(1)
    )


@pytest.fixture(scope="module")
def clusters():
    """Three tight clusters on a plane embedded in 6-D, plus two anomalies: one between the
    clusters on the plane (local: reconstructed well) and one off the plane (global)."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [3.0, 5.0]])
    plane = rng.normal(size=(2, 6))
    points = np.repeat(centres, 100, axis=0) + 0.3 * rng.normal(size=(300, 2))
    between = np.array([[3.0, 1.7]]) @ plane
    off_plane = points[:1] @ plane + 4.0 * np.linalg.svd(plane)[2][-1]
    return np.vstack([points @ plane, between, off_plane])


def test_neighbour_score_finds_a_row_between_clusters(clusters):
    detector = AutoencoderOutlierDetector(method="neighbors", random_state=0).fit(clusters)
    scores = detector.score_samples(clusters)
    assert np.argsort(scores)[:2].tolist().count(300) == 1  # among the two least normal


def test_reconstruction_score_finds_a_row_off_the_plane(clusters):
    detector = AutoencoderOutlierDetector(method="reconstruction", random_state=0).fit(clusters)
    assert np.argmin(detector.score_samples(clusters)) == 301


def test_combined_score_finds_both(clusters):
    detector = AutoencoderOutlierDetector(method="combined", random_state=0).fit(clusters)
    least_normal = set(np.argsort(detector.score_samples(clusters))[:3].tolist())
    assert {300, 301} <= least_normal


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    malignant = rng.choice(np.flatnonzero(y == 0), 30, replace=False)
    rows = np.r_[np.flatnonzero(y == 1), malignant]
    return X[rows], (y[rows] == 0).astype(int)


@pytest.fixture(scope="module")
def cancer_detector(cancer):
    return OutlierDetector(contamination=0.1, random_state=0).fit(cancer[0])


def test_defaults_rank_malignant_rows_as_outliers(cancer, cancer_detector):
    X, is_anomaly = cancer
    auroc = roc_auc_score(is_anomaly, -cancer_detector.score_samples(X))
    assert auroc > 0.85  # chance: 0.5


def test_contamination_sets_the_share_and_scores_are_deterministic(cancer, cancer_detector):
    X = cancer[0]
    assert abs(np.mean(cancer_detector.predict(X) == -1) - 0.1) < 0.01
    scores = cancer_detector.score_samples(X)
    np.testing.assert_allclose(cancer_detector.score_samples(X[:9]), scores[:9], atol=1e-10)
    again = OutlierDetector(contamination=0.1, random_state=0).fit(X).score_samples(X)
    np.testing.assert_allclose(again, scores, atol=1e-8)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"contamination": 0.7}, r"contamination must be a fraction in \(0, 0.5\], got 0.7"),
        ({"max_samples": 0.0}, r"max_samples must be a fraction in \(0, 1\], got 0.0"),
        ({"method": "elbo"}, "method must be one of neighbors, reconstruction, combined"),
        ({"n_estimators": 0}, "n_estimators must be an integer >= 1, got 0"),
        ({"hidden": 0}, "hidden must be an integer >= 1, got 0"),
    ],
)
def test_bad_parameters_are_refused_with_the_fix(clusters, params, match):
    with pytest.raises(ValueError, match=match):
        AutoencoderOutlierDetector(**{**TINY, **params}).fit(clusters)
