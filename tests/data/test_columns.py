"""data/columns: the columns a run reads from a table file, chosen, recorded and matched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentkit.data.columns import (
    ColumnRecord,
    choose,
    file_columns,
    load_columns,
    match,
    recode_labels,
)
from latentkit.errors import CheckpointError, DataError

NAMES = ["id", "a", "b", "c", "y"]


def test_choose_label_features_and_drop():
    assert choose(NAMES, "t.csv") == (NAMES, None)
    assert choose(NAMES, "t.csv", label="y", drop=["id"]) == (["a", "b", "c"], "y")
    assert choose(NAMES, "t.csv", label="y", features=["c", "a"]) == (["c", "a"], "y")
    for kwargs, message in [
        ({"label": "zz"}, "no label column(s) 'zz'"),
        ({"features": ["a", "zz"]}, "no such column(s) 'zz'"),
        ({"drop": ["qq"]}, "'qq'"),
        ({"features": ["a"], "drop": ["b"]}, "not both"),
        ({"label": "a", "features": ["a", "b"]}, "is the label"),
        ({"features": ["a", "a"]}, "named twice"),
        ({"drop": NAMES}, "no feature column is left"),
    ]:
        with pytest.raises(DataError) as caught:
            choose(NAMES, "t.csv", **kwargs)
        assert message in str(caught.value)


def test_match_reads_the_runs_columns_in_the_runs_order():
    record = ColumnRecord(("b", "a"), "y", ("no", "yes"), ("id",))
    assert match(["y", "a", "b", "id"], record, "n.csv") == (["b", "a"], "y")
    assert match(["a", "b"], record, "n.csv") == (["b", "a"], None)  # no label: fine
    assert match(["a", "b", "kind"], record, "n.csv", label="kind") == (["b", "a"], "kind")
    with pytest.raises(DataError) as caught:
        match(["a", "z", "y"], record, "n.csv")
    message = str(caught.value)
    assert "lacks the run's feature column(s) 'b'" in message and "'z'" in message
    assert "--drop z" in message and "\n" not in message
    assert match(["a", "b", "z"], record, "n.csv", drop=["z"]) == (["b", "a"], None)
    assert match(["a", "b", "z"], record, "n.csv", features=["a", "b"]) == (["b", "a"], None)
    with pytest.raises(DataError, match="must be the run's"):
        match(["a", "b", "z"], record, "n.csv", features=["a", "z"])
    with pytest.raises(DataError, match="one of the run's features"):
        match(["a", "b"], record, "n.csv", label="a")


def test_the_record_round_trips_and_a_malformed_one_is_refused():
    record = ColumnRecord(("a", "b"), "y", ("cat", "dog"), ("id",), {"a": 1.5, "b": -2.0})
    assert ColumnRecord.from_dict(record.to_dict(), "p.json") == record
    older = {"features": ["a"], "label": None, "class_names": None}  # no "ignored"
    assert ColumnRecord.from_dict(older, "p.json") == ColumnRecord(("a",))
    for bad in [[], {"features": []}, {"features": ["a", "a"]}, {"features": [1]},
                {"features": ["a"], "label": "a"}, {"features": ["a"], "class_names": [1]},
                {"features": ["a"], "ignored": "id"}, {"features": ["a"], "extra": 1},
                {"features": ["a"], "fill": {"b": 1.0}}, {"features": ["a"], "fill": {"a": "x"}},
                {"features": ["a"], "fill": {"a": float("nan")}}]:  # fmt: skip
        with pytest.raises(CheckpointError, match=r"p\.json"):
            ColumnRecord.from_dict(bad, "p.json")


def test_text_labels_keep_the_runs_codes():
    y = torch.tensor([0, 1, 1])  # codes of the file's own classes ["dog", "eel"]
    assert recode_labels(y, ["dog", "eel"], ["cat", "dog", "eel"], "f").tolist() == [1, 2, 2]
    assert recode_labels(y, None, ["cat"], "f") is y  # numbers are codes already
    with pytest.raises(DataError, match="'eel' are not among the run's classes"):
        recode_labels(y, ["dog", "eel"], ["cat", "dog"], "f")


def test_header_only_column_names(tmp_path):
    (tmp_path / "t.csv").write_text("a,b,y\n1,2,x\n")
    assert file_columns(tmp_path / "t.csv") == ["a", "b", "y"]
    np.save(tmp_path / "t.npy", np.zeros((3, 4), dtype=np.float32))
    assert file_columns(tmp_path / "t.npy") == ["0", "1", "2", "3"]
    (tmp_path / "empty.csv").write_text("")
    assert file_columns(tmp_path / "empty.csv") is None
    with pytest.raises(DataError, match="empty"):
        load_columns(tmp_path / "empty.csv", label="y")


def test_array_files_are_chosen_by_index(tmp_path):
    x = np.arange(20, dtype=np.float32).reshape(5, 4)
    x[:, 3] = [0, 1, 0, 1, 1]
    np.save(tmp_path / "t.npy", x)
    data = load_columns(tmp_path / "t.npy", label="3", drop=["0"])
    assert data.meta["columns"] == ["1", "2"] and data.meta["ignored"] == ["0"]
    assert data.x.tolist() == x[:, 1:3].tolist() and data.y.tolist() == [0, 1, 0, 1, 1]
    record = ColumnRecord(("2", "1"), "3", None, ("0",))
    again = load_columns(tmp_path / "t.npy", record=record)
    assert again.x.tolist() == x[:, [2, 1]].tolist() and again.y.tolist() == [0, 1, 0, 1, 1]
    np.savez(tmp_path / "t.npz", x=x[:, :3], y=np.array([2, 0, 1, 0, 2]))
    data = load_columns(tmp_path / "t.npz", label="y", features=["2"])
    assert data.x.tolist() == x[:, [2]].tolist() and data.y.tolist() == [2, 0, 1, 0, 2]


def test_every_text_feature_is_named_at_once(tmp_path):
    from latentkit.data.tables import load_table

    (tmp_path / "t.csv").write_text("a,city,b,kind\n1,Paris,2,x\n3,Rome,4,y\n")
    with pytest.raises(DataError) as caught:
        load_table(tmp_path / "t.csv")
    message = str(caught.value)
    assert "column 'city' is not numeric" in message and "holds 'Paris'" in message
    assert "column 'kind' is not numeric" in message and "--drop city,kind" in message
    assert load_columns(tmp_path / "t.csv", drop=["city", "kind"]).x.tolist() == [[1, 2], [3, 4]]


def test_a_record_fills_missing_values_with_its_values(tmp_path):
    from latentkit.data.tables import load_table

    (tmp_path / "t.csv").write_text("a,b\n1,\n3,4\n")
    record = ColumnRecord(("a", "b"), fill={"a": 0.0, "b": 7.0})
    assert load_columns(tmp_path / "t.csv", record=record).x.tolist() == [[1, 7], [3, 4]]
    assert load_table(tmp_path / "t.csv", impute={"b": -1.0}).x.tolist() == [[1, -1], [3, 4]]
    with pytest.raises(DataError, match="column 'b': 1 row"):
        load_table(tmp_path / "t.csv", impute={"a": 0.0})  # no value for b
    with pytest.raises(DataError, match="finite number"):
        load_table(tmp_path / "t.csv", impute={"b": float("inf")})
