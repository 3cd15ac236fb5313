"""The IDX reader: round trips, and every malformed file refused with a clear message."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from latentkit.data.idx import parse_idx, read_idx
from latentkit.data.mnist import MNIST
from latentkit.errors import DataError


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    """Serialise ``array`` as an IDX file (independent of the reader under test)."""
    dtype = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[code]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + array.astype(dtype).tobytes()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_round_trip_raw_and_gzip(tmp_path: Path, name: str) -> None:
    images = np.random.default_rng(0).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    out = read_idx(write(tmp_path / name, idx_bytes(images)), ndim=3)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, images)


@pytest.mark.parametrize("code", [0x0C, 0x0D])
def test_big_endian_dtypes(code: int) -> None:
    values = np.array([[1, -2, 300], [70000, 5, -6]])
    out = parse_idx(idx_bytes(values, code), "mem")
    np.testing.assert_array_equal(out, values)


def test_truncated_file(tmp_path: Path) -> None:
    data = idx_bytes(np.zeros((5, 4, 3), np.uint8))
    path = write(tmp_path / "t-images-idx3-ubyte", data[:-7])
    with pytest.raises(DataError, match=r"truncated.*shape \(5, 4, 3\).*76 bytes in all.*69 bytes"):
        read_idx(path)


def test_trailing_bytes(tmp_path: Path) -> None:
    data = idx_bytes(np.zeros((2, 2), np.uint8)) + b"xx"
    with pytest.raises(DataError, match="trailing bytes"):
        read_idx(write(tmp_path / "a.gz", data))


def test_truncated_header() -> None:
    with pytest.raises(DataError, match="truncated IDX header: expected 16 bytes"):
        parse_idx(bytes([0, 0, 8, 3, 0, 0, 0, 1]), "mem")


@pytest.mark.parametrize("payload", [b"this is not gzip at all", "cut"])
def test_corrupt_gzip(tmp_path: Path, payload: bytes | str) -> None:
    path = tmp_path / "train-images-idx3-ubyte.gz"
    if payload == "cut":  # a real gzip stream cut in the middle
        whole = gzip.compress(idx_bytes(np.arange(600, dtype=np.uint8).reshape(6, 10, 10)))
        path.write_bytes(whole[: len(whole) // 2])
    else:
        path.write_bytes(payload)
    with pytest.raises(DataError, match=r"corrupt gzip file.*Delete the file"):
        read_idx(path)


def test_wrong_magic_number() -> None:
    data = b"\x1f\x8b" + idx_bytes(np.zeros((2, 2), np.uint8))[2:]
    with pytest.raises(DataError, match="wrong magic number 0x1f8b0802"):
        parse_idx(data, "mem")


def test_unknown_dtype_code() -> None:
    data = bytes([0, 0, 0x07, 1]) + np.asarray([2], ">u4").tobytes() + b"ab"
    with pytest.raises(DataError, match="unknown IDX dtype code 0x07"):
        parse_idx(data, "mem")


def test_dimension_count_checked() -> None:
    labels = idx_bytes(np.zeros(4, np.uint8))
    with pytest.raises(DataError, match=r"expected an IDX file with 3 dimension.*found 1.*swapped"):
        parse_idx(labels, "labels", ndim=3)


def test_image_and_label_counts_must_match(tmp_path: Path) -> None:
    write(tmp_path / "t10k-images-idx3-ubyte.gz", idx_bytes(np.zeros((5, 28, 28), np.uint8)))
    write(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(DataError, match=r"holds 5 images but .* holds 4 labels"):
        MNIST.load("test", root=tmp_path, download=False)


def test_labels_out_of_range(tmp_path: Path) -> None:
    write(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(np.zeros((2, 28, 28), np.uint8)))
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(np.array([3, 12], np.uint8)))
    with pytest.raises(DataError, match=r"label 12 found; expected labels in \[0, 10\)"):
        MNIST.load("test", root=tmp_path, download=False)


def test_small_raw_split_loads_scaled(tmp_path: Path) -> None:
    images = np.array([[[0, 255], [51, 102]]], np.uint8)  # (1, 2, 2)
    write(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(images))
    write(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.array([7], np.uint8)))
    data = MNIST.load("test", root=tmp_path, download=False)
    assert data.x.shape == (1, 1, 2, 2)
    np.testing.assert_allclose(data.x.numpy().ravel(), [0.0, 1.0, 0.2, 0.4], rtol=1e-6)
    assert data.y.tolist() == [7]
    assert data.meta["split"] == "test"
    assert data.meta["files"][0].endswith("t10k-images-idx3-ubyte")
