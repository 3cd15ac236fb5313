"""Data-dependent defaults are decided beside the models: ``registry.data_defaults``."""

from __future__ import annotations

import dataclasses

import pytest

from latentkit.errors import ConfigError
from latentkit.models.registry import (
    ALIASES,
    MODELS,
    TABLE_DEFAULTS,
    create_model,
    data_defaults,
    get_model_class,
)


@pytest.mark.parametrize("model_type", sorted([*MODELS, *ALIASES]))
def test_images_keep_the_config_defaults(model_type: str) -> None:
    assert data_defaults(model_type, is_image=True) == {}


@pytest.mark.parametrize(
    "model_type", [m for m in sorted(MODELS) if not get_model_class(m).capabilities.sequence]
)
def test_tables_get_the_table_defaults_their_config_has(model_type: str) -> None:
    names = {f.name for f in dataclasses.fields(get_model_class(model_type).config_class)}
    defaults = data_defaults(model_type, is_image=False)
    assert defaults == {k: v for k, v in TABLE_DEFAULTS.items() if k in names}
    if not get_model_class(model_type).capabilities.tabular:  # its likelihoods: per column
        assert defaults  # every registered model has a likelihood or a reconstruction loss


def test_mixed_tables_get_their_column_likelihoods() -> None:
    fields = data_defaults(
        "tabular_vae", is_image=False, n_features=3, n_samples=500,
        kinds=("numeric", "binary", "categorical"), levels=(1, 2, 5),
    )  # fmt: skip
    assert fields["kinds"] == ["numeric", "binary", "categorical"]
    assert fields["levels"] == [1, 2, 5]
    assert fields["latent_dim"] == 2
    assert "kinds" not in data_defaults("vae", is_image=False, kinds=("numeric",), levels=(1,))


def test_table_defaults_by_family() -> None:
    assert data_defaults("vae", is_image=False) == {"likelihood": "gaussian"}
    assert data_defaults("ae", is_image=False) == {"reconstruction": "mse"}
    model = create_model("vae", (5,), latent_dim=2, **data_defaults("vae", is_image=False))
    assert model.config.likelihood == "gaussian"
    # explicit settings win over the defaults
    chosen = data_defaults("ae", is_image=False) | {"reconstruction": "bce"}
    assert create_model("ae", (5,), latent_dim=2, **chosen).config.reconstruction == "bce"


def test_unknown_model_type_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown model type"):
        data_defaults("pca", is_image=False)
