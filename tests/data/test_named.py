"""The named datasets on the real files (shared data), digits, and the source registry."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from latentkit import datasets
from latentkit.data.sources import SOURCES, describe_sources
from latentkit.errors import DataError


def idx_labels(path: Path) -> np.ndarray:
    """Labels read independently of latentkit: 8-byte header, then one byte per label."""
    return np.frombuffer(gzip.decompress(path.read_bytes()), np.uint8, offset=8)


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_real_train_split(data_root: Path, name: str) -> None:
    data = datasets.load(name, "train", root=data_root, download=False)
    assert data.x.shape == (60000, 1, 28, 28)
    assert data.x.dtype == torch.float32 and data.y.dtype == torch.int64
    assert float(data.x.min()) == 0.0 and float(data.x.max()) == 1.0
    expected = idx_labels(data_root / name / "train-labels-idx1-ubyte.gz")
    np.testing.assert_array_equal(data.y.numpy(), expected)
    assert len(data.meta["class_names"]) == 10
    assert data.meta["split"] == "train"


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_real_test_split(data_root: Path, name: str) -> None:
    data = datasets.load(name, "test", root=data_root, download=False)
    assert data.x.shape == (10000, 1, 28, 28)
    expected = idx_labels(data_root / name / "t10k-labels-idx1-ubyte.gz")
    np.testing.assert_array_equal(data.y.numpy(), expected)
    # the first test image's pixels, read independently, scaled by 255
    raw = np.frombuffer(
        gzip.decompress((data_root / name / "t10k-images-idx3-ubyte.gz").read_bytes()),
        np.uint8,
        offset=16,
        count=784,
    )
    np.testing.assert_allclose(data.x[0, 0].numpy().ravel(), raw / 255.0, rtol=1e-6)


def test_environment_variable_is_searched(
    data_root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LATENTKIT_DATA", str(data_root))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert (
        datasets.load("mnist", "test", download=False)
        .meta["files"][0]
        .startswith(str(data_root / "mnist"))
    )
    assert any(str(data_root / "mnist") in line for line in describe_sources())


def test_digits_split_is_fixed_stratified_and_disjoint() -> None:
    train = datasets.load("digits", "train")
    test = datasets.load("digits", "test")
    assert train.x.shape[1:] == (1, 8, 8) and test.x.shape[1:] == (1, 8, 8)
    assert len(train) + len(test) == 1797 and len(test) == 359  # round(0.2 * n) per class
    assert float(train.x.min()) >= 0.0 and float(train.x.max()) == 1.0
    counts = torch.bincount(test.y, minlength=10)
    full = torch.bincount(datasets.load("digits", "all").y, minlength=10)
    assert torch.equal(counts, torch.round(0.2 * full).long())  # stratified
    rows = {tuple(r) for r in train.x.flatten(1).tolist()}
    overlap = sum(tuple(r) in rows for r in test.x.flatten(1).tolist())
    assert overlap == 0
    again = datasets.load("digits", "train")
    assert torch.equal(again.x, train.x)
    other = datasets.load("digits", "train", seed=1)
    assert not torch.equal(other.x, train.x)


def test_digits_match_scikit_learn_facts() -> None:
    # documented class counts and the first image of sklearn.datasets.load_digits (importing
    # scikit-learn here would cost seconds; the values are fixed since 2011)
    data = datasets.load("digits", "all")
    counts = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert torch.bincount(data.y).tolist() == counts
    first = [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0]
    assert (data.x[0, 0, :2] * 16).flatten().tolist() == first
    assert data.y[:10].tolist() == list(range(10))


def test_unknown_name_lists_known_ones_and_file_kinds() -> None:
    with pytest.raises(DataError) as info:
        datasets.load("cifar10")
    message = str(info.value)
    for known in ("digits", "fashion-mnist", "mnist", ".csv", ".parquet", ".npy", ".npz", ".png"):
        assert known in message
    assert "unknown dataset 'cifar10'" in message


def test_unknown_option_and_split_are_refused() -> None:
    with pytest.raises(DataError, match=r"unknown option\(s\) colour; accepted: test_fraction"):
        datasets.load("digits", colour=True)
    with pytest.raises(DataError, match="unknown split 'valid'"):
        datasets.load("digits", "valid")


def test_unknown_file_kind_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match=r"unknown file kind '\.txt'.*\.csv"):
        datasets.load(tmp_path / "notes.txt")
    with pytest.raises(DataError, match="file not found"):
        datasets.load(str(tmp_path / "absent.csv"))


def test_describe_sources_says_where_to_put_missing_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LATENTKIT_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    lines = describe_sources(root=tmp_path / "mine")
    assert len(lines) == len(SOURCES)
    mnist = next(line for line in lines if line.startswith("mnist:"))
    assert "train: missing" in mnist
    assert str(tmp_path / "cache" / "latentkit" / "mnist") in mnist
    assert str(tmp_path / "mine" / "mnist") in mnist
    assert datasets.available() == [
        "digits",
        "dsprites",
        "faces",
        "faces-color",
        "fashion-mnist",
        "mnist",
    ]
