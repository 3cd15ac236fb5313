"""Fixtures of the viz tests: the digits data and two tiny models trained on it (once)."""

from __future__ import annotations

import pytest

from latentkit import datasets
from tests.viz.helpers import small_ae, small_vae, train


@pytest.fixture(scope="session")
def digits():
    return datasets.load("digits")


@pytest.fixture(scope="session")
def vae(digits):
    return train(small_vae(digits.shape, latent_dim=2), digits.x)


@pytest.fixture(scope="session")
def ae(digits):
    return train(small_ae(digits.shape, latent_dim=3), digits.x, steps=100)
