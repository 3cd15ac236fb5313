"""The command-line path of a sequence model: train on a CSV column, generate strings under the
column's name, encode, interpolate; SELFIES from SMILES; FASTA; one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from tests.cli.test_commands import cli, ok

MOLECULES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccccc1", "CCN(CC)CC", "Clc1ccc(Br)cc1", "c1cc[nH]c1"]
NETWORK = {"latent_dim": 4, "embed_dim": 8, "encoder_hidden": 16, "decoder_hidden": 32}
SMALL = {"model_config": NETWORK, "train": {"epochs": 2, "batch_size": 8}}


def rows(path: Path) -> list[list[str]]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("seq")
    lines = ["id,smiles"] + [f"{i},{s}" for i, s in enumerate(MOLECULES * 4)]
    (folder / "mols.csv").write_text("\n".join(lines) + "\n")
    (folder / "small.json").write_text(json.dumps(SMALL))
    ok("train", "--data", "mols.csv", "--column", "smiles", "--model", "sequence_vae",
       "--config", "small.json", "--out", "run", cwd=folder)  # fmt: skip
    return folder


def test_train_keeps_the_tokens_and_the_column(folder):
    config = json.loads((folder / "run" / "config.json").read_text())
    assert config["model_type"] == "sequence_vae"
    assert config["config"]["token_kind"] == "smiles"
    assert {"Cl", "Br", "[nH]"} <= set(config["config"]["tokens"])
    assert config["config"]["input_shape"] == [16]  # CC(=O)Nc1ccccc1: 15 tokens + end
    prep = json.loads((folder / "run" / "preprocessing.json").read_text())
    assert prep["sequences"]["column"] == "smiles"


def test_generate_writes_one_string_per_row_under_the_column_name(folder):
    out = ok("generate", "run", "-n", "7", "--out", "gen.csv", cwd=folder)
    assert "7 strings" in out
    table = rows(folder / "gen.csv")
    assert table[0] == ["smiles"] and len(table) == 8
    again = ok("generate", "run", "-n", "7", "--out", "gen2.csv", cwd=folder)
    assert again and rows(folder / "gen2.csv") == table  # the same seed, the same strings
    result = cli("generate", "run", "-n", "3", "--out", "gen.png", cwd=folder)
    assert result.returncode != 0 and "writes a .csv file" in result.stderr


def test_encode_and_interpolate(folder):
    ok("encode", "run", "--out", "codes.npy", cwd=folder)
    assert np.load(folder / "codes.npy").shape == (24, 4)
    ok("interpolate", "run", "--pairs", "0:3", "--steps", "6", "--out", "walk.csv", cwd=folder)
    table = rows(folder / "walk.csv")
    assert table[0] == ["pair", "t", "smiles"]
    from latentkit.apps.molecules import canonical

    assert all(canonical(r[2]) == r[2] for r in table[1:])  # valid molecules only


def test_selfies_model_writes_smiles(folder):
    pytest.importorskip("selfies")
    ok("train", "--data", "mols.csv", "--column", "smiles", "--tokens", "selfies", "--model",
       "sequence_vae", "--config", "small.json", "--out", "sf", cwd=folder)  # fmt: skip
    config = json.loads((folder / "sf" / "config.json").read_text())
    assert config["config"]["token_kind"] == "selfies"
    ok("generate", "sf", "-n", "20", "--out", "sf.csv", cwd=folder)
    from latentkit.apps.molecules import canonical

    table = rows(folder / "sf.csv")
    assert table[0] == ["smiles"]
    assert all(canonical(r[0]) is not None for r in table[1:] if r[0])  # SMILES, all valid


def test_fasta_sequences_as_characters(tmp_path):
    (tmp_path / "p.fasta").write_text(">a\nMKVLA\n>b\nGGSA\n>c\nMKKA\n")
    (tmp_path / "small.json").write_text(json.dumps(SMALL))
    ok("train", "--data", "p.fasta", "--model", "sequence_vae", "--config", "small.json",
       "--val-fraction", "0", "--out", "run", cwd=tmp_path)  # fmt: skip
    ok("generate", "run", "-n", "4", "--out", "p.csv", cwd=tmp_path)
    table = rows(tmp_path / "p.csv")
    assert table[0] == ["sequence"] and all(set(r[0]) <= set("MKVLAGS") for r in table[1:])


def test_one_line_errors(folder):
    result = cli("train", "--data", "mols.csv", "--column", "smiles", "--out", "x", cwd=folder)
    assert result.returncode != 0 and "only for sequence models" in result.stderr
    result = cli("train", "--data", "mols.csv", "--column", "smile", "--model", "sequence_vae",
                 "--out", "x", cwd=folder)  # fmt: skip
    assert (
        result.returncode != 0 and "no column 'smile'; the columns are id, smiles" in result.stderr
    )
    result = cli("train", "--data", "mols.csv", "--column", "smiles", "--model", "sequence_vae",
                 "--max-length", "8", "--out", "x", cwd=folder)  # fmt: skip
    assert result.returncode != 0 and "the longest sequence (row 2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_run_data_of_a_sequence_model_is_its_column_as_ids(tmp_path):
    """evaluate, anomaly and report read a sequence run's column through load_data_for."""
    from latentkit.cli.runs import load_data_for, write_preprocessing
    from latentkit.data.sequences import Tokenizer
    from latentkit.models.registry import create_model

    (tmp_path / "m.csv").write_text("id,smiles\n0,CCO\n1,ClCBr\n")
    tok = Tokenizer.fit(["CCO", "ClCBr"], "smiles")
    model = create_model(
        "sequence_vae", (5,), tokens=list(tok.tokens), token_kind="smiles", **NETWORK
    )
    model.save(tmp_path / "run")
    record = {"column": "smiles", "selfies_from_smiles": False}
    write_preprocessing(
        str(tmp_path / "run"), {"data": str(tmp_path / "m.csv"), "sequences": record}
    )
    data = load_data_for(model, None, None, str(tmp_path / "run"))
    assert data.x.tolist() == tok.encode(["CCO", "ClCBr"], 5).float().tolist()
    assert model.loss(data.x).reconstruction.shape == (2,)


def test_default_length_is_capped_and_ids_checked_against_the_data_limit(tmp_path, monkeypatch):
    import argparse

    from latentkit.cli.sequence_data import training_data
    from latentkit.errors import DataError

    path = tmp_path / "m.csv"
    path.write_text("smiles\n" + "\n".join([*MOLECULES, "C" * 1100]) + "\n")
    args = argparse.Namespace(tokens=None, column=None, max_length=None)
    with pytest.raises(DataError, match=r"longest sequence \(row 6, 'CCC.*\.\.\.'\) has 1100 "
                       r"tokens, more than the default max length of 1024 ids holds; pass "
                       "--max-length 1101"):  # fmt: skip
        training_data({"data": str(path)}, args)
    args.max_length = 1101
    data = training_data({"data": str(path)}, args)[0]
    assert data.x.shape == (7, 1101)
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", "50000")  # the file passes, the ids do not
    with pytest.raises(DataError, match=r"m\.csv: refused, the ids of shape \(7, 1101\) as int64"):
        training_data({"data": str(path)}, args)
