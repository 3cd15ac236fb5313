"""dSprites drawn procedurally: the factor grid, determinism, memory, shapes and training."""

from __future__ import annotations

import hashlib
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from latentkit import datasets
from latentkit.data.dsprites import FACTOR_SIZES, factor_values, factors_of, index_of, render
from latentkit.data.lazy import LazyRows
from latentkit.errors import DataError


@pytest.fixture(scope="module")
def data():
    return datasets.load("dsprites")


def test_grid_has_every_combination_once(data):
    assert len(data) == 737_280 == math.prod(FACTOR_SIZES)
    assert data.shape == (1, 64, 64) and data.is_image
    f = data.factors
    assert f.shape == (737_280, 5) and f.dtype == torch.int64
    for k, size in enumerate(FACTOR_SIZES):  # each class equally often
        counts = torch.bincount(f[:, k])
        assert counts.tolist() == [737_280 // size] * size
    ids = index_of(f.numpy())
    assert np.array_equal(ids, np.arange(737_280))  # row-major order, y fastest
    assert f[1].tolist() == [0, 0, 0, 0, 1] and f[32].tolist() == [0, 0, 0, 1, 0]
    assert torch.equal(data.y, f[:, 0])
    assert data.meta["factor_names"] == ["shape", "scale", "orientation", "x", "y"]
    assert data.meta["class_names"] == ["square", "ellipse", "heart"]


def test_factor_values_follow_the_original():
    shape, scale, orientation, x, y = factor_values()
    assert shape == [1.0, 2.0, 3.0]
    assert np.allclose(scale, [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert len(orientation) == 40 and orientation[0] == 0 and orientation[-1] < 2 * math.pi
    assert np.allclose(np.diff(orientation), 2 * math.pi / 40)
    assert np.allclose(x, np.linspace(0, 1, 32)) and x == y


def test_batches_are_float_binary_images(data):
    batch = data.x[1000:1010]
    assert batch.shape == (10, 1, 64, 64) and batch.dtype == torch.float32
    assert set(torch.unique(batch).tolist()) <= {0.0, 1.0}
    assert data.x[5].shape == (1, 64, 64)
    assert torch.equal(data.x[torch.tensor([7, 3])], torch.stack([data.x[7], data.x[3]]))
    assert torch.equal(data.x.index_select(0, torch.tensor([3])), data.x[3:4])
    assert torch.equal(data.x[-1], data.x[737_279])


def test_factors_move_the_sprite_as_described(data):
    def image(shape, scale, orientation, x, y):
        return data.x[index_of(np.array([[shape, scale, orientation, x, y]]))][0, 0]

    small, big = image(0, 0, 0, 10, 10), image(0, 5, 0, 10, 10)
    assert small.sum() == 10 * 10 and big.sum() == 20 * 20  # square side 20 * scale pixels
    moved = image(0, 5, 0, 13, 10)
    assert torch.equal(torch.roll(big, 3, dims=1), moved)  # x is the column, 1 pixel a class
    assert torch.equal(torch.roll(big, 2, dims=0), image(0, 5, 0, 10, 12))  # y the row
    _rows, cols = torch.nonzero(big, as_tuple=True)
    assert cols.float().mean() == 10 + 16 - 0.5  # centred on the patch's middle
    # a quarter turn of a square is the same square; 45 degrees is not
    assert torch.equal(image(0, 5, 10, 10, 10), big)
    assert not torch.equal(image(0, 5, 5, 10, 10), big)
    # ellipse and heart are smaller than the square; every sprite stays inside the image
    assert image(1, 5, 0, 10, 10).sum() < image(2, 5, 0, 10, 10).sum() < big.sum()
    corner = data.x[index_of(np.array([[s, 5, o, x, y] for s in range(3) for o in range(40)
                                        for x in (0, 31) for y in (0, 31)]))]  # fmt: skip
    assert corner[:, 0, 0, :].sum() == corner[:, 0, -1, :].sum() == 0
    assert corner[:, 0, :, 0].sum() == corner[:, 0, :, -1].sum() == 0


def test_drawing_is_deterministic(data):
    ids = np.random.default_rng(0).integers(0, 737_280, 2000)
    first = render(ids)
    assert torch.equal(first, render(ids))
    code = "from latentkit.data.dsprites import render; import numpy as np, hashlib; " \
           "print(hashlib.sha256(render(np.arange(0, 737280, 97)).numpy().tobytes())" \
           ".hexdigest())"  # fmt: skip
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout.strip()  # fmt: skip
    here = hashlib.sha256(render(np.arange(0, 737_280, 97)).numpy().tobytes()).hexdigest()
    assert other == here
    # the pixels count of every sprite patch, pinned: a change of the drawing shows here
    total = sum(int(render(np.arange(k, 737_280, 1024)).sum()) for k in (0, 517))
    assert total == TOTAL_PINNED


TOTAL_PINNED = 240_240


def test_memory_stays_small(data):
    assert isinstance(data.x, LazyRows)  # no (737280, 1, 64, 64) float32 tensor (12 GB)
    held = data.factors.numel() * 8 + data.y.numel() * 8
    assert held < 40e6
    with pytest.raises(DataError, match="LATENTKIT_MAX_DATA_BYTES"):
        data.x[:]  # 12 GB as float32: refused before anything is made


def test_subset_stays_lazy_and_keeps_factors(data):
    index = torch.tensor([5, 700_000, 42])
    part = data.subset(index)
    assert isinstance(part.x, LazyRows) and len(part) == 3
    assert torch.equal(part.x[0:3], data.x[index])
    assert torch.equal(part.factors, data.factors[index])
    assert torch.equal(part.subset([2]).x[0], data.x[42])


def test_unknown_split_is_refused():
    with pytest.raises(DataError, match="no test split"):
        datasets.load("dsprites", "test")


def test_factor_helpers_round_trip():
    ids = np.array([0, 1, 31, 32, 737_279])
    assert np.array_equal(index_of(factors_of(ids)), ids)
    with pytest.raises(DataError):
        index_of(np.array([[3, 0, 0, 0, 0]]))


def test_the_trainer_trains_on_it(data, tmp_path):
    from latentkit.models.registry import create_model
    from latentkit.training import TrainConfig, Trainer

    part = data.subset(torch.arange(0, 737_280, 2880))  # 256 rows, still lazy
    model = create_model("vae", (1, 64, 64), seed=0, latent_dim=4,
                         network={"kind": "conv", "channels": [4, 8], "dense": 16})  # fmt: skip
    history = Trainer(TrainConfig(epochs=2, batch_size=64, progress=False)).fit(
        model, part, part.subset(slice(0, 64)), out=tmp_path / "run"
    )
    assert len(history) == 2 and history["val_loss"][-1] < history["val_loss"][0]


def test_later_commands_read_the_grid_by_default() -> None:
    from latentkit.data.sources import evaluation_split

    assert evaluation_split("dsprites") == "train"  # dSprites has no test split
    assert evaluation_split("mnist") == "test"
    assert evaluation_split("my_table.csv") == "train"  # files: all their rows
