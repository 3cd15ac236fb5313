"""Chemistry of generated strings: validity, canonical SMILES, the MOSES generation metrics and
molecular properties. Needs RDKit (``pip install 'latentkit[chem]'``; SELFIES also ``selfies``).

The metrics follow MOSES (Polykovskiy et al. 2020, "Molecular sets (MOSES): a benchmarking
platform for molecular generation models"):

- validity: the share of generated strings RDKit parses into a molecule (an empty string is
  not a molecule);
- unique@k: the share of distinct canonical SMILES among the first ``k`` valid molecules;
- novelty: the share of the distinct valid molecules that are not in the training set
  (canonical SMILES compared);
- internal diversity (IntDiv1): one minus the mean Tanimoto similarity of Morgan fingerprints
  (radius 2, 1024 bits, as MOSES) over the pairs of distinct valid molecules (here the
  distinct pairs, the diagonal left out, on at most ``diversity_sample`` molecules).

Properties: QED (Bickerton et al. 2012), Crippen logP, and penalised logP = logP - SA score
- (size of the largest ring beyond 6 atoms), unnormalised, as in Kusner et al. 2017 (the SA
score is RDKit's contributed ``sascorer``, Ertl & Schuffenhauer 2009).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from latentkit.errors import DataError

__all__ = [
    "canonical",
    "generation_metrics",
    "internal_diversity",
    "properties",
    "to_smiles",
]


@functools.cache
def _chem() -> Any:
    try:
        from rdkit import Chem, RDLogger
    except ImportError as exc:
        raise DataError(
            "molecule metrics need RDKit: pip install 'latentkit[chem]' (rdkit, selfies)."
        ) from exc
    RDLogger.DisableLog("rdApp.*")  # invalid samples are expected: count them, do not log them
    return Chem


def canonical(smiles: str) -> str | None:
    """RDKit's canonical SMILES of ``smiles``, or None when it is not a valid molecule."""
    if not smiles:
        return None
    mol = _chem().MolFromSmiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        return None
    return _chem().MolToSmiles(mol)


def to_smiles(strings: Iterable[str], kind: str) -> list[str]:
    """SMILES of model outputs: SELFIES are decoded (``selfies``), SMILES kept as they are."""
    strings = list(strings)
    if kind != "selfies":
        return strings
    try:
        import selfies
    except ImportError as exc:
        raise DataError("SELFIES need the selfies package: pip install 'latentkit[chem]'.") from exc
    out = []
    for text in strings:
        try:
            out.append(selfies.decoder(text) or "")
        except selfies.DecoderError:
            out.append("")
    return out


def _fingerprints(smiles: Sequence[str]) -> list[Any]:
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    return [generator.GetFingerprint(_chem().MolFromSmiles(s)) for s in smiles]


def internal_diversity(smiles: Sequence[str]) -> float:
    """1 - mean Tanimoto similarity over the distinct pairs of ``smiles`` (valid ones)."""
    from rdkit import DataStructs

    if len(smiles) < 2:
        raise DataError(f"internal diversity needs at least 2 molecules, got {len(smiles)}.")
    fps = _fingerprints(smiles)
    total, pairs = 0.0, 0
    for i in range(1, len(fps)):
        sims = DataStructs.BulkTanimotoSimilarity(fps[i], fps[:i])
        total += sum(sims)
        pairs += len(sims)
    return 1.0 - total / pairs


def generation_metrics(
    generated: Sequence[str],
    training: Iterable[str] | set[str],
    *,
    ks: Sequence[int] = (1000, 10000),
    diversity_sample: int = 1000,
) -> dict[str, float | int | None]:
    """MOSES-style metrics of generated SMILES (module docstring).

    Parameters
    ----------
    generated : sequence of str
        SMILES as generated (SELFIES decoded first with :func:`to_smiles`).
    training : iterable or set of str
        Canonical SMILES of the training set (a ``set`` is used as given; other iterables are
        canonicalised here).
    ks : sequence of int
        The ``k`` of unique@k; a ``k`` beyond the valid molecules gives None.
    diversity_sample : int
        Internal diversity on the first this many distinct valid molecules.

    Returns
    -------
    dict
        ``n``, ``valid``, ``validity``, ``unique@k`` for each k, ``unique`` (over all valid),
        ``novelty``, ``int_div``.
    """
    if not generated:
        raise DataError("no generated strings to measure; expected at least one.")
    known = training if isinstance(training, set) else {c for s in training if (c := canonical(s))}
    valid = [c for s in generated if (c := canonical(s)) is not None]
    out: dict[str, float | int | None] = {"n": len(generated), "valid": len(valid)}
    out["validity"] = len(valid) / len(generated)
    for k in ks:
        out[f"unique@{k}"] = len(set(valid[:k])) / k if len(valid) >= k else None
    distinct = list(dict.fromkeys(valid))
    out["unique"] = len(distinct) / len(valid) if valid else None
    out["novelty"] = sum(s not in known for s in distinct) / len(distinct) if distinct else None
    out["int_div"] = internal_diversity(distinct[:diversity_sample]) if len(distinct) >= 2 else None
    return out


@functools.cache
def _sascorer() -> Any:
    import os

    from rdkit import RDConfig

    folder = os.path.join(RDConfig.RDContribDir, "SA_Score")
    if folder not in sys.path:
        sys.path.append(folder)
    import sascorer  # RDKit's contributed synthetic accessibility score

    return sascorer


def properties(smiles: str) -> dict[str, float] | None:
    """``{"qed", "logp", "penalized_logp"}`` of a molecule, or None when it is not valid."""
    from rdkit.Chem import QED, Crippen

    if not smiles:
        return None
    mol = _chem().MolFromSmiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        return None
    logp = Crippen.MolLogP(mol)
    rings = [len(r) for r in mol.GetRingInfo().AtomRings()]
    cycle = max(0, max(rings, default=0) - 6)
    sa = _sascorer().calculateScore(mol)
    return {"qed": QED.qed(mol), "logp": logp, "penalized_logp": logp - sa - cycle}
