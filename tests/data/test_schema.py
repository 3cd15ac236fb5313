"""The mixed-table schema: kinds inferred from a DataFrame (and overridden), missing codes,
the encode/decode round trip with the same columns, dtypes and categories, JSON, and one-line
refusals of unseen categories and text in number columns."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from latentkit.data.schema import MAX_INT_LEVELS, TableSchema, read_frame
from latentkit.errors import CheckpointError, DataError
from tests.conftest import require_data

CSV = """age,income,smoker,city,children,rating,flag
31,52000.5,yes,Paris,0,1,True
45,,no,Berlin,2,3,False
?,61000.25,yes,NA,1,2,True
52,48000,no,Paris,3,1,False
28,39000.75,,Rome,0,2,True
39,75000,yes,Berlin,1,3,False
61,58000,no,Paris,2,1,True
"""


@pytest.fixture
def frame(tmp_path) -> pd.DataFrame:
    path = tmp_path / "t.csv"
    path.write_text(CSV)
    return read_frame(path)


def test_missing_codes_become_gaps(frame) -> None:
    assert frame["age"].isna().sum() == 1  # "?"
    assert frame["income"].isna().sum() == 1  # empty field
    assert frame["city"].isna().sum() == 1  # "NA"
    assert frame["smoker"].isna().sum() == 1


def test_kinds_are_inferred(frame) -> None:
    schema = TableSchema.infer(frame)
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds == {
        "age": "categorical",  # 6 whole numbers: at most MAX_INT_LEVELS levels
        "income": "numeric",
        "smoker": "binary",
        "city": "categorical",
        "children": "categorical",  # whole numbers with at most 10 levels
        "rating": "categorical",
        "flag": "binary",
    }
    many = pd.DataFrame({"age": np.arange(MAX_INT_LEVELS + 1) + 20})
    assert TableSchema.infer(many).columns[0].kind == "integer"
    city = schema.columns[schema.names.index("city")]
    assert city.levels == ("Berlin", "Paris", "Rome")
    assert schema.kinds[schema.names.index("income")] == "numeric"
    assert schema.levels == tuple(c.n_levels for c in schema.columns)


def test_overrides_force_kinds(frame) -> None:
    schema = TableSchema.infer(frame, categorical=["income"], numeric=["children", "age"])
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds["income"] == "categorical"
    assert kinds["children"] == "integer" and kinds["age"] == "integer"
    with pytest.raises(DataError, match="cannot be numeric"):
        TableSchema.infer(frame, numeric=["city"])
    with pytest.raises(DataError, match="both categorical and numeric"):
        TableSchema.infer(frame, categorical=["age"], numeric=["age"])
    with pytest.raises(DataError, match="no column"):
        TableSchema.infer(frame, categorical=["nope"])


def test_encode_decode_round_trip_keeps_columns_dtypes_and_categories(frame) -> None:
    schema = TableSchema.infer(frame, numeric=["age"])
    codes = schema.encode(frame)
    assert codes.shape == (7, 7) and codes.dtype == np.float32
    assert np.isnan(codes).sum() == frame.isna().sum().sum()  # a gap is a NaN code
    back = schema.decode(codes)
    assert list(back.columns) == list(frame.columns)
    assert back["age"].dtype == "Int64"  # whole numbers with a gap
    assert back["age"].tolist()[:2] == [31, 45] and pd.isna(back["age"][2])
    np.testing.assert_allclose(back["income"], frame["income"], rtol=1e-5)
    for name in ("smoker", "city"):
        assert back[name].fillna("-").tolist() == frame[name].fillna("-").tolist()
    assert back["children"].dtype == np.int64 and back["children"].tolist() == [0, 2, 1, 3, 0, 1, 2]
    assert back["flag"].dtype == bool and back["flag"].tolist() == frame["flag"].tolist()


def test_numbers_get_normal_scores_and_point_masses_one_score() -> None:
    values = np.r_[np.zeros(900), np.linspace(1, 1000, 100)]
    frame = pd.DataFrame({"gain": values})
    schema = TableSchema.infer(frame)
    codes = schema.encode(frame)[:, 0]
    assert np.unique(codes[:900]).size == 1  # the zeros share one score
    assert (np.diff(codes[900:]) > 0).all()  # the rest keeps its order
    assert abs(codes.mean()) < 0.5 and 0.3 < codes.std() < 1.5
    np.testing.assert_allclose(schema.decode(codes[:, None])["gain"], values, atol=1e-2)


def test_json_round_trip(frame) -> None:
    schema = TableSchema.infer(frame)
    again = TableSchema.from_dict(schema.to_dict())
    assert again == schema
    with pytest.raises(CheckpointError, match="schema"):
        TableSchema.from_dict({"columns": [{"name": "a", "kind": "weird"}]}, "prep.json")


def test_unseen_category_and_text_in_a_number_column_are_refused(frame) -> None:
    schema = TableSchema.infer(frame)
    new = frame.copy()
    new.loc[0, "city"] = "Madrid"
    with pytest.raises(DataError, match=r"'city' holds value\(s\) \['Madrid'\] not seen"):
        schema.encode(new, "new.csv")
    new = frame.copy().astype({"income": object})
    new.loc[1, "income"] = "lots"
    with pytest.raises(DataError, match="'income' is numeric in the schema but holds text"):
        schema.encode(new, "new.csv")
    with pytest.raises(DataError, match="lacks the column"):
        schema.encode(frame.drop(columns=["city"]), "new.csv")


def test_complete_keeps_observed_values_exactly(frame) -> None:
    schema = TableSchema.infer(frame)
    codes = schema.encode(frame)
    filled = np.where(np.isnan(codes), 0.0, codes)
    out = schema.complete(frame, filled)
    assert out.notna().all().all()
    observed = frame.notna()
    assert (out[observed].fillna(0) == frame[observed].fillna(0)).all().all()


def test_the_shared_tables_round_trip() -> None:
    root = require_data("tables")
    for name in ("adult", "penguins", "titanic"):
        frame = read_frame(root / f"{name}.csv")
        schema = TableSchema.infer(frame)
        back = schema.decode(schema.encode(frame))
        for spec in schema.columns:
            a, b = frame[spec.name], back[spec.name]
            assert (a.isna() == b.isna()).all(), spec.name
            if spec.is_number:
                span = float(a.max() - a.min())
                assert np.nanmax(np.abs(a.astype(float) - b.astype(float))) <= 1e-3 * span
            else:
                assert (a.dropna().astype(str) == b.dropna().astype(str)).all(), spec.name
    adult = TableSchema.infer(read_frame(root / "adult.csv"))
    kinds = {c.name: c.kind for c in adult.columns}
    assert kinds["workclass"] == "categorical" and kinds["age"] == "integer"
    assert kinds["sex"] == "binary" and kinds["income"] == "binary"


def test_a_constant_column_is_a_category_of_one_level() -> None:
    frame = pd.read_csv(io.StringIO("a\n1\n1\n"))
    spec = TableSchema.infer(frame).columns[0]
    assert spec.kind == "categorical" and spec.levels == ("1",)


def test_read_frame_applies_the_data_limit(tmp_path, monkeypatch) -> None:
    import pyarrow as pa
    import pyarrow.parquet

    path = tmp_path / "ones.parquet"  # 10^6 equal values: a file of a few KB, 8 MB in memory
    pyarrow.parquet.write_table(pa.table({"a": np.ones(10**6)}), path)
    assert path.stat().st_size < 100_000
    (tmp_path / "t.csv").write_text(CSV)
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", str(1 << 20))
    with pytest.raises(DataError, match=r"^\S*ones\.parquet: refused.*8,000,000 bytes.*1,048,576"):
        read_frame(path)
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", "100")
    with pytest.raises(DataError, match=r"^\S*t\.csv: refused.*LATENTKIT_MAX_DATA_BYTES"):
        read_frame(tmp_path / "t.csv")
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", str(1 << 30))  # raising the limit works
    assert read_frame(path)["a"].shape == (10**6,)
    assert read_frame(tmp_path / "t.csv")["age"].isna().sum() == 1


def test_a_stored_schema_with_unsorted_quantiles_or_a_bad_binary_is_refused(frame) -> None:
    good = TableSchema.infer(frame).to_dict()
    number = next(c for c in good["columns"] if c["kind"] == "numeric")
    binary = next(c for c in good["columns"] if c["kind"] == "binary")
    quantiles = list(number["quantiles"])
    number["quantiles"] = quantiles[::-1]
    with pytest.raises(CheckpointError, match=r"prep\.json.*'income'.*increasing order"):
        TableSchema.from_dict(good, "prep.json")
    number["quantiles"] = [*quantiles[:5], float("nan"), *quantiles[6:]]
    with pytest.raises(CheckpointError, match="increasing order"):
        TableSchema.from_dict(good, "prep.json")
    number["quantiles"] = quantiles
    binary["levels"] = [*binary["levels"], "maybe"]
    with pytest.raises(CheckpointError, match=r"prep\.json.*'smoker'.*binary.*3 levels"):
        TableSchema.from_dict(good, "prep.json")
    binary["levels"] = binary["levels"][:2]
    assert TableSchema.from_dict(good, "prep.json") == TableSchema.from_dict(good)
