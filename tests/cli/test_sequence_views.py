"""``latentkit report`` on a sequence run: the run's column read as ids, a molecules section,
no table figures."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_commands import ok
from tests.cli.test_sequences import MOLECULES, SMALL


def test_report_of_a_smiles_run_has_a_molecules_section(tmp_path):
    pytest.importorskip("rdkit")
    lines = ["id,smiles"] + [f"{i},{s}" for i, s in enumerate(MOLECULES * 4)]
    (tmp_path / "mols.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "small.json").write_text(json.dumps(SMALL))
    ok("train", "--data", "mols.csv", "--column", "smiles", "--model", "sequence_vae",
       "--config", "small.json", "--out", "run", cwd=tmp_path)  # fmt: skip
    out = ok("report", "run", "--out", "r.html", cwd=tmp_path)
    assert "wrote r.html" in out
    text = (tmp_path / "r.html").read_text()
    assert '<section id="sequences">' in text and "<h2>Molecules</h2>" in text
    assert "1,000 strings sampled from the prior" in text
    assert "novelty (not among 24 rows of mols.csv)" in text  # the run's own data
    assert 'id="row-scores"' not in text and 'id="feature-errors"' not in text
