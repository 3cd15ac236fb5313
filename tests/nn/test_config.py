"""NetworkConfig: validation errors name field, value and what is allowed; JSON round trip."""

from __future__ import annotations

import json

import pytest

from latentkit.errors import ConfigError
from latentkit.nn import NetworkConfig


def test_defaults_and_json_round_trip() -> None:
    config = NetworkConfig(kind="resconv", channels=(8, 16), norm="group", dropout=0.1)
    data = json.loads(json.dumps(config.to_dict()))
    assert data["channels"] == [8, 16]
    assert NetworkConfig.from_dict(data) == config


def test_lists_become_tuples() -> None:
    config = NetworkConfig(hidden=[8, 4], channels=[2])  # type: ignore[arg-type]
    assert config.hidden == (8, 4) and config.channels == (2,)
    hash(config)  # frozen and hashable


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"kind": "transformer"}, ["kind", "transformer", "mlp"]),
        ({"hidden": (8, 0)}, ["hidden", "> 0"]),
        ({"hidden": (8, 2.5)}, ["hidden", "integers"]),
        ({"channels": ()}, ["channels", "at least one"]),
        ({"dense": -1}, ["dense", ">= 0"]),
        ({"blocks_per_stage": 0}, ["blocks_per_stage", "> 0"]),
        ({"activation": "swish"}, ["activation", "swish", "silu"]),
        ({"norm": "instance"}, ["norm", "instance", "group"]),
        ({"dropout": 1.0}, ["dropout", "< 1"]),
        ({"dropout": -0.1}, ["dropout", "[0.0, 1.0]"]),
    ],
)
def test_validation_names_field_value_and_allowed(changes: dict, words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        NetworkConfig(**changes)
    for word in words:
        assert word in str(info.value)


def test_from_dict_rejects_unknown_keys_and_wrong_types() -> None:
    with pytest.raises(ConfigError, match="unknown key"):
        NetworkConfig.from_dict({"widths": [1]})
    with pytest.raises(ConfigError, match="dense"):
        NetworkConfig.from_dict({"dense": "big"})
