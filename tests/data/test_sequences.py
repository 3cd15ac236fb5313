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
