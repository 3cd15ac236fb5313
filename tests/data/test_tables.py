"""Table files: CSV, Parquet, npy, npz; labels; and every bad input refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from latentkit.datasets import load
from latentkit.errors import DataError


def csv(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_with_text_label(tmp_path: Path) -> None:
    path = csv(tmp_path, "a,b,kind\n1,2.5,dog\n3,4,cat\n5,6,dog\n")
    data = load(path, label="kind")
    assert data.x.dtype == torch.float32
    assert data.x.tolist() == [[1.0, 2.5], [3.0, 4.0], [5.0, 6.0]]
    assert data.y.tolist() == [1, 0, 1]
    assert data.meta["class_names"] == ["cat", "dog"]
    assert data.meta["columns"] == ["a", "b"]


def test_csv_feature_selection_and_integer_label(tmp_path: Path) -> None:
    path = csv(tmp_path, "a,b,c,y\n1,2,3,0\n4,5,6,2\n")
    data = load(path, features=["c", "a"], label="y")
    assert data.x.tolist() == [[3.0, 1.0], [6.0, 4.0]]
    assert data.y.tolist() == [0, 2] and "class_names" not in data.meta
    with pytest.raises(DataError, match=r"no column\(s\) 'z'; the columns are a, b, c, y"):
        load(path, features=["z"])


def test_non_numeric_column_names_column_and_row(tmp_path: Path) -> None:
    path = csv(tmp_path, "a,city\n1,2\n2,3\n3,Paris\n")
    with pytest.raises(DataError, match=r"column 'city' is not numeric.*row 2 .* holds 'Paris'"):
        load(path)


def test_nan_and_inf_are_refused_with_counts(tmp_path: Path) -> None:
    path = csv(tmp_path, "a,b\n1,\n2,5\n,inf\nnan,7\n")
    with pytest.raises(DataError) as info:
        load(path)
    message = str(info.value)
    assert "column 'a': 2 row(s)" in message and "column 'b': 2 row(s)" in message
    assert "impute='mean'" in message


@pytest.mark.parametrize(("impute", "a", "b"), [("mean", 2.0, 6.0), ("median", 2.0, 6.0)])
def test_imputation_fills_missing(tmp_path: Path, impute: str, a: float, b: float) -> None:
    path = csv(tmp_path, "a,b\n1,\n3,5\n,inf\n2,7\n")
    data = load(path, impute=impute)
    assert data.x[:, 0].tolist() == [1.0, 3.0, a, 2.0]
    assert data.x[:, 1].tolist() == [b, 5.0, b, 7.0]
    assert data.meta["imputed"]["b"] == {"count": 2, "value": b}


def test_median_differs_from_mean(tmp_path: Path) -> None:
    path = csv(tmp_path, "a,b\n1,0\n2,0\n30,0\n,0\n")
    assert float(load(path, impute="median").x[3, 0]) == 2.0
    assert float(load(path, impute="mean").x[3, 0]) == 11.0


@pytest.mark.parametrize("content", ["", "a,b\n"])
def test_empty_csv(tmp_path: Path, content: str) -> None:
    with pytest.raises(DataError, match="the file is empty"):
        load(csv(tmp_path, content))


def test_empty_npy(tmp_path: Path) -> None:
    (tmp_path / "e.npy").write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        load(tmp_path / "e.npy")
    np.save(tmp_path / "z.npy", np.zeros((0, 3)))
    with pytest.raises(DataError, match=r"the file is empty \(no rows\)"):
        load(tmp_path / "z.npy")


def test_parquet(tmp_path: Path) -> None:
    table = pa.table({"x1": [0.5, 1.5, None], "x2": [1, 2, 3], "label": [2, 0, 1]})
    pq.write_table(table, tmp_path / "t.parquet")
    with pytest.raises(DataError, match=r"column 'x1': 1 row\(s\) \(e.g. row 2\)"):
        load(tmp_path / "t.parquet", label="label")
    data = load(tmp_path / "t.parquet", label="label", impute="mean")
    assert data.x.tolist() == [[0.5, 1.0], [1.5, 2.0], [1.0, 3.0]]
    assert data.y.tolist() == [2, 0, 1]


def test_npy_and_npz(tmp_path: Path) -> None:
    array = np.arange(12, dtype=np.float64).reshape(4, 3)
    np.save(tmp_path / "a.npy", array)
    data = load(tmp_path / "a.npy")
    assert data.x.shape == (4, 3) and data.y is None
    picked = load(tmp_path / "a.npy", features=[2, 0], label=1)
    assert picked.x.tolist() == [[2.0, 0.0], [5.0, 3.0], [8.0, 6.0], [11.0, 9.0]]
    assert picked.y.tolist() == [1, 4, 7, 10]
    np.savez(tmp_path / "b.npz", x=array, y=np.array([0, 1, 1, 0]))
    both = load(tmp_path / "b.npz", label="y")
    assert both.x.shape == (4, 3) and both.y.tolist() == [0, 1, 1, 0]
    with pytest.raises(DataError, match="no label array 'labels'; found x, y"):
        load(tmp_path / "b.npz", label="labels")
    array[1, 2] = np.inf
    np.save(tmp_path / "c.npy", array)
    with pytest.raises(DataError, match=r"column '2': 1 row\(s\) \(e.g. row 1\)"):
        load(tmp_path / "c.npy")


def test_bad_labels(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="label has missing values"):
        load(csv(tmp_path, "a,y\n1,0\n2,\n"), label="y")
    with pytest.raises(DataError, match=r"non-negative integers, found e\.g\. -1\."):
        load(csv(tmp_path, "a,y\n1,0\n2,-1\n", "n.csv"), label="y")


def test_table_has_no_test_split(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no 'test' split"):
        load(csv(tmp_path, "a\n1\n"), "test")
    assert load(csv(tmp_path, "a\n1\n"), "all").meta["split"] == "all"
