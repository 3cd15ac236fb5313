"""Molecule grids: one cell per valid molecule, invalid strings left out, a PNG written."""

from __future__ import annotations

import pytest

pytest.importorskip("rdkit")
from PIL import Image

from latentkit.errors import DataError
from latentkit.viz.molecules import molecule_grid, write_molecule_grid


def test_grid_has_a_cell_per_valid_molecule():
    image = molecule_grid(
        ["CCO", "C1CC", "c1ccccc1O", ""], ["a", "bad", "b", "empty"], per_row=2, size=100
    )
    assert image.size == (200, 100)  # two valid molecules on one row of two
    image = molecule_grid(["CCO", "CCN", "CCC"], per_row=2, size=80)
    assert image.size == (160, 160)


def test_png_written_and_errors(tmp_path):
    out = write_molecule_grid(tmp_path / "m.png", ["CCO", "c1ccccc1"], size=90)
    assert Image.open(out).size == (180, 90)
    with pytest.raises(DataError, match="none of the 2 strings"):
        molecule_grid(["C1CC", ""])
    with pytest.raises(DataError, match="one legend per molecule"):
        molecule_grid(["CCO"], ["a", "b"])
