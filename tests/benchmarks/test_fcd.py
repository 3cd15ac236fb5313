"""Fréchet ChemNet distance of benchmarks/molecules.py: the Fréchet distance against closed
forms, the whole FCD against the ``fcd`` package's own on a tiny input."""

from __future__ import annotations

import numpy as np
import pytest

from tests.benchmarks._scripts import benchmark_module


@pytest.fixture(scope="module")
def module():
    return benchmark_module("_fcd")


def rotation(d: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def test_frechet_distance_matches_closed_forms(module):
    distance = module.frechet_distance
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2 for standard deviations s
    assert distance(np.array([1.0]), np.array([[4.0]]), np.array([3.0]), np.array([[1.0]])) == (
        pytest.approx(4.0 + 1.0)
    )
    # covariances sharing eigenvectors: sum over eigenvalues of (sqrt a - sqrt b)^2
    r = rotation(5, 0)
    a, b = np.array([1.0, 2.0, 0.5, 3.0, 0.1]), np.array([4.0, 0.5, 0.5, 1.0, 2.0])
    mu1, mu2 = np.arange(5.0), np.arange(5.0)[::-1]
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    got = distance(mu1, r @ np.diag(a) @ r.T, mu2, r @ np.diag(b) @ r.T)
    assert got == pytest.approx(expected, rel=1e-9)
    # the same Gaussian: 0; the same covariance: the squared distance of the means
    s = r @ np.diag(a) @ r.T
    assert distance(mu1, s, mu1, s) == pytest.approx(0.0, abs=1e-9)
    assert distance(mu1, s, mu2, s) == pytest.approx(np.sum((mu1 - mu2) ** 2))
    with pytest.raises(ValueError, match="matching shapes"):
        distance(mu1, s, mu1[:4], s[:4, :4])


def test_frechet_distance_agrees_with_the_fcd_package_on_general_covariances(module):
    fcd = pytest.importorskip("fcd")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 6)), rng.normal(size=(30, 6)) @ rng.normal(size=(6, 6))
    args = (x.mean(0), np.cov(x.T), y.mean(0) + 1, np.cov(y.T))
    expected = fcd.calculate_frechet_distance(args[0], args[1], args[2], args[3])
    assert module.frechet_distance(*args) == pytest.approx(expected, rel=1e-6)


def test_fcd_of_molecules_matches_the_package(module, tmp_path):
    fcd = pytest.importorskip("fcd")
    pytest.importorskip("rdkit")
    generated = ["OCC", "c1ccccc1O", "CC(N)=O", "C1CC", "CCN", ""]  # C1CC and "" are invalid
    reference = ["CCC", "CCCl", "c1ccccc1", "CC(=O)O", "CCOC"]
    path = tmp_path / "test.csv"
    path.write_text("smiles\n" + "\n".join(reference) + "\n")
    statistics = module.reference_statistics(path)
    got = module.fcd(generated, statistics)
    canonical = ["CCO", "Oc1ccccc1", "CC(N)=O", "CCN"]  # RDKit's canonical SMILES
    from latentkit.apps.molecules import canonical as canon

    assert [canon(s) for s in generated if canon(s)] == canonical
    expected = fcd.get_fcd(canonical, [canon(s) for s in reference], device="cpu")
    assert got == pytest.approx(expected, rel=1e-4)
    assert module.fcd(["CCO", "C1CC"], statistics) is None  # fewer than 2 valid molecules
    assert module.reference_statistics(path, 2)[1].shape == (512, 512)
