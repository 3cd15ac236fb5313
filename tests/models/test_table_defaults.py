"""Defaults sized by a table (models.registry): a code smaller than the features, a network
sized by features and rows, a training length counted in steps; explicit settings win."""

from __future__ import annotations

import math

import pytest

from latentkit.models.registry import (
    TABLE_EPOCHS,
    TABLE_STEPS,
    create_model,
    data_defaults,
    epochs_for_steps,
    table_batch_size,
    table_code_size,
    table_hidden,
    training_defaults,
)


@pytest.mark.parametrize("d", [2, 3, 4, 6, 13, 30, 100, 5000])
def test_the_code_is_smaller_than_the_features(d):
    assert 1 <= table_code_size(d) < d and table_code_size(d) <= 16
    assert table_code_size(1) == 1  # one feature: nothing smaller


def test_the_network_grows_with_features_and_rows():
    assert table_hidden(4, 150) == (32, 16)
    assert table_hidden(30, 569) == (64, 32)
    assert table_hidden(100, 30_000) == (256, 128)
    assert table_hidden(1000, 100) == (64, 32)  # few rows: capped
    for d, n in [(3, 10), (30, 500), (200, 50_000)]:
        first, second = table_hidden(d, n)
        assert first >= second >= 2 * table_code_size(d)


def test_data_defaults_for_tables_and_images():
    sized = data_defaults("vae", is_image=False, n_features=13, n_samples=160)
    assert sized["latent_dim"] == 6 and sized["likelihood"] == "gaussian"
    assert sized["network"]["hidden"] == [32, 16] and sized["network"]["activation"] == "relu"
    hvae = data_defaults("hvae", is_image=False, n_features=13, n_samples=160)
    assert hvae["network"]["activation"] == "tanh" and hvae["top_latent_dim"] == 3
    assert data_defaults("cvae", is_image=False, n_classes=3)["num_classes"] == 3
    assert data_defaults("vae", is_image=True, n_features=64, n_samples=1000) == {}
    model = create_model("vae", (13,), **sized)
    assert model.latent_dim == 6


def test_training_length_is_counted_in_steps():
    assert table_batch_size(54) == 16 and table_batch_size(1000) == 64
    assert table_batch_size(10**6) == 128
    sized = training_defaults(is_image=False, n_samples=1000)
    steps = sized["epochs"] * math.ceil(1000 / sized["batch_size"])
    assert sized["batch_size"] == 64 and TABLE_STEPS <= steps < TABLE_STEPS + 16
    assert training_defaults(is_image=False, n_samples=10**6)["epochs"] == TABLE_EPOCHS[0]
    assert training_defaults(is_image=False, n_samples=20)["epochs"] == TABLE_EPOCHS[1]
    assert training_defaults(is_image=True, n_samples=1000) == {}
    # what the user gives is theirs: not returned, and epochs follow a given batch size
    given = training_defaults(is_image=False, n_samples=1000, batch_size=100)
    assert "batch_size" not in given and given["epochs"] == 80
    assert training_defaults(is_image=False, n_samples=1000, epochs=3) == {"batch_size": 64}
    assert epochs_for_steps(1000, 128, 800, (10, 500)) == 100  # the scikit-learn rule
