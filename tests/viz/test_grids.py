"""Image tiling, PNG output and the no-pyplot rule."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import latentkit.viz
from latentkit.viz import figure_to_png_bytes, image_grid, save_figure
from latentkit.viz.grids import as_image_array, new_figure
from tests.viz.helpers import decode_png


def test_image_grid_places_each_image_and_pads():
    images = torch.arange(5, dtype=torch.float32).view(5, 1, 1, 1).expand(5, 1, 2, 3) / 10
    grid = image_grid(images, nrow=3, padding=1, pad_value=1.0)
    assert grid.shape == (2 * 3 + 1, 3 * 4 + 1, 1)  # 2 rows of 3, 2x3 images, 1-pixel padding
    assert np.allclose(grid[1:3, 1:4, 0], 0.0)  # image 0 at the top left
    assert np.allclose(grid[1:3, 9:12, 0], 0.2)  # image 2 ends the first row
    assert np.allclose(grid[4:6, 5:8, 0], 0.4)  # image 4 second in the second row
    assert np.allclose(grid[4:6, 9:12, 0], 1.0)  # the missing sixth cell is padding
    assert np.allclose(grid[0], 1.0) and np.allclose(grid[:, 0], 1.0)


def test_image_grid_rgb_and_fewer_images_than_a_row():
    images = np.random.default_rng(0).random((2, 3, 4, 4), dtype=np.float32)
    grid = image_grid(images, nrow=8, padding=0)
    assert grid.shape == (4, 8, 3)
    assert np.allclose(grid[:, 4:], images[1].transpose(1, 2, 0))


def test_image_grid_clips_to_unit_range():
    grid = image_grid(torch.tensor([[[[-1.0, 2.0]]]]), nrow=1, padding=0)
    assert grid.min() == 0.0 and grid.max() == 1.0


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (torch.rand(4, 64), "tabular rows"),
        (torch.rand(4, 8, 8), r"\(N, C, H, W\)"),
        (torch.rand(4, 2, 8, 8), "1 \\(gray\\) or 3 \\(RGB\\) channels"),
        (torch.rand(0, 1, 8, 8), "empty"),
        (torch.full((1, 1, 2, 2), float("nan")), "NaN"),
    ],
)
def test_bad_images_raise_clear_errors(images, message):
    with pytest.raises(ValueError, match=message):
        as_image_array(images)


def test_image_grid_rejects_bad_nrow():
    with pytest.raises(ValueError, match="nrow must be >= 1"):
        image_grid(torch.rand(2, 1, 4, 4), nrow=0)


def _figure() -> Figure:
    fig = new_figure(3, 2)
    fig.add_subplot().plot([0, 1], [1, 0])
    return fig


def test_figure_to_png_bytes_is_a_png_of_the_figure_size():
    pixels = decode_png(figure_to_png_bytes(_figure()))
    assert pixels.shape == (200, 300, 3)  # 3 x 2 inches at 100 dpi


def test_figure_to_png_bytes_refuses_other_objects():
    with pytest.raises(TypeError, match="matplotlib Figure"):
        figure_to_png_bytes(np.zeros((4, 4)))


def test_save_figure_writes_a_png_atomically(tmp_path):
    path = save_figure(_figure(), tmp_path / "sub" / "fig.png")
    assert path == tmp_path / "sub" / "fig.png"
    decode_png(path.read_bytes())
    assert [p.name for p in path.parent.iterdir()] == ["fig.png"]  # no temporary left behind


def test_save_figure_refuses_other_formats(tmp_path):
    with pytest.raises(ValueError, match=r"\.png"):
        save_figure(_figure(), tmp_path / "fig.jpg")
    assert not list(tmp_path.iterdir())


def test_viz_never_touches_pyplot_or_the_backend():
    """Figures are built as Figure objects: importing latentkit selects no backend."""
    sources = Path(latentkit.viz.__file__).parent.glob("*.py")
    pattern = re.compile(r"matplotlib\.pyplot|from matplotlib import pyplot|matplotlib\.use\(")
    offenders = [p.name for p in sources if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
