"""Molecules drawn as images: a grid of 2-D depictions (RDKit's drawing) with legends.

Used for generated samples, interpolation paths and optimisation results of a sequence VAE
trained on SMILES or SELFIES (:mod:`latentkit.apps.sequences`). Needs the ``chem`` extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from latentkit._io import atomic_write_bytes
from latentkit.errors import DataError

__all__ = ["molecule_grid", "write_molecule_grid"]


def molecule_grid(
    smiles: Sequence[str],
    legends: Sequence[str] | None = None,
    *,
    per_row: int = 5,
    size: int = 200,
) -> Any:
    """A PIL image of the valid molecules of ``smiles``, ``per_row`` to a row, each
    ``size`` x ``size`` pixels; invalid strings are left out (with their legends).

    Raises
    ------
    DataError
        Without RDKit, or when no string is a valid molecule.
    """
    try:
        from rdkit import Chem, RDLogger
        from rdkit.Chem import Draw
    except ImportError as exc:
        raise DataError("drawing molecules needs RDKit: pip install 'latentkit[chem]'.") from exc
    if legends is not None and len(legends) != len(smiles):
        raise DataError(f"expected one legend per molecule, got {len(legends)} for {len(smiles)}.")
    RDLogger.DisableLog("rdApp.*")
    pairs = [
        (mol, "" if legends is None else legends[i])
        for i, s in enumerate(smiles)
        if s and (mol := Chem.MolFromSmiles(s)) is not None and mol.GetNumAtoms() > 0
    ]
    if not pairs:
        raise DataError(f"none of the {len(smiles)} strings is a valid molecule; nothing to draw.")
    mols, names = zip(*pairs, strict=True)
    return Draw.MolsToGridImage(
        list(mols), molsPerRow=min(per_row, len(mols)), subImgSize=(size, size), legends=list(names)
    )


def write_molecule_grid(path: str | Path, smiles: Sequence[str], **options: Any) -> Path:
    """Draw :func:`molecule_grid` into a PNG file (atomically); returns the path."""
    import io

    buffer = io.BytesIO()
    molecule_grid(smiles, **options).save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)
