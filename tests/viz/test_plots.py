"""Every figure renders to a non-blank PNG of a sensible size; bad inputs raise clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentkit.apps.latent import apply_attribute, attribute_vector, interpolate, latent_grid
from latentkit.evaluation import kl_per_dimension
from latentkit.viz import (
    latent_traversals,
    plot_anomaly_histogram,
    plot_attribute_edits,
    plot_image_grid,
    plot_interpolations,
    plot_kl_per_dimension,
    plot_latent_scatter,
    plot_manifold,
    plot_reconstructions,
    plot_restoration,
    plot_roc,
    plot_samples,
    plot_training_curves,
    plot_traversals,
)
from latentkit.viz.grids import new_figure
from tests.viz.helpers import colour_fraction, gray_std, render

METRICS = [
    {"epoch": e, "train_loss": 30 - e, "train_reconstruction": 28 - e, "train_kl": 2 + 0.1 * e,
     "val_loss": 31 - e, "val_reconstruction": 29 - e, "val_kl": 2 + 0.2 * e, "lr": 1e-3}
    for e in range(1, 6)
]  # fmt: skip


def _image_figures(digits, vae):
    x = digits.x[:16]
    with torch.inference_mode():
        recon = vae.reconstruct(x)
        samples = vae.sample(24, generator=torch.Generator().manual_seed(0))
    noisy = (x[:6] + 0.3 * torch.randn(x[:6].shape, generator=torch.Generator())).clamp(0, 1)
    rgb = torch.rand(5, 3, 12, 12, generator=torch.Generator().manual_seed(1))
    values = torch.linspace(-3, 3, 7)
    vector = attribute_vector(vae, digits.x[:200], digits.y[:200], positive=1, negative=0)
    strengths = [0.0, 1.0, 2.0]
    return {
        "attribute": plot_attribute_edits(
            x[:3], apply_attribute(vae, x[:3], vector, strengths), strengths
        ),
        "grid": plot_image_grid(x),
        "reconstructions": plot_reconstructions(x, recon),
        "samples": plot_samples(samples),
        "manifold": plot_manifold(latent_grid(vae, 10)),
        "interpolations": plot_interpolations(interpolate(vae, x[:3], x[3:6], steps=8)),
        "traversals": plot_traversals(latent_traversals(vae, x[:1], values=values), values),
        "denoise": plot_restoration(noisy, vae.reconstruct(noisy).detach(), x[:6]),
        "colorize": plot_restoration(rgb.mean(1, keepdim=True), rgb * 0.8, rgb, task="colorize"),
    }


def test_image_figures_are_drawn(digits, vae):
    """Pictures of digits: high contrast everywhere (a lone title has a gray std of ~5)."""
    for name, fig in _image_figures(digits, vae).items():
        pixels = render(fig)
        h, w = pixels.shape[:2]
        assert 150 <= h <= 1500 and 250 <= w <= 1300, (name, pixels.shape)
        assert gray_std(pixels) > 50, name


def test_attribute_figure_checks_its_shapes(digits):
    x = digits.x[:3]
    with pytest.raises(ValueError, match=r"edits must have shape \(S, N, C, H, W\)"):
        plot_attribute_edits(x, x[None].expand(2, -1, -1, -1, -1), [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="edits must have shape"):
        plot_attribute_edits(x, x[None, :2], [0.0])


def test_chart_figures_are_drawn(digits, vae):
    """Charts: lines, bars or points in colour (empty axes have no coloured pixel)."""
    codes = vae.encode(digits.x[:300]).detach()
    g = torch.Generator().manual_seed(0)
    normal, anomalous = torch.randn(300, generator=g), torch.randn(60, generator=g) + 2
    figures = {
        "scatter 2-D": plot_latent_scatter(codes, digits.y[:300]),
        "scatter 5-D": plot_latent_scatter(torch.randn(300, 5, generator=g), digits.y[:300]),
        "scatter unlabelled": plot_latent_scatter(codes),
        "curves": plot_training_curves(METRICS),
        "kl": plot_kl_per_dimension(kl_per_dimension(vae, digits.x[:300])),
        "histogram": plot_anomaly_histogram(normal, anomalous, threshold=1.0),
        "roc": plot_roc(torch.cat([normal, anomalous]), torch.arange(360) >= 300),
    }
    for name, fig in figures.items():
        pixels = render(fig)
        h, w = pixels.shape[:2]
        assert 250 <= h <= 800 and 300 <= w <= 1300, (name, pixels.shape)
        assert gray_std(pixels) > 20, name
        assert colour_fraction(pixels) > 0.003, name


def test_the_checks_catch_empty_figures():
    fig = new_figure(6, 4)
    fig.add_subplot().set_title("nothing drawn")
    pixels = render(fig)
    assert gray_std(pixels) < 50
    assert colour_fraction(pixels) < 0.003


def test_gray_images_use_a_gray_colormap_and_rgb_is_shown_as_is():
    gray = plot_image_grid(torch.rand(4, 1, 6, 6))
    (image,) = gray.axes[0].get_images()
    assert image.get_cmap().name == "gray" and image.get_array().ndim == 2
    rgb = plot_image_grid(torch.rand(4, 3, 6, 6))
    assert rgb.axes[0].get_images()[0].get_array().shape[-1] == 3


def test_scatter_names_the_projection():
    codes, labels = torch.randn(120, 6), torch.arange(120) % 3
    ax = plot_latent_scatter(codes, labels, projection="pca").axes[0]
    assert ax.get_xlabel() == "PCA 1" and "PCA of 6-D codes" in ax.get_title()
    ax = plot_latent_scatter(codes, labels, projection="tsne", max_points=60).axes[0]
    assert ax.get_xlabel() == "t-SNE 1" and "t-SNE of 6-D codes" in ax.get_title()
    assert plot_latent_scatter(codes[:, :2]).axes[0].get_xlabel() == "z[0]"


def test_scatter_subsamples_to_max_points():
    fig = plot_latent_scatter(torch.randn(5000, 2), torch.arange(5000) % 10, max_points=700)
    assert len(fig.axes[0].collections[0].get_offsets()) == 700


def test_kl_chart_marks_active_units():
    kl = torch.tensor([1.5, 0.001, 0.8, 0.0])
    assert "2 of 4 active" in plot_kl_per_dimension(kl).axes[0].get_title()
    active = torch.tensor([True, True, False, False])
    assert "2 of 4 active" in plot_kl_per_dimension(kl, active=active).axes[0].get_title()


def test_restoration_titles_carry_psnr():
    clean = torch.full((2, 1, 4, 4), 0.5)
    output = clean + 0.1  # MSE 0.01: 20 dB
    corrupted = clean + 0.5  # clipped to 1: MSE 0.25, 6.0 dB
    fig = plot_restoration(corrupted, output, clean, task="inpaint")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["input (PSNR 6.0 dB)", "inpaint output (PSNR 20.0 dB)", "clean target"]


def test_training_curves_accept_slash_keys_and_missing_validation():
    rows = [{"epoch": e, "train/loss": 1.0 / e, "train/kl": 0.1, "val/loss": None} for e in (1, 2)]
    fig = plot_training_curves(rows)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "kl"]


def test_traversal_rows_follow_dims(vae, digits):
    images = latent_traversals(vae, digits.x[:1], dims=[1], values=torch.tensor([-2.0, 0.0, 2.0]))
    assert images.shape == (1, 3, 1, 8, 8)
    code = vae.encode(digits.x[:1]).detach()
    code[0, 1] = 2.0
    assert torch.allclose(images[0, 2], vae.decode(code).detach()[0], atol=1e-6)
    labels = plot_traversals(images, np.array([[-2.0, 0.0, 2.0]]), dims=[1]).axes[0]
    assert labels.get_yticklabels()[0].get_text().startswith("z[1]")


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: plot_samples(torch.rand(8, 64)), ValueError, "tabular rows"),
        (lambda: plot_reconstructions(torch.rand(4, 1, 8, 8), torch.rand(4, 1, 6, 6)),
         ValueError, "same shape"),
        (lambda: plot_manifold(torch.rand(4, 1, 8, 8)), ValueError, r"\(n, m, C, H, W\)"),
        (lambda: plot_interpolations(torch.rand(4, 1, 8, 8)), ValueError, "steps, pairs"),
        (lambda: plot_traversals(torch.rand(2, 5, 1, 8, 8), torch.rand(4)), ValueError,
         "values must have shape"),
        (lambda: plot_latent_scatter(torch.randn(10, 1)), ValueError, "D >= 2"),
        (lambda: plot_latent_scatter(torch.randn(10, 3), torch.zeros(9)), ValueError,
         "same count"),
        (lambda: plot_latent_scatter(torch.randn(10, 3), projection="umap"), ValueError,
         "projection must be one of"),
        (lambda: plot_training_curves([]), ValueError, "empty"),
        (lambda: plot_training_curves([{"epoch": 1, "lr": 0.1}]), ValueError, "none of the terms"),
        (lambda: plot_kl_per_dimension(torch.ones(3), active=torch.ones(2)), ValueError,
         "active has 2 entries"),
        (lambda: plot_roc(torch.rand(4), torch.zeros(4)), ValueError, "both classes"),
        (lambda: plot_anomaly_histogram(torch.rand(4), torch.tensor([float("nan")])),
         ValueError, "NaN"),
        (lambda: plot_restoration(torch.rand(2, 1, 8, 8), torch.rand(2, 3, 8, 8),
                                  torch.rand(2, 1, 8, 8)), ValueError, "output and clean"),
    ],
)  # fmt: skip
def test_wrong_inputs_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_traversals_reject_bad_dims(vae, digits):
    with pytest.raises(ValueError, match="outside"):
        latent_traversals(vae, digits.x[:1], dims=[5])
    with pytest.raises(ValueError, match="exactly one input"):
        latent_traversals(vae, digits.x[:2])
