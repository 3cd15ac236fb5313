"""Molecules drawn as images: a grid of 2-D depictions (RDKit's drawing) with legends, and
one molecule as PNG bytes.

Used for generated samples, interpolation paths and optimisation results of a sequence VAE
trained on SMILES or SELFIES (:mod:`latentkit.apps.sequences`), in the report
(:mod:`latentkit.viz.sequences`) and the explorer. Needs the ``chem`` extra;
:func:`can_draw` says whether it is installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from latentkit._io import atomic_write_bytes
from latentkit.errors import DataError

__all__ = [
    "CHEM_NOTE",
    "can_draw",
    "can_draw_kind",
    "molecule_grid",
    "molecule_png",
    "png_bytes",
    "write_molecule_grid",
]

#: what a page says where molecules would be drawn but RDKit is not installed
CHEM_NOTE = "Molecules are drawn with RDKit: pip install 'latentkit[chem]' to see them here."


def can_draw() -> bool:
    """True when RDKit is installed (molecules can be parsed and drawn)."""
    try:
        import rdkit.Chem  # noqa: F401
    except ImportError:
        return False
    return True


def can_draw_kind(kind: str) -> bool:
    """True when strings of token ``kind`` can be drawn as molecules: SMILES with RDKit,
    SELFIES with RDKit and the ``selfies`` package (to turn them into SMILES first)."""
    if kind not in ("smiles", "selfies") or not can_draw():
        return False
    if kind == "selfies":
        try:
            import selfies  # noqa: F401
        except ImportError:
            return False
    return True


def _molecule(smiles: str) -> Any:
    """The RDKit molecule of ``smiles``, or None (invalid, empty or without atoms)."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles) if smiles else None
    return mol if mol is not None and mol.GetNumAtoms() > 0 else None


def molecule_grid(
    smiles: Sequence[str],
    legends: Sequence[str] | None = None,
    *,
    per_row: int = 5,
    size: int = 200,
    keep_invalid: bool = False,
) -> Any:
    """A PIL image of the valid molecules of ``smiles``, ``per_row`` to a row, each
    ``size`` x ``size`` pixels; invalid strings are left out (with their legends), or with
    ``keep_invalid`` kept as empty cells with their legends (so that cells stay in pairs).

    Raises
    ------
    DataError
        Without RDKit, or when no string is a valid molecule.
    """
    try:
        from rdkit.Chem import Draw
    except ImportError as exc:
        raise DataError("drawing molecules needs RDKit: pip install 'latentkit[chem]'.") from exc
    if legends is not None and len(legends) != len(smiles):
        raise DataError(f"expected one legend per molecule, got {len(legends)} for {len(smiles)}.")
    cells = [(_molecule(s), "" if legends is None else legends[i]) for i, s in enumerate(smiles)]
    pairs = [(mol, name) for mol, name in cells if keep_invalid or mol is not None]
    if all(mol is None for mol, _ in pairs):
        raise DataError(f"none of the {len(smiles)} strings is a valid molecule; nothing to draw.")
    mols, names = zip(*pairs, strict=True)
    per_row = min(per_row, len(mols))
    image = Draw.MolsToGridImage(
        list(mols), molsPerRow=per_row, subImgSize=(size, size), legends=list(names)
    )
    empty = [(i, name) for i, (mol, name) in enumerate(pairs) if mol is None and name]
    if empty:  # RDKit leaves an empty cell blank: write its legend where RDKit writes them
        from PIL import ImageDraw, ImageFont

        image = image.convert("RGB")
        pen = ImageDraw.Draw(image)
        try:
            font = ImageFont.load_default(size=max(10, size // 11))
        except TypeError:  # Pillow 10.0: one bitmap font, no size
            font = ImageFont.load_default()
        for i, name in empty:
            left, top = (i % per_row) * size, (i // per_row) * size
            pen.text((left + size / 2, top + size * 0.9), name, fill="black", font=font,
                     anchor="mm")  # fmt: skip
    return image


def png_bytes(image: Any) -> bytes:
    """PNG bytes of a PIL image (e.g. :func:`molecule_grid`'s)."""
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def molecule_png(smiles: str, size: int = 200) -> bytes | None:
    """PNG bytes of one molecule drawn ``size`` x ``size`` pixels by RDKit, or None when
    ``smiles`` is not a valid molecule. Raises :class:`DataError` without RDKit."""
    if not can_draw():
        raise DataError("drawing molecules needs RDKit: pip install 'latentkit[chem]'.")
    from rdkit.Chem.Draw import rdMolDraw2D

    mol = _molecule(smiles)
    if mol is None:
        return None
    drawer = rdMolDraw2D.MolDraw2DCairo(size, size)
    drawer.DrawMolecule(mol)
    drawer.FinishDrawing()
    return bytes(drawer.GetDrawingText())


def write_molecule_grid(path: str | Path, smiles: Sequence[str], **options: Any) -> Path:
    """Draw :func:`molecule_grid` into a PNG file (atomically); returns the path."""
    atomic_write_bytes(path, png_bytes(molecule_grid(smiles, **options)))
    return Path(path)
