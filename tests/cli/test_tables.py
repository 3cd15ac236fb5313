"""A table from the command line, as a user brings one: a CSV with an id column, numeric
features and a text label, written here. ``train --label`` records the columns, and every
applying command reads the same file without flags; other files are refused naming their
columns; the defaults are sized by the table; ``--print-config`` round-trips through
``--config``; ``--out`` of an existing run needs ``--resume`` or ``--overwrite``."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

import latentkit
from latentkit.cli.main import main

FEATURES = ["a", "b", "c", "d", "e", "f"]
CLASSES = ["setosa", "virginica"]
N = 60
FAST = ["--epochs", "2", "--device", "cpu"]


def cli(*argv: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def ok(*argv: object) -> str:
    code, out, err = cli(*argv)
    assert code == 0, err
    return out


def refused(*argv: object) -> str:
    """The one-line error of a command that must fail with exit status 2."""
    code, _, err = cli(*argv)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, (code, err)
    return err


def write_csv(path: Path, columns: list[str], rows: int = N, seed: int = 0) -> Path:
    """Numeric columns, an ``id`` and a text ``species`` label wherever ``columns`` says."""
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for i in range(rows):
            shift = 2.0 * (i % 2)
            row = []
            for name in columns:
                if name == "id":
                    row.append(1000 + i)
                elif name == "species":
                    row.append(CLASSES[i % 2])
                else:
                    row.append(f"{rng.normal() + shift:.4f}")
            writer.writerow(row)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """(folder, run): a VAE trained with --label species --drop id on my.csv in folder."""
    folder = tmp_path_factory.mktemp("tables")
    table = write_csv(folder / "my.csv", ["id", *FEATURES, "species"])
    out = ok("train", "--data", table, "--label", "species", "--drop", "id", *FAST,
             "--out", folder / "run")  # fmt: skip
    assert "label 'species'" in out and "a code of" in out  # the sizes chosen are said
    return folder, folder / "run"


def test_train_records_the_columns(trained):
    _, run = trained
    prep = json.loads((run / "preprocessing.json").read_text())
    assert prep["columns"] == {"features": FEATURES, "label": "species", "class_names": CLASSES,
                               "ignored": ["id"], "fill": None}  # fmt: skip
    assert latentkit.load(run).input_shape == (6,)  # neither the id nor the label is a feature


def test_anomaly_on_the_same_file_needs_no_flags(trained):
    folder, run = trained
    out = ok("anomaly", run, "--data", folder / "my.csv", "--out", folder / "scores.csv")
    assert "flagged 3 of 60" in out
    with open(folder / "scores.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == N and list(rows[0]) == ["index", "score", "is_anomaly", "top_features"]
    assert [int(float(r["index"])) for r in rows] == list(range(N))  # the row in the file
    assert sum(int(float(r["is_anomaly"])) for r in rows) == 3
    for row in rows:
        top = row["top_features"].split(";")
        assert len(top) == 3 and len(set(top)) == 3 and set(top) <= set(FEATURES), row
    # .npy holds the numbers only
    ok("anomaly", run, "--data", folder / "my.csv", "--out", folder / "scores.npy")
    assert np.load(folder / "scores.npy").shape == (N, 3)


def test_top_features_are_the_largest_errors(trained):
    """The named features are those whose squared reconstruction error is largest, and the
    reconstruction score is their sum over all features."""
    import torch

    from latentkit.apps import anomaly
    from latentkit.cli.runs import load_data_for

    folder, run = trained
    model = latentkit.load(run)
    data = load_data_for(model, str(folder / "my.csv"), None, str(run))
    errors = anomaly.feature_errors(model, data.x)
    top = anomaly.top_features(errors, 3)
    expected = torch.sort(errors, dim=1, descending=True).values[:, :3]
    assert torch.equal(errors.gather(1, top), expected)
    ok("anomaly", run, "--data", folder / "my.csv", "--out", folder / "s.csv")
    with open(folder / "s.csv") as fh:
        rows = list(csv.DictReader(fh))
    scores = np.array([float(r["score"]) for r in rows])
    np.testing.assert_allclose(scores, errors.sum(1).numpy(), rtol=1e-5)
    assert rows[0]["top_features"] == ";".join(FEATURES[j] for j in top[0].tolist())


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".npy"])
def test_encode_on_the_same_file_by_suffix(trained, suffix):
    folder, run = trained
    out = folder / f"codes{suffix}"
    ok("encode", run, "--data", folder / "my.csv", "--out", out)
    latent = latentkit.load(run).latent_dim
    if suffix == ".npy":
        codes = np.load(out)
    elif suffix == ".csv":
        with open(out) as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == [f"z{i}" for i in range(latent)] + ["label"]
        codes = np.array(rows[1:], dtype=float)
    else:
        import pyarrow.parquet as pq

        codes = np.column_stack([c.to_numpy() for c in pq.read_table(out).columns])
    assert codes.shape == (N, latent + 1)
    assert codes[:, -1].tolist() == [i % 2 for i in range(N)]  # setosa 0, virginica 1


def test_evaluate_report_and_reconstruct_on_the_same_file(trained):
    folder, run = trained
    metrics = json.loads(ok("evaluate", run, "--data", folder / "my.csv", "--k", "5", "--json"))
    assert metrics["samples"] == N and metrics["squared_error"] < 100  # standardised rows
    ok("report", run, "--data", folder / "my.csv", "--points", "30", "--out", folder / "r.html")
    assert "<html" in (folder / "r.html").read_text().lower()
    ok("reconstruct", run, "--data", folder / "my.csv", "-n", "5", "--out", folder / "rec.npy")
    assert np.load(folder / "rec.npy").shape == (5, 6)
    # without --data: the run's own file
    metrics = json.loads(ok("evaluate", run, "--k", "5", "--json"))
    assert metrics["samples"] == N


def test_reordered_columns_and_a_subset_of_the_classes(trained):
    """The run's features are read in the run's order; labels keep the run's codes."""
    folder, run = trained
    table = write_csv(folder / "odd.csv", ["species", "f", "e", "d", "c", "b", "a"], rows=9)
    with open(table) as fh:
        kept = [r for i, r in enumerate(csv.reader(fh)) if i == 0 or r[0] == "virginica"]
    with open(table, "w", newline="") as fh:
        csv.writer(fh).writerows(kept)
    ok("encode", run, "--data", table, "--out", folder / "odd.npy")
    codes = np.load(folder / "odd.npy")
    assert codes.shape[0] == 4 and set(codes[:, -1].tolist()) == {1.0}  # virginica is 1
    straight = write_csv(folder / "straight.csv", ["a", "b", "c", "d", "e", "f"], rows=9)
    with open(table) as fh:
        rows = list(csv.reader(fh))[1:]
    with open(straight, "w", newline="") as fh:  # the same rows, columns in the run's order
        csv.writer(fh).writerows([FEATURES] + [list(reversed(r[1:])) for r in rows])
    ok("encode", run, "--data", straight, "--out", folder / "straight.npy")
    np.testing.assert_allclose(np.load(folder / "straight.npy"), codes[:, :-1], rtol=1e-6)


def test_a_file_with_other_columns_is_refused_naming_them(trained):
    folder, run = trained
    table = write_csv(folder / "other.csv", ["a", "b", "d", "e", "f", "weight", "species"])
    err = refused("anomaly", run, "--data", table, "--out", folder / "x.csv")
    assert "'c'" in err and "'weight'" in err and "--drop weight" in err, err
    err = refused("encode", run, "--data", table, "--drop", "weight", "--out", folder / "x.npy")
    assert "lacks the run's feature column(s) 'c'" in err and "weight" not in err.split(":")[2]
    assert not (folder / "x.csv").exists() and not (folder / "x.npy").exists()


def test_extra_columns_are_ignored_only_when_asked(trained):
    folder, run = trained
    table = write_csv(folder / "extra.csv", ["id", *FEATURES, "note", "species"])
    assert "'note'" in refused("evaluate", run, "--data", table, "--json")
    ok("evaluate", run, "--data", table, "--drop", "note", "--k", "2", "--json")
    ok("evaluate", run, "--data", table, "--features", ",".join(reversed(FEATURES)), "--k", "2")
    err = refused("evaluate", run, "--data", table, "--features", "a,b")
    assert "must be the run's" in err and "'c'" in err
    assert "not allowed with" in refused("evaluate", run, "--data", table, "--drop", "note",
                                         "--features", "a")  # fmt: skip


def test_a_label_under_another_name(trained):
    folder, run = trained
    table = write_csv(folder / "renamed.csv", [*FEATURES, "species"], rows=8)
    text = table.read_text().replace("species", "kind", 1)
    table.write_text(text)
    assert "'kind'" in refused("encode", run, "--data", table, "--out", folder / "k.npy")
    ok("encode", run, "--data", table, "--label", "kind", "--out", folder / "k.npy")
    assert np.load(folder / "k.npy")[:, -1].tolist() == [i % 2 for i in range(8)]


def test_flags_are_for_table_files_only(trained):
    folder, _ = trained
    assert "only for table files" in refused("train", "--data", "digits", "--label", "y",
                                              "--out", folder / "img")  # fmt: skip
    assert not (folder / "img").exists()


def test_a_text_feature_is_refused_by_a_numeric_model_naming_it_and_suggesting_drop(tmp_path):
    # without --model a text feature trains the mixed-table model (tests/cli/test_mixed_tables)
    table = write_csv(tmp_path / "t.csv", ["id", *FEATURES, "species"])
    vae = ("--model", "vae")
    err = refused("train", "--data", table, *vae, *FAST, "--out", tmp_path / "run")
    assert "column 'species' is not numeric" in err and "--drop species" in err, err
    assert "--label" in err and "tabular_vae" in err and not (tmp_path / "run").exists()
    text = table.read_text().replace("id,", "city,", 1)
    table.write_text(text.replace("\n1000,", "\nParis,", 1))
    err = refused("train", "--data", table, *vae, *FAST, "--out", tmp_path / "run")
    assert "'city'" in err and "'species'" in err and "--drop city,species" in err, err


def test_features_and_drop_choose_the_columns(tmp_path):
    table = write_csv(tmp_path / "t.csv", ["id", *FEATURES, "species"])
    ok("train", "--data", table, "--features", "c,a", "--label", "species", *FAST,
       "--out", tmp_path / "picked")  # fmt: skip
    prep = json.loads((tmp_path / "picked" / "preprocessing.json").read_text())
    assert prep["columns"]["features"] == ["c", "a"]
    assert prep["columns"]["ignored"] == ["id", "b", "d", "e", "f"]
    assert latentkit.load(tmp_path / "picked").input_shape == (2,)
    ok("encode", tmp_path / "picked", "--data", table, "--out", tmp_path / "p.npy")  # no flags
    ok("train", "--data", table, "--drop", "id,species", *FAST, "--out", tmp_path / "dropped")
    assert latentkit.load(tmp_path / "dropped").input_shape == (6,)
    err = refused("train", "--data", table, "--features", "a,zz", *FAST, "--out", tmp_path / "x")
    assert "'zz'" in err and "the columns are" in err
    err = refused("train", "--data", table, "--features", "a,b", "--drop", "c", "--out", "x")
    assert "not allowed with" in err
    err = refused("train", "--data", table, "--features", "a,", "--out", "x")
    assert "comma-separated column names" in err


def print_config(*argv: object) -> dict:
    return json.loads(ok("train", *argv, "--print-config"))


def test_defaults_are_sized_by_the_table(tmp_path):
    table = write_csv(tmp_path / "t.csv", ["id", *FEATURES, "species"])
    settings = print_config("--data", table, "--label", "species", "--drop", "id")
    assert set(settings) == {
        "data",
        "model",
        "val_fraction",
        "max_samples",
        "columns",
        "model_config",
        "train",
    }
    model, train = settings["model_config"], settings["train"]
    assert model["latent_dim"] < len(FEATURES) and model["latent_dim"] == 3
    assert model["network"]["hidden"] == [32, 16] and model["likelihood"] == "gaussian"
    # 54 training rows in batches of 16: 4 steps per epoch; 800 steps within 10..200 epochs
    assert train["batch_size"] == 16 and train["epochs"] == 200
    # explicit settings win
    explicit = ["--latent-dim", "5", "--hidden", "8,4", "--epochs", "7", "--batch-size", "32"]
    settings = print_config("--data", table, "--label", "species", "--drop", "id", *explicit)
    model, train = settings["model_config"], settings["train"]
    assert model["latent_dim"] == 5 and model["network"]["hidden"] == [8, 4]
    assert train["epochs"] == 7 and train["batch_size"] == 32 and train["checkpoint_every"] == 1
    # images keep the configs' defaults
    digits = print_config("--data", "digits", "--network", "conv", "--channels", "8,16")
    assert digits["model_config"]["latent_dim"] == 16 and digits["train"]["epochs"] == 10
    assert digits["model_config"]["network"]["kind"] == "conv"
    assert digits["model_config"]["network"]["channels"] == [8, 16]
    assert digits["model_config"]["likelihood"] == "bernoulli"


def test_print_config_round_trips_through_config(tmp_path):
    table = write_csv(tmp_path / "t.csv", ["id", *FEATURES, "species"])
    first = print_config("--data", table, "--model", "ae", "--label", "species", "--drop", "id",
                         "--epochs", "2", "--device", "cpu", "--hidden", "16,8")  # fmt: skip
    assert first["model"] == "autoencoder" and first["columns"]["drop"] == ["id"]
    (tmp_path / "settings.json").write_text(json.dumps(first))
    assert print_config("--config", tmp_path / "settings.json") == first
    ok("train", "--config", tmp_path / "settings.json", "--out", tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["model_type"] == "autoencoder"
    assert saved["extra"]["train_config"] == first["train"]
    assert latentkit.load(tmp_path / "run").config.network.hidden == (16, 8)
    assert not list(tmp_path.glob("run/*.tmp"))


def test_an_existing_run_is_refused_unless_resume_or_overwrite(tmp_path):
    table = write_csv(tmp_path / "t.csv", ["id", *FEATURES, "species"])
    base = ["train", "--data", table, "--label", "species", "--drop", "id", "--device", "cpu"]
    run = tmp_path / "run"
    ok(*base, "--epochs", "3", "--out", run)
    (run / "notes.txt").write_text("mine")
    before = (run / "model.safetensors").read_bytes()
    err = refused(*base, "--epochs", "1", "--out", run)
    assert str(run) in err and "--resume" in err and "--overwrite" in err, err
    assert (run / "model.safetensors").read_bytes() == before  # nothing touched
    assert "pass one of them" in refused(*base, "--out", run, "--resume", "--overwrite")

    ok(*base, "--epochs", "4", "--out", run, "--resume")  # continues: epochs 4 of 4
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 4

    out = ok(*base, "--epochs", "1", "--out", run, "--overwrite")
    assert "removed" in out
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 1  # a new run
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "epoch-000001.json", "epoch-000001.safetensors"
    ]  # fmt: skip
    assert (run / "notes.txt").read_text() == "mine"  # not latentkit's: kept


def test_overwrite_refuses_a_folder_that_holds_no_run(tmp_path):
    table = write_csv(tmp_path / "t.csv", FEATURES)
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"not mine to delete")
    err = refused("train", "--data", table, *FAST, "--out", folder, "--overwrite")
    assert "does not look like a run folder" in err
    assert sorted(p.name for p in folder.iterdir()) == ["holiday.jpg"]
    # without --overwrite a folder of other files is no run: training writes beside them
    ok("train", "--data", table, *FAST, "--out", folder)
    assert (folder / "holiday.jpg").read_bytes() == b"not mine to delete"
    (tmp_path / "empty").mkdir()
    ok("train", "--data", table, *FAST, "--out", tmp_path / "empty")  # empty: no flag needed


def test_overwrite_removes_only_latentkits_files(tmp_path):
    from latentkit.cli.run_folder import remove_previous_run

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "tensorboard").mkdir()
    for name in ["config.json", "model.safetensors", "metrics.jsonl", "preprocessing.json",
                 ".config.json.abc123.tmp", "checkpoints/epoch-000003.json",
                 "checkpoints/epoch-000003.safetensors", "checkpoints/.epoch-000004.json.x.tmp",
                 "tensorboard/events.out.tfevents.1.host", "README.md", "checkpoints/keep.txt",
                 "config.json.bak"]:  # fmt: skip
        (run / name).write_text("x")
    removed = remove_previous_run(run)
    assert set(removed) >= {"checkpoints/", "config.json", "metrics.jsonl", "tensorboard/"}
    left = sorted(str(p.relative_to(run)) for p in run.rglob("*"))
    assert left == [".lock", "README.md", "checkpoints", "checkpoints/keep.txt",
                    "config.json.bak"]  # fmt: skip


def test_help_shows_defaults_network_flags_and_the_config_schema():
    import argparse

    from latentkit.cli.main import build_parser

    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    train = action.choices["train"]
    text = " ".join(train.format_help().split())
    for flag in ["--network", "--hidden", "--channels", "--print-config", "--overwrite",
                 "--label", "--features", "--drop"]:  # fmt: skip
        assert flag in text
    switches = {"help", "resume", "overwrite", "print_config", "out", "data"}  # no default
    for option in train._actions:
        if option.option_strings and option.dest not in switches:
            assert "default" in (option.help or ""), option.dest
    assert '"model_config"' in text and '"columns"' in text and '"train"' in text
    for command in ["evaluate", "encode", "anomaly", "reconstruct", "report", "serve"]:
        helptext = action.choices[command].format_help()
        assert "--label" in helptext and "--features" in helptext and "--drop" in helptext


def readme_section() -> str:
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    return text.split("\n## Your own table\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_table_section_runs_as_shown(tmp_path, monkeypatch):
    """The commands of README's "Your own table", on a my.csv as it describes (an id, numeric
    features, a text label 'species'). Training gets --epochs 2 to keep the test short."""
    import re
    import shlex

    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "my.csv", ["id", *FEATURES, "species"])
    section = readme_section()
    (commands,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    printed = None
    for line in commands.strip().splitlines():
        argv = shlex.split(line)
        assert argv[0] == "latentkit", line
        if argv[1] == "train" and "--print-config" not in argv:
            argv += ["--epochs", "2", "--device", "cpu"]
        out = ok(*argv[1:])
        if "--print-config" in argv:
            printed = json.loads(out)
    assert (tmp_path / "report.html").exists() and (tmp_path / "codes.parquet").exists()
    with open(tmp_path / "scores.csv") as fh:
        assert next(csv.reader(fh)) == ["index", "score", "is_anomaly", "top_features"]
    # the schema shown is the one --print-config prints, and a valid --config
    (schema,) = re.findall(r"```json\n(.*?)```", section, flags=re.S)
    shown = json.loads(schema)
    assert printed is not None and set(shown) == set(printed)
    assert set(shown["columns"]) == set(printed["columns"])
    (tmp_path / "shown.json").write_text(schema)
    settings = print_config("--config", tmp_path / "shown.json")
    assert settings["model_config"]["latent_dim"] == 3 and settings["train"]["epochs"] == 100


def test_missing_values_are_refused_or_filled_with_the_training_statistics(tmp_path):
    table = write_csv(tmp_path / "gaps.csv", [*FEATURES, "species"])
    lines = table.read_text().splitlines()
    cells = lines[3].split(",")
    cells[1] = ""  # b is missing in row 2
    lines[3] = ",".join(cells)
    table.write_text("\n".join(lines) + "\n")
    err = refused("train", "--data", table, "--label", "species", "--model", "vae", *FAST,
                  "--out", tmp_path / "r")  # fmt: skip
    assert "column 'b': 1 row(s) (e.g. row 2)" in err and "--impute mean|median" in err
    run = tmp_path / "run"
    ok("train", "--data", table, "--label", "species", "--impute", "mean", *FAST, "--out", run)
    fill = json.loads((run / "preprocessing.json").read_text())["columns"]["fill"]
    assert set(fill) == set(FEATURES)
    values = np.genfromtxt(table, delimiter=",", skip_header=1, usecols=range(6))
    np.testing.assert_allclose([fill[f] for f in FEATURES], np.nanmean(values, 0), rtol=1e-5)
    # a later file with a gap elsewhere gets the training mean, not its own
    later = write_csv(tmp_path / "later.csv", [*FEATURES, "species"], rows=4, seed=1)
    rows = [line.split(",") for line in later.read_text().splitlines()]
    rows[1][4] = ""  # e is missing in row 0
    later.write_text("\n".join(",".join(r) for r in rows) + "\n")
    ok("encode", run, "--data", later, "--out", tmp_path / "gap.npy")
    rows[1][4] = repr(fill["e"])
    later.write_text("\n".join(",".join(r) for r in rows) + "\n")
    ok("encode", run, "--data", later, "--out", tmp_path / "filled.npy")
    np.testing.assert_allclose(np.load(tmp_path / "gap.npy"), np.load(tmp_path / "filled.npy"))
    printed = print_config("--data", table, "--label", "species", "--impute", "median")
    assert printed["columns"]["impute"] == "median"
