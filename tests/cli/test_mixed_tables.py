"""A mixed table from the command line: text columns and gaps make ``latentkit train`` pick the
tabular VAE and record the schema; synthesize, impute, encode and anomaly apply it; new levels
and wrong files are refused in one line; ``--categorical``/``--numeric`` override the kinds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import latentkit
import latentkit.models.registry
from tests.cli.test_tables import cli, ok, refused
from tests.conftest import require_data

FAST = ["--epochs", "3", "--device", "cpu"]


def write_table(path: Path, n: int = 80, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    frame = pd.DataFrame({
        "id": np.arange(n),
        "size": np.round(10 + 3 * x, 2),
        "count": rng.integers(0, 40, size=n),
        "colour": rng.choice(["red", "green", "blue"], size=n),
        "member": np.where(x > 0, "yes", "no"),
        "label": np.where(rng.random(n) > 0.5, "a", "b"),
    })  # fmt: skip
    frame = frame.astype({"size": object, "colour": object})
    frame.loc[::7, "size"] = "?"
    frame.loc[3::9, "colour"] = ""
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def run(tmp_path) -> tuple[Path, Path]:
    data = write_table(tmp_path / "t.csv")
    out = tmp_path / "run"
    text = ok("train", "--data", data, "--drop", "id", "--label", "label", "--out", out, *FAST)
    assert "training tabular_vae" in text
    return data, out


def test_train_picks_the_tabular_model_and_records_the_schema(run) -> None:
    _, out = run
    assert latentkit.load(out).model_type == "tabular_vae"
    prep = json.loads((out / "preprocessing.json").read_text())
    kinds = {c["name"]: c["kind"] for c in prep["schema"]["columns"]}
    assert kinds == {"size": "numeric", "count": "integer", "colour": "categorical",
                     "member": "binary"}  # fmt: skip
    assert prep["columns"]["label"] == "label" and prep["columns"]["ignored"] == ["id"]
    assert "scaler" not in prep


def test_synthesize_and_impute_write_the_same_columns(run, tmp_path) -> None:
    data, out = run
    syn = tmp_path / "syn.csv"
    assert "20 synthetic rows" in ok("synthesize", out, "-n", 20, "--out", syn)
    rows = pd.read_csv(syn)
    assert list(rows.columns) == ["size", "count", "colour", "member"]
    assert set(rows["colour"]) <= {"red", "green", "blue"} and rows["count"].dtype == np.int64
    ok("synthesize", out, "-n", 5, "--where", "member=yes", "--out", syn)
    assert (pd.read_csv(syn)["member"] == "yes").all()
    assert "not a level" in refused("synthesize", out, "-n", 5, "--where", "member=x", "--out", syn)
    filled = tmp_path / "filled.csv"
    said = ok("impute", out, "--data", data, "--out", filled)
    source = pd.read_csv(data, keep_default_na=False, na_values=["", "?"])
    gaps = int(source[["size", "colour"]].isna().sum().sum())
    assert f"{gaps} missing values filled" in said
    result = pd.read_csv(filled)
    assert list(result.columns) == list(source.columns) and result.notna().all().all()
    kept = source["size"].notna()
    assert np.allclose(result["size"][kept], source["size"][kept])
    ok("impute", out, "--data", data, "--draws", 2, "--out", filled)
    assert sorted(pd.read_csv(filled)["imputation"].unique()) == [0, 1]


def test_encode_and_anomaly_read_the_file_with_the_schema(run, tmp_path) -> None:
    data, out = run
    ok("encode", out, "--data", data, "--out", tmp_path / "codes.npy")
    assert np.load(tmp_path / "codes.npy").shape[0] == 80
    ok("anomaly", out, "--data", data, "--out", tmp_path / "scores.csv")
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert np.isfinite(scores["score"]).all()
    assert set(";".join(scores["top_features"]).split(";")) <= {"size", "count", "colour", "member"}
    metrics = json.loads(ok("evaluate", out, "--data", data, "--json"))  # valid JSON: no NaN
    assert metrics["model_type"] == "tabular_vae" and np.isfinite(metrics["squared_error"])
    ok("report", out, "--data", data, "--out", tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert "negative log-likelihood of each column" in page
    assert "Columns: real and synthetic" in page and "colour (categorical)" in page


def test_new_levels_and_text_in_numbers_are_refused(run, tmp_path) -> None:
    data, out = run
    frame = pd.read_csv(data, keep_default_na=False)
    frame.loc[0, "colour"] = "purple"
    frame.to_csv(tmp_path / "new.csv", index=False)
    err = refused("impute", out, "--data", tmp_path / "new.csv", "--out", tmp_path / "f.csv")
    assert "'colour' holds value(s) ['purple'] not seen in training" in err
    frame = pd.read_csv(data, keep_default_na=False)
    frame.loc[1, "size"] = "big"
    frame.to_csv(tmp_path / "new.csv", index=False)
    err = refused("encode", out, "--data", tmp_path / "new.csv", "--out", tmp_path / "c.npy")
    assert "'size' is numeric in the schema but holds text" in err
    image = tmp_path / "image_run"
    latentkit.models.registry.create_model("vae", (1, 4, 4), latent_dim=2).save(image)
    err = refused("synthesize", image, "-n", 2, "--out", tmp_path / "s.csv")
    assert "not a model of a mixed table" in err


def test_overrides_and_model_choice(tmp_path) -> None:
    data = write_table(tmp_path / "t.csv")
    out = tmp_path / "over"
    err = refused("train", "--data", data, "--drop", "id,label", "--numeric", "member",
                  "--out", out, *FAST)  # fmt: skip
    assert "cannot be numeric" in err
    ok("train", "--data", data, "--drop", "id,label", "--categorical", "count", "--out", out,
       *FAST)  # fmt: skip
    prep = json.loads((out / "preprocessing.json").read_text())
    kinds = {c["name"]: c["kind"] for c in prep["schema"]["columns"]}
    assert kinds["count"] == "categorical"
    err = refused("train", "--data", data, "--model", "vae", "--categorical", "count",
                  "--out", tmp_path / "v", *FAST)  # fmt: skip
    assert "only for the mixed-table model" in err
    numbers = tmp_path / "n.csv"
    pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) ** 0.5}).to_csv(numbers, index=False)
    ok("train", "--data", numbers, "--out", tmp_path / "plain", *FAST)
    assert latentkit.load(tmp_path / "plain").model_type == "vae"  # no text, no gaps


def test_resume_keeps_the_schema_of_the_run(tmp_path) -> None:
    data = write_table(tmp_path / "t.csv")
    out = tmp_path / "run"
    base = ("train", "--data", data, "--drop", "id,label", "--out", out, "--device", "cpu")
    ok(*base, "--categorical", "count", "--epochs", "1")
    first = json.loads((out / "preprocessing.json").read_text())["schema"]
    assert {c["name"]: c["kind"] for c in first["columns"]}["count"] == "categorical"
    ok(*base, "--epochs", "2", "--resume")  # without --categorical: the run's schema is kept
    assert json.loads((out / "preprocessing.json").read_text())["schema"] == first
    assert tuple(latentkit.load(out).config.kinds)[1] == "categorical"


def test_adult_trains_with_no_flags(tmp_path) -> None:
    adult = require_data("tables") / "adult.csv"
    code, _, err = cli("train", "--data", adult, "--out", tmp_path / "adult", "--epochs", "1",
                       "--device", "cpu")  # fmt: skip
    assert code == 0, err
    ok("synthesize", tmp_path / "adult", "-n", 50, "--out", tmp_path / "syn.csv")
    rows = pd.read_csv(tmp_path / "syn.csv")
    assert "workclass" in rows.columns and len(rows) == 50
