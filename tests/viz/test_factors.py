"""Data with known factors (dsprites) in the report and the explorer: traversals ordered by KL,
the factor-by-latent information heatmap, sliders labelled with the factor they move."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentkit import datasets
from latentkit.evaluation import latent_factors, normalized_mutual_information
from latentkit.models.registry import create_model
from latentkit.serve.explorer import Explorer
from latentkit.training import TrainConfig, Trainer
from latentkit.viz import build_report
from latentkit.viz.factors import plot_factor_information, traversal_labels
from tests.viz.test_report import Page


@pytest.fixture(scope="module")
def trained():
    """A small VAE on 2,048 dsprites rows (a few hundred steps: some latents carry x and y)."""
    data = datasets.load("dsprites")
    rows = torch.from_numpy(np.random.default_rng(0).choice(737_280, 2048, replace=False))
    model = create_model("vae", (1, 64, 64), seed=0, latent_dim=4, beta=2.0,
                         network={"kind": "mlp", "hidden": [64]})  # fmt: skip
    Trainer(TrainConfig(epochs=6, batch_size=32, lr=2e-3, progress=False)).fit(
        model, data.subset(rows)
    )
    return model.eval(), data


def test_heatmap_and_labels():
    nmi = np.array([[0.9, 0.0], [0.1, 0.5], [0.0, 0.0]])
    fig = plot_factor_information(nmi, ["x", "y"], dims=[1, 0, 2])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["z1", "z0", "z2"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y"]
    assert ax.images[0].get_array().shape == (2, 3)
    with pytest.raises(ValueError, match="factor names"):
        plot_factor_information(nmi, ["x"])
    kl = torch.tensor([0.5, 2.0, 0.0])
    assert traversal_labels([1, 0], kl, ["x", None, None]) == ["z1 · KL 2.00", "z0 · KL 0.50 · x"]
    assert traversal_labels([2], None, None) == ["z2"]


def test_report_orders_traversals_by_kl_and_shows_the_factors(trained, tmp_path):
    model, data = trained
    out = build_report(model, data, tmp_path / "r.html", eval_points=400, iwae_points=8,
                       sections=["traversals", "factors", "kl-per-dimension"])  # fmt: skip
    page = Page(out.read_text())
    assert set(page.sections) == {"traversals", "factors", "kl-per-dimension"}
    text = out.read_text()
    assert "MIG (20 bins)" in text and "FactorVAE score" in text
    assert "rows by KL (nats), largest first" in text
    assert "factor each latent tells most about" in text


def test_report_says_why_without_factors(trained, tmp_path):
    model, data = trained
    part = data.subset(torch.arange(300))
    plain = type(part)(part.x[:], part.y, part.name, dict(part.meta))  # no factors
    out = build_report(model, plain, tmp_path / "r.html", iwae_points=8,
                       sections=["factors"])  # fmt: skip
    assert "drawn for data with factor labels" in out.read_text()
    out = build_report(model, plain, tmp_path / "all.html", iwae_points=8)
    assert "factor" not in Page(out.read_text()).sections  # silent in a full report


def test_explorer_labels_sliders_with_factors(trained):
    model, data = trained
    explorer = Explorer(model, data, max_points=300, map_method="pca")
    sliders = explorer.info()["sliders"]
    codes = explorer._encode(data.x[explorer.indices], None).numpy()
    expected = latent_factors(codes, data.factors[explorer.indices], data.meta["factor_names"])
    assert sliders["factors"] == expected
    assert any(label in ("x", "y") for label in expected)  # position is learnt first
    nmi = normalized_mutual_information(codes, data.factors[explorer.indices])
    assert nmi.max() > 0.1
    plain = type(data)(data.x[:50], data.y[:50], data.name, dict(data.meta))
    assert (
        Explorer(model, plain, max_points=50, map_method="pca").info()["sliders"]["factors"] is None
    )


def test_report_draws_a_factor_value_difference_as_latent_arithmetic(trained, tmp_path):
    model, data = trained
    part = data.subset(torch.arange(0, 737_280, 977))  # every shape, scale, angle, x and y
    out = build_report(model, part, tmp_path / "r.html", iwae_points=8, sections=["attribute"])
    text = out.read_text()
    assert set(Page(text).sections) == {"attribute"}
    assert "latent arithmetic on inputs labelled square" in text  # ellipse - square, on squares
    assert "points labelled ellipse minus that of the" in text
