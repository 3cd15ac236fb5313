"""Latent maps of codes with more than two dimensions (t-SNE with openTSNE, PCA without it),
score histograms on a log axis, manifold ticks and visible inpainting masks."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from latentkit.viz import plot_anomaly_histogram, plot_latent_scatter, plot_manifold
from latentkit.viz.charts import wants_log_axis
from latentkit.viz.maps import MIN_TSNE_POINTS, latent_map
from latentkit.viz.plots import plot_restoration
from tests.viz.helpers import colour_fraction, render


def clusters(n: int = 150, dim: int = 5, seed: int = 0) -> np.ndarray:
    """``n`` codes of ``dim`` dimensions in three well separated clusters, ``(n, dim)``."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 6, (3, dim))
    return centres[np.arange(n) % 3] + rng.normal(0, 0.5, (n, dim))


@pytest.fixture
def without_opentsne(monkeypatch):
    """Make ``import openTSNE`` fail (and find_spec return None), as when it is missing."""
    monkeypatch.setitem(sys.modules, "openTSNE", None)


def test_five_dimensional_codes_use_tsne_when_installed():
    pytest.importorskip("openTSNE")
    codes = clusters()
    first = latent_map(codes, seed=0)
    assert first.method == "t-SNE" and first.note is None and not first.linear
    assert first.points.shape == (150, 2) and "t-SNE of 5-D codes" in first.title
    assert np.array_equal(first.points, latent_map(codes, seed=0).points)  # deterministic
    # the clusters stay apart: each point's nearest neighbour on the map is in its cluster
    d = np.linalg.norm(first.points[:, None] - first.points[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    assert (d.argmin(1) % 3 == np.arange(150) % 3).mean() > 0.95
    ax = plot_latent_scatter(torch.from_numpy(codes), torch.arange(150) % 3).axes[0]
    assert ax.get_xlabel() == "t-SNE 1" and "t-SNE of 5-D codes" in ax.get_title()


def test_without_opentsne_the_map_is_pca_and_says_why(without_opentsne):
    with pytest.raises(ImportError):
        import openTSNE  # noqa: F401
    mapped = latent_map(clusters())
    assert mapped.method == "PCA" and mapped.linear
    assert "openTSNE is not installed" in mapped.note and "latentkit[maps]" in mapped.note
    ax = plot_latent_scatter(torch.from_numpy(clusters())).axes[0]
    assert ax.get_xlabel() == "PCA 1"
    assert "PCA of 5-D codes" in ax.get_title() and "openTSNE is not installed" in ax.get_title()


def test_too_few_points_fall_back_to_pca():
    mapped = latent_map(clusters(n=MIN_TSNE_POINTS - 1))
    assert mapped.method == "PCA" and f"t-SNE needs {MIN_TSNE_POINTS}" in mapped.note
    np.testing.assert_allclose(mapped.points, latent_map(clusters(n=49), "pca").points)


def test_pca_and_identity_maps():
    codes = clusters()
    pca = latent_map(codes, "pca")
    assert pca.note is None and 0 < pca.explained <= 1 and pca.axis_labels == ("PCA 1", "PCA 2")
    np.testing.assert_allclose((codes - pca.mean) @ pca.components.T, pca.points)
    flat = latent_map(codes[:, :2])
    assert flat.method == "latent coordinates" and flat.axis_labels == ("z[0]", "z[1]")
    np.testing.assert_array_equal(flat.points, codes[:, :2])
    with pytest.raises(ValueError, match="method must be one of"):
        latent_map(codes, "umap")


def test_explicit_tsne_without_opentsne_uses_scikit_learn(without_opentsne):
    mapped = latent_map(clusters(n=60), "tsne")
    assert mapped.method == "t-SNE" and mapped.points.shape == (60, 2)


def test_scatter_coloured_by_a_value_has_a_colour_bar():
    codes = torch.from_numpy(clusters(n=60))
    scores = torch.logspace(-2, 2, 60)
    fig = plot_latent_scatter(codes, values=scores, value_name="score", projection="pca")
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "score"
    assert fig.axes[0].collections[0].norm.__class__.__name__ == "LogNorm"


@pytest.mark.parametrize(
    ("scores", "log"),
    [
        (np.r_[np.linspace(1.0, 2.0, 200), 500.0], True),  # one huge score: > 2 orders
        (np.linspace(1.0, 90.0, 200), False),  # under two orders of magnitude
        (np.r_[np.linspace(-1.0, 2.0, 200), 500.0], False),  # not all positive
    ],
)
def test_histograms_switch_to_a_log_axis_over_two_orders_of_magnitude(scores, log):
    assert wants_log_axis(scores) is log
    ax = plot_anomaly_histogram(scores).axes[0]
    assert ax.get_xscale() == ("log" if log else "linear")
    assert ("log scale" in ax.get_xlabel()) is log
    if log:  # the normal scores spread over several bars instead of one
        counts = [p.get_height() for p in ax.patches]
        assert sum(c > 0 for c in counts) > 5


def test_two_score_sets_on_a_log_axis():
    normal = np.linspace(0.5, 2.0, 100)
    anomalous = np.linspace(50.0, 900.0, 20)
    ax = plot_anomaly_histogram(normal, anomalous, threshold=3.0).axes[0]
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "fraction of each set"
    ax = plot_anomaly_histogram(normal, anomalous, log=False).axes[0]
    assert ax.get_xscale() == "linear"
    with pytest.raises(ValueError, match="positive"):
        plot_anomaly_histogram(np.array([-1.0, 2.0]), log=True)


def test_manifold_has_tick_values():
    grid = torch.rand(15, 15, 1, 8, 8)
    ax = plot_manifold(grid).axes[0]
    xs = [t.get_text() for t in ax.get_xticklabels()]
    ys = [t.get_text() for t in ax.get_yticklabels()]
    assert xs[0] == "-1.6" and xs[-1] == "+1.6" and len(xs) == 8  # latent_grid's quantiles,
    assert [float(x) for x in xs] == [-float(x) for x in xs[::-1]]  # every other column
    assert ys == xs[::-1]  # the largest z[1] at the top
    assert ax.get_xlabel() == "z[0]" and ax.get_ylabel() == "z[1]"
    ax = plot_manifold(torch.rand(3, 3, 1, 4, 4), values=[-1.0, 0.0, 1.0]).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["-1.0", "+0.0", "+1.0"]
    with pytest.raises(ValueError, match="one coordinate per grid column"):
        plot_manifold(torch.rand(3, 3, 1, 4, 4), values=[0.0, 1.0])


def test_inpainting_mask_is_visible_on_black_images():
    clean = torch.zeros(4, 1, 12, 12)
    clean[:, :, 2:10, 5:7] = 1.0  # a white stroke on black, as in MNIST
    missing = torch.zeros_like(clean, dtype=torch.bool)
    missing[:, :, 3:9, 3:9] = True
    corrupted = clean.masked_fill(missing, 0.0)  # a black box on black: invisible as it is
    plain = render(plot_restoration(corrupted, clean, clean, task="inpaint"))
    masked = render(plot_restoration(corrupted, clean, clean, task="inpaint", mask=missing))
    assert colour_fraction(plain) < 0.001
    assert colour_fraction(masked) > 0.01
    with pytest.raises(ValueError, match="mask must have shape"):
        plot_restoration(corrupted, clean, clean, mask=missing[:, :, :4])
