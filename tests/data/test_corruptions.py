"""Corruptions and patches: statistics, masks that match the corrupted pixels, seeding."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from latentkit.data.corruptions import (
    CORRUPTIONS,
    corrupt,
    gaussian_noise,
    get_corruption,
    mask_center_box,
    mask_random_boxes,
    mask_random_pixels,
    salt_and_pepper,
)
from latentkit.data.patches import extract_patches
from latentkit.data.transforms import rgb_to_gray
from latentkit.errors import ConfigError
from latentkit.training.config import CorruptionConfig


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_gaussian_noise_sigma_and_clip() -> None:
    x = torch.full((100, 1, 16, 16), 0.5)
    noisy = gaussian_noise(x, 0.1, generator=gen())
    assert abs(float((noisy - x).std()) - 0.1) < 0.005
    clipped = gaussian_noise(x, 2.0, generator=gen())
    assert float(clipped.min()) == 0.0 and float(clipped.max()) == 1.0
    free = gaussian_noise(x, 2.0, clip=False, generator=gen())
    assert float(free.max()) > 1.0
    assert torch.equal(gaussian_noise(x, 0.1, generator=gen()), noisy)


def test_salt_and_pepper_hits_whole_pixels() -> None:
    x = torch.full((200, 3, 8, 8), 0.5)
    out = salt_and_pepper(x, 0.2, generator=gen())
    changed = out != 0.5  # (N, 3, H, W)
    assert torch.equal(changed.all(dim=1), changed.any(dim=1))  # all channels or none
    assert abs(float(changed[:, 0].float().mean()) - 0.2) < 0.02
    values = out[changed]
    assert set(values.unique().tolist()) == {0.0, 1.0}
    assert abs(float(values.mean()) - 0.5) < 0.05


def test_random_pixel_mask_exact_fraction() -> None:
    x = torch.rand(10, 3, 8, 8, generator=gen(1))
    out, missing = mask_random_pixels(x, 0.25, fill=-1.0, generator=gen())
    assert missing.shape == x.shape and missing.dtype == torch.bool
    assert missing[:, 0].sum(dim=(1, 2)).tolist() == [16] * 10
    assert torch.equal(missing.all(dim=1), missing.any(dim=1))
    assert bool((out[missing] == -1.0).all()) and torch.equal(out[~missing], x[~missing])
    table = torch.rand(4, 10)
    _, table_missing = mask_random_pixels(table, 0.3, generator=gen())
    assert table_missing.sum(dim=1).tolist() == [3] * 4


def test_center_box() -> None:
    x = torch.ones(2, 1, 6, 8)
    out, missing = mask_center_box(x, (2, 4))
    expected = torch.zeros(6, 8, dtype=torch.bool)
    expected[2:4, 2:6] = True
    assert torch.equal(missing[1, 0], expected)
    assert float(out.sum()) == 2 * (48 - 8)
    with pytest.raises(ValueError, match="larger than the images"):
        mask_center_box(x, 7)


def test_random_boxes_are_boxes_inside_the_image() -> None:
    x = torch.rand(50, 2, 12, 12, generator=gen(2))
    out, missing = mask_random_boxes(x, 1, 3, generator=gen())
    assert missing[:, 0].sum(dim=(1, 2)).tolist() == [9] * 50  # one 3x3 box each
    rows = missing[:, 0].any(dim=2).sum(dim=1)
    cols = missing[:, 0].any(dim=1).sum(dim=1)
    assert rows.tolist() == [3] * 50 and cols.tolist() == [3] * 50
    assert torch.equal(out[~missing], x[~missing]) and bool((out[missing] == 0).all())
    _, many = mask_random_boxes(x, 4, (2, 5), generator=gen())
    counts = many[:, 0].sum(dim=(1, 2))  # four 2x5 boxes that may overlap
    assert int(counts.min()) >= 10 and int(counts.max()) <= 40 and float(counts.float().mean()) > 25
    positions = missing[:, 0].flatten(1).float().argmax(dim=1)
    assert len(positions.unique()) > 10  # positions vary across the batch


def test_grid_patches_match_slices() -> None:
    x = torch.arange(2 * 3 * 6 * 4, dtype=torch.float32).reshape(2, 3, 6, 4)
    patches, source = extract_patches(x, (3, 2))
    assert patches.shape == (2 * 2 * 2, 3, 3, 2)
    assert torch.equal(patches[0], x[0, :, 0:3, 0:2])
    assert torch.equal(patches[1], x[0, :, 0:3, 2:4])
    assert torch.equal(patches[2], x[0, :, 3:6, 0:2])
    assert torch.equal(patches[7], x[1, :, 3:6, 2:4])
    assert source.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    overlapping, _ = extract_patches(x, 2, stride=1)
    assert overlapping.shape == (2 * 5 * 3, 3, 2, 2)


def test_random_patches_are_real_windows_and_seeded() -> None:
    x = torch.rand(3, 2, 10, 9, generator=gen(3))
    patches, source = extract_patches(x, 4, mode="random", n_patches=5, generator=gen())
    assert patches.shape == (15, 2, 4, 4)
    for patch, i in zip(patches, source.tolist(), strict=True):
        windows = x[i].unfold(1, 4, 1).unfold(2, 4, 1)  # (C, 7, 6, 4, 4)
        hits = (windows == patch[:, None, None]).all(dim=(0, 3, 4))
        assert bool(hits.any())
    again, _ = extract_patches(x, 4, mode="random", n_patches=5, generator=gen())
    assert torch.equal(again, patches)
    with pytest.raises(ValueError, match="needs n_patches"):
        extract_patches(x, 4, mode="random")


def test_registry_draws_what_the_functions_draw() -> None:
    """Each kind is the function it names, with the same random draws (resumed runs and saved
    configs depend on it)."""
    x = torch.rand(6, 3, 8, 8, generator=gen(4))
    expected = {
        "gaussian": gaussian_noise(x, 0.3, clip=False, generator=gen()),
        "salt_pepper": salt_and_pepper(x, 0.3, generator=gen()),
        "mask": mask_random_pixels(x, 0.3, generator=gen())[0],
        "box_mask": mask_random_boxes(x, 1, 2, generator=gen())[0],  # round(0.3 * 8)
        "grayscale": rgb_to_gray(x).expand_as(x),
    }
    assert set(CORRUPTIONS) == set(expected)
    for kind, want in expected.items():
        got = corrupt(x, kind, 0.3, clip=False, generator=gen())
        assert torch.equal(got, want), kind
    assert [k for k, c in CORRUPTIONS.items() if c.fraction] == ["salt_pepper", "mask", "box_mask"]


def test_unknown_kind_names_the_registered_kinds() -> None:
    with pytest.raises(ValueError, match=r"unknown corruption kind 'blur'.*gaussian, salt_pepper"):
        get_corruption("blur")
    for build in (
        lambda: CorruptionConfig("blur"),
        lambda: CorruptionConfig.from_dict({"kind": "blur"}),
    ):
        with pytest.raises(ConfigError, match=r"CorruptionConfig\.kind must be one of") as caught:
            build()
        assert "'blur'" in str(caught.value)
        assert all(repr(kind) in str(caught.value) for kind in CORRUPTIONS)
    with pytest.raises(ConfigError, match=r"CorruptionConfig\.amount must be in \[0.0, 1.0\]"):
        CorruptionConfig("box_mask", 1.5)
    assert CorruptionConfig("gaussian", 1.5).amount == 1.5  # a noise scale, not a share


def test_registry_names_load_without_torch() -> None:
    """``latentkit train --help`` lists the kinds without importing PyTorch."""
    code = (
        "import sys, latentkit.data.corruptions as c; print(*c.CORRUPTIONS, 'torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [*CORRUPTIONS, "False"]
