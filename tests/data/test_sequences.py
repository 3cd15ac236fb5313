"""The sequence tokenizer: round trips, unknown tokens and lengths refused by name."""

from __future__ import annotations

import pytest
import torch

from latentkit.data.sequences import EOS, PAD, Tokenizer, lengths, read_strings, split
from latentkit.errors import DataError

SMILES = ["CC(=O)Nc1ccc(O)cc1", "Clc1ccc(Br)cc1", "C[C@@H](N)C(=O)O", "c1cc[nH]c1", "CC%10CC%10"]


def test_smiles_tokens_keep_multi_character_atoms():
    assert split("Clc1ccc(Br)cc1", "smiles")[:2] == ["Cl", "c"]
    assert "Br" in split("Clc1ccc(Br)cc1", "smiles")
    assert split("c1cc[nH]c1", "smiles") == ["c", "1", "c", "c", "[nH]", "c", "1"]
    assert split("C[C@@H](N)", "smiles") == ["C", "[C@@H]", "(", "N", ")"]
    assert split("CC%10CC%10", "smiles")[2] == "%10"


def test_round_trip_and_json():
    tok = Tokenizer.fit(SMILES, "smiles")
    ids = tok.encode(SMILES, 24)
    assert ids.shape == (5, 24) and ids.dtype == torch.int64
    assert tok.decode(ids) == SMILES
    again = Tokenizer.from_dict(tok.to_dict())
    assert again == tok and again.decode(again.encode(SMILES, 24)) == SMILES


def test_selfies_round_trip():
    selfies = pytest.importorskip("selfies")
    strings = [selfies.encoder(s) for s in SMILES[:4]]
    tok = Tokenizer.fit(strings, "selfies")
    assert all(t.startswith("[") for t in tok.tokens)
    assert tok.decode(tok.encode(strings, 40)) == strings


def test_lengths_and_padding():
    tok = Tokenizer.fit(["CCO", "Cl"], "smiles")
    ids = tok.encode(["CCO", "Cl"], 6)
    assert lengths(ids).tolist() == [4, 2]  # tokens + end: "Cl" is one token
    assert ids[0, 3] == EOS and ids[0, 4:].eq(PAD).all()
    assert tok.vocab_size == 3 + 3  # C, Cl, O + pad/begin/end


def test_too_long_names_the_longest():
    tok = Tokenizer.fit(SMILES, "smiles")
    with pytest.raises(DataError, match=r"longest sequence \(row 0, 'CC\(=O\)Nc1ccc\(O\)cc1'\)"):
        tok.encode(SMILES, 10)
    with pytest.raises(DataError, match="raise max_length to 19"):
        tok.encode(SMILES, 18)
    tok.encode(SMILES, 19)  # 18 tokens + end


def test_unknown_token_is_named():
    tok = Tokenizer.fit(["CCO"], "smiles")
    with pytest.raises(DataError, match=r"unknown token 'Cl' in row 1"):
        tok.encode(["CC", "CCl"], 8)
    with pytest.raises(DataError, match=r"unknown token '!'"):
        split("CC!C", "smiles")


def test_read_csv_column_and_fasta(tmp_path):
    (tmp_path / "m.csv").write_text("id,smiles\n1,CCO\n2,c1ccccc1\n")
    assert read_strings(tmp_path / "m.csv", "smiles") == ["CCO", "c1ccccc1"]
    with pytest.raises(DataError, match="no column 'smile'; the columns are id, smiles"):
        read_strings(tmp_path / "m.csv", "smile")
    (tmp_path / "p.fasta").write_text(">a\nMKV\nLA\n>b\nGG\n")
    assert read_strings(tmp_path / "p.fasta") == ["MKVLA", "GG"]
    tok = Tokenizer.fit(["MKVLA", "GG"], "chars")
    assert tok.decode(tok.encode(["MKVLA"], 7)) == ["MKVLA"]


def test_ids_over_the_data_limit_are_refused_before_allocating(monkeypatch):
    tok = Tokenizer.fit(SMILES, "smiles")
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", "1000")
    assert tok.encode(SMILES, 25).shape == (5, 25)  # 5 x 25 x 8 = 1000 bytes
    with pytest.raises(DataError, match=r"m\.csv: refused, the int64 ids of shape \(5, 26\)"):
        tok.encode(SMILES, 26, source="m.csv")
    monkeypatch.delenv("LATENTKIT_MAX_DATA_BYTES")
    with pytest.raises(DataError, match=r"800,000,000,000 bytes.*LATENTKIT_MAX_DATA_BYTES"):
        tok.encode(["C"] * 100_000, 1_000_000)  # 800 GB: refused, nothing allocated


def test_files_over_the_limit_and_long_csv_fields_are_one_line_errors(tmp_path, monkeypatch):
    (tmp_path / "long.csv").write_text("id,smiles\n0,CCO\n1," + "C" * 200_000 + "\n")
    with pytest.raises(DataError, match=r"long\.csv: cannot read line 3 as CSV \(field larger"):
        read_strings(tmp_path / "long.csv", "smiles")
    (tmp_path / "m.csv").write_text("smiles\n" + "CCO\n" * 50)  # 207 bytes
    (tmp_path / "p.fasta").write_text(">a\n" + "MKV" * 70 + "\n")
    assert len(read_strings(tmp_path / "m.csv")) == 50
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", "200")
    for name in ("m.csv", "p.fasta"):
        with pytest.raises(DataError, match=rf"{name}: refused, the text of this file of 2\d\d "
                           "bytes would take .*LATENTKIT_MAX_DATA_BYTES"):  # fmt: skip
            read_strings(tmp_path / name)
