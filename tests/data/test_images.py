"""Image folders: plain and class layouts, resizing, patches, and unreadable files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from latentkit.datasets import load
from latentkit.errors import DataError
from tests.conftest import require_data


def save(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_flat_folder_rgb_and_gray(tmp_path: Path) -> None:
    red = np.zeros((6, 5, 3), np.uint8)
    red[..., 0] = 255
    save(tmp_path / "a.png", red)
    save(tmp_path / "b.png", np.full((6, 5, 3), 51, np.uint8))
    rgb = load(tmp_path, mode="rgb")
    assert rgb.x.shape == (2, 3, 6, 5) and rgb.y is None
    assert torch.allclose(rgb.x[0, :, 0, 0], torch.tensor([1.0, 0.0, 0.0]))
    assert torch.allclose(rgb.x[1], torch.full((3, 6, 5), 0.2))
    gray = load(tmp_path, mode="gray")
    assert gray.x.shape == (2, 1, 6, 5)
    assert abs(float(gray.x[0, 0, 0, 0]) - 0.299) < 0.01  # BT.601 luma of pure red
    assert gray.meta["files"] == ["a.png", "b.png"]


def test_one_image_file_is_a_dataset_of_one_image(tmp_path: Path) -> None:
    pixels = np.arange(6 * 5 * 3, dtype=np.uint8).reshape(6, 5, 3)
    save(tmp_path / "photo.png", pixels)
    save(tmp_path / "other.png", np.zeros((6, 5, 3), np.uint8))  # a neighbour, not read
    one = load(str(tmp_path / "photo.png"))
    assert one.x.shape == (1, 3, 6, 5) and one.y is None
    assert torch.equal(one.x[0], torch.from_numpy(pixels).permute(2, 0, 1) / 255.0)
    assert one.meta["files"] == ["photo.png"]
    assert load(tmp_path / "photo.png", patch_size=3).x.shape == (2, 3, 3, 3)  # grid patches
    with pytest.raises(DataError, match="no 'test' split; pass split='all'"):
        load(tmp_path / "photo.png", "test")


def test_class_subfolders_give_labels(tmp_path: Path) -> None:
    for cls, n in (("cat", 2), ("dog", 3)):
        for i in range(n):
            save(tmp_path / cls / f"{i}.png", np.full((4, 4), 10 * i, np.uint8))
    data = load(tmp_path, mode="gray")
    assert data.y.tolist() == [0, 0, 1, 1, 1]
    assert data.meta["class_names"] == ["cat", "dog"]


def test_split_subfolder_is_used(tmp_path: Path) -> None:
    save(tmp_path / "train" / "x.png", np.zeros((4, 4), np.uint8))
    save(tmp_path / "test" / "y.png", np.zeros((4, 4), np.uint8))
    save(tmp_path / "test" / "z.png", np.zeros((4, 4), np.uint8))
    assert len(load(tmp_path, "test", mode="gray")) == 2
    assert load(tmp_path, "train", mode="gray").meta["split"] == "train"


def test_unreadable_image_is_named(tmp_path: Path) -> None:
    save(tmp_path / "good.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    with pytest.raises(DataError, match=r"broken\.png: cannot read this image"):
        load(tmp_path)


def test_sizes_differ_needs_size_or_patches(tmp_path: Path) -> None:
    save(tmp_path / "a.png", np.zeros((8, 8), np.uint8))
    save(tmp_path / "b.png", np.zeros((12, 10), np.uint8))
    with pytest.raises(DataError, match=r"differ in size.*b\.png is \(12, 10\).*size=\(H, W\)"):
        load(tmp_path, mode="gray")
    assert load(tmp_path, mode="gray", size=(6, 7)).x.shape == (2, 1, 6, 7)
    grid = load(tmp_path, mode="gray", patch_size=4)
    assert grid.x.shape == (4 + 6, 1, 4, 4)  # 2x2 patches + 3x2 patches


def test_random_patches_are_seeded(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    save(tmp_path / "c" / "a.png", rng.integers(0, 256, (20, 20), dtype=np.uint8))
    save(tmp_path / "d" / "b.png", rng.integers(0, 256, (16, 24), dtype=np.uint8))
    one = load(tmp_path, mode="gray", patch_size=5, patches="random", n_patches=7, seed=3)
    two = load(tmp_path, mode="gray", patch_size=5, patches="random", n_patches=7, seed=3)
    assert one.x.shape == (14, 1, 5, 5) and torch.equal(one.x, two.x)
    assert one.y.tolist() == [0] * 7 + [1] * 7
    with pytest.raises(DataError, match="larger than the images"):
        load(tmp_path, mode="gray", patch_size=17)


def test_shared_image_set_loads() -> None:
    folder = require_data("images/Set5")
    data = load(folder, mode="rgb", size=(32, 32))
    assert data.x.shape == (5, 3, 32, 32)
    assert float(data.x.min()) >= 0.0 and float(data.x.max()) <= 1.0
