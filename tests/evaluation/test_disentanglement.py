"""Disentanglement metrics against known answers: factors score 1, noise 0, mixtures between."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from latentkit.evaluation.disentanglement import (
    dci,
    discretize,
    factor_vae_score,
    latent_factors,
    mig,
    mutual_information,
    normalized_mutual_information,
    sap,
)


def grid_factors(n: int, sizes=(3, 6, 10, 8), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, s, n) for s in sizes], 1)  # (n, K)


def as_codes(factors: np.ndarray, seed: int = 1, noise: float = 0.0) -> np.ndarray:
    """The factors themselves, as standardised real codes (one latent per factor)."""
    rng = np.random.default_rng(seed)
    z = (factors - factors.mean(0)) / factors.std(0)
    return z + noise * rng.standard_normal(z.shape)


@pytest.fixture(scope="module")
def f():
    return grid_factors(3000)


def test_mig_by_hand():
    # one factor v (two values), two latents: z0 copies v, z1 is v on half the rows
    v = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    z0 = v.astype(float)
    z1 = np.array([0, 1, 0, 1, 1, 1, 1, 1], float)
    # I(z0; v) = H(v) = log 2; I(z1; v): z1 = 0 on rows {0, 2} (v = 0); z1 = 1 on 6 rows,
    # 2 with v = 0 and 4 with v = 1: I = H(v) - H(v | z1) = log 2 - 6/8 * H(1/3, 2/3)
    h = -(1 / 3 * math.log(1 / 3) + 2 / 3 * math.log(2 / 3))
    i1 = math.log(2) - 0.75 * h
    m = mutual_information(np.stack([z0, z1], 1), v[:, None])
    assert m[0, 0] == pytest.approx(math.log(2)) and m[1, 0] == pytest.approx(i1)
    assert mig(np.stack([z0, z1], 1), v[:, None]) == pytest.approx(1 - i1 / math.log(2))


def test_discretize_uses_twenty_equal_bins():
    z = np.linspace(0, 1, 1001)[:, None]
    bins = discretize(z)
    assert bins.min() == 1 and bins.max() == 20
    counts = np.bincount(bins[:, 0])[1:]
    assert len(counts) == 20 and np.abs(counts[:-1] - 50).max() <= 1  # equal widths


def test_factors_themselves_score_near_one(f):
    z = as_codes(f)
    assert mig(z, f) > 0.95  # not exactly 1: 20 bins of a 3-valued factor, yes 1 here
    # SAP's ceiling is below 1: a linear classifier on one latent cannot single out the
    # middle values of an ordinal factor, and the wrong latents score chance, not 0
    assert sap(z, f) > 0.2
    d, c, i = dci(z, f, n_estimators=20)
    assert d > 0.95 and c > 0.95 and i > 0.99
    assert factor_vae_score(z, f, n_train=500, n_eval=500) == 1.0


def test_random_codes_score_near_zero(f):
    z = np.random.default_rng(5).standard_normal((len(f), 4))
    assert mig(z, f) < 0.02
    assert sap(z, f) < 0.05
    d, c, i = dci(z, f, n_estimators=20)
    assert d < 0.2 and c < 0.2
    assert i < 0.4  # chance: about the mean of 1/3, 1/6, 1/10, 1/8
    # each latent votes at random: about 1 / K of the votes match (the classifier picks the
    # luckiest factor per latent)
    assert factor_vae_score(z, f, n_train=500, n_eval=500) < 0.45


def test_mixed_codes_score_in_between(f):
    z = as_codes(f)
    angle = math.pi / 6  # rotate the first two latents by 30 degrees
    rot = np.eye(4)
    rot[:2, :2] = [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]
    mixed = z @ rot.T
    m, m_mixed = mig(z, f), mig(mixed, f)
    assert 0.1 < m_mixed < m - 0.2
    d, c, _ = dci(mixed, f, n_estimators=20)
    assert 0.3 < d < 0.95 and 0.3 < c < 0.95
    assert 0.0 < sap(mixed, f) < sap(z, f)
    # noise degrades the information but the one-to-one structure stays
    noisy = as_codes(f, noise=1.0)
    assert 0.05 < mig(noisy, f) < m - 0.3


def test_duplicated_latent_has_no_gap(f):
    z = as_codes(f)
    doubled = np.concatenate([z, z[:, :1]], 1)  # factor 0 in two latents: no gap for it
    assert mig(doubled, f) == pytest.approx(mig(z, f) * 3 / 4, abs=0.02)
    _, c, _ = dci(doubled, f, n_estimators=20)
    assert c < dci(z, f, n_estimators=20).completeness


def test_factor_vae_score_ignores_collapsed_latents(f):
    z = np.concatenate([as_codes(f), np.zeros((len(f), 3))], 1)  # 3 inactive latents
    assert factor_vae_score(z, f, n_train=500, n_eval=500) == 1.0
    assert factor_vae_score(np.zeros((len(f), 2)), f) == 0.0


def test_torch_inputs_and_errors(f):
    z = torch.from_numpy(as_codes(f)).float()
    assert mig(z, torch.from_numpy(f)) == pytest.approx(mig(as_codes(f), f), abs=1e-6)
    with pytest.raises(ValueError, match="same N"):
        mig(z[:10], f)
    with pytest.raises(ValueError, match="integer"):
        mig(z, f.astype(float))
    with pytest.raises(ValueError, match="at least 2 latents"):
        mig(z[:, :1], f)


def test_latent_factors_names_what_each_latent_carries(f):
    z = as_codes(f)[:, [2, 0, 3, 1]]  # latent j carries factor 2, 0, 3, 1
    noise = np.random.default_rng(0).standard_normal((len(f), 1))
    codes = np.concatenate([z, noise], 1)
    names = ["shape", "scale", "orientation", "x"]
    assert latent_factors(codes, f, names) == ["orientation", "shape", "x", "scale", None]
    nmi = normalized_mutual_information(codes, f)
    assert nmi.shape == (5, 4) and nmi.max() <= 1 + 1e-9 and nmi[0, 2] > 0.99
    with pytest.raises(ValueError, match="names"):
        latent_factors(codes, f, ["a"])
