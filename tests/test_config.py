"""The Config base: every field is checked against its annotation at construction.

``Literal`` fields (also ``Literal | None`` and tuples of ``Literal``) are checked for every
config subclass in the package, whether it defines its own ``__post_init__`` or not, on direct
construction, ``replace`` and ``from_dict`` alike; the error names ``Class.field``, the value and
the allowed values in the wording of :func:`latentkit.config.check_choice`.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
import types
import typing
from typing import Any, Literal, get_args, get_origin

import numpy as np
import pytest

import latentkit
from latentkit.config import Config, check_choice
from latentkit.errors import ConfigError
from latentkit.nn import NetworkConfig

BOGUS = "no-such-choice"


def _package_configs() -> list[type[Config]]:
    """Every Config subclass defined in the package (all its modules imported first)."""
    for info in pkgutil.walk_packages(latentkit.__path__, "latentkit."):
        if info.name.rsplit(".", 1)[-1] == "__main__":  # runs the CLI on import
            continue
        try:
            importlib.import_module(info.name)
        except ImportError:  # an optional dependency (web server, plots) is missing
            continue
    found: dict[str, type[Config]] = {}
    todo = list(Config.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("latentkit."):
            found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[k] for k in sorted(found)]


CONFIGS = _package_configs()

# values for fields without a default, by field name (a new required field needs an entry)
REQUIRED = {"input_shape": (4,)}


def _literal_of(tp: Any) -> tuple[tuple[Any, ...], bool] | None:
    """``(allowed, in_tuple)`` when ``tp`` is a Literal, ``Literal | None`` or a tuple/list of
    one; ``None`` for any other annotation."""
    origin = get_origin(tp)
    if origin is Literal:
        return get_args(tp), False
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if len(options) == 1:
            return _literal_of(options[0])
        return None
    if origin in (tuple, list):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        if len(args) == 1 and get_origin(args[0]) is Literal:
            return get_args(args[0]), True
    return None


#: required values that differ for one class (image tiles, not a flat vector)
REQUIRED_FOR: dict[str, dict[str, Any]] = {"ResidualDenoisingConfig": {"input_shape": (1, 8, 8)}}


def _required(cls: type[Config]) -> dict[str, Any]:
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            assert f.name in REQUIRED, f"add a valid value of {cls.__name__}.{f.name} to REQUIRED"
            kwargs[f.name] = REQUIRED_FOR.get(cls.__name__, {}).get(f.name, REQUIRED[f.name])
    return kwargs


LITERAL_FIELDS = [
    pytest.param(cls, name, *spec, id=f"{cls.__name__}.{name}")
    for cls in CONFIGS
    for name, tp in cls._field_types().items()
    if name in {f.name for f in dataclasses.fields(cls) if f.init}
    and (spec := _literal_of(tp)) is not None
]


def test_the_walk_finds_the_known_configs() -> None:
    names = {cls.__name__ for cls in CONFIGS}
    assert {"VAEConfig", "ConditionalVAEConfig", "NetworkConfig", "TrainConfig"} <= names
    assert len(LITERAL_FIELDS) >= 10


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: c.__name__)
def test_defaults_build_and_round_trip(cls: type[Config]) -> None:
    config = cls(**_required(cls))
    data = json.loads(json.dumps(config.to_dict()))
    assert cls.from_dict(data) == config
    assert config.replace() == config


@pytest.mark.parametrize(("cls", "name", "allowed", "in_tuple"), LITERAL_FIELDS)
def test_every_literal_field_is_checked_at_construction(
    cls: type[Config], name: str, allowed: tuple[Any, ...], in_tuple: bool
) -> None:
    bad = (BOGUS,) if in_tuple else BOGUS
    with pytest.raises(ConfigError) as info:
        cls(**_required(cls), **{name: bad})
    message = str(info.value)
    assert f"{cls.__name__}.{name}" in message
    assert repr(BOGUS) in message
    for value in allowed:
        assert repr(value) in message
    # replace() and from_dict() refuse it the same way
    with pytest.raises(ConfigError, match=rf"{cls.__name__}\.{name}"):
        cls(**_required(cls)).replace(**{name: bad})
    data = cls(**_required(cls)).to_dict()
    data[name] = list(bad) if in_tuple else bad
    with pytest.raises(ConfigError, match=rf"{cls.__name__}\.{name}"):
        cls.from_dict(data)


def test_wording_is_that_of_check_choice() -> None:
    from latentkit.models.vae import VAEConfig

    with pytest.raises(ConfigError) as direct:
        VAEConfig(input_shape=(4,), likelihood="nope")  # type: ignore[arg-type]
    allowed = get_args(VAEConfig._field_types()["likelihood"])
    with pytest.raises(ConfigError) as helper:
        check_choice("VAEConfig", "likelihood", "nope", allowed)
    assert str(direct.value) == str(helper.value)
    assert str(direct.value).startswith("VAEConfig.likelihood must be one of 'bernoulli', ")


def test_a_subclass_is_named_by_its_own_class() -> None:
    from latentkit.models.conditional import ConditionalVAEConfig

    with pytest.raises(ConfigError, match=r"^ConditionalVAEConfig\.prior must be one of"):
        ConditionalVAEConfig(input_shape=(4,), prior="bogus")  # type: ignore[arg-type]


# --- the mechanism, on small configs of our own ---------------------------------------------

CALLS: list[str] = []


@dataclasses.dataclass(frozen=True)
class _Plain(Config):  # no __post_init__ of its own
    mode: Literal["a", "b"] = "a"
    maybe: Literal["x", "y"] | None = None
    modes: tuple[Literal["a", "b"], ...] = ()
    number: Literal[1, 2] = 1


@dataclasses.dataclass(frozen=True)
class _Own(Config):  # its own __post_init__, which does not call super()
    mode: Literal["a", "b"] = "a"

    def __post_init__(self) -> None:
        CALLS.append(f"own:{self.mode}")  # sees only valid values: the check runs first


@dataclasses.dataclass(frozen=True)
class _Child(_Own):  # calls super(): the fields are still checked once
    extra: Literal["p", "q"] = "p"

    def __post_init__(self) -> None:
        CALLS.append("child")
        super().__post_init__()


@dataclasses.dataclass(frozen=True)
class _Grandchild(_Child):  # inherits _Child's __post_init__
    more: Literal["m"] = "m"


@dataclasses.dataclass(frozen=True)
class _Scalars(Config):
    count: int = 1
    rate: float = 0.5
    name: str = "n"
    flag: bool = False
    limit: int | None = None
    network: NetworkConfig = NetworkConfig()
    anything: Any = None


def test_literal_or_none() -> None:
    assert _Plain(maybe=None).maybe is None
    assert _Plain(maybe="y").maybe == "y"
    with pytest.raises(ConfigError, match=r"_Plain\.maybe must be one of 'x', 'y'; got 'z'\."):
        _Plain(maybe="z")  # type: ignore[arg-type]


def test_tuple_of_literals() -> None:
    assert _Plain(modes=("a", "b", "a")).modes == ("a", "b", "a")
    with pytest.raises(ConfigError, match=r"_Plain\.modes\[1\] must be one of 'a', 'b'; got 'c'"):
        _Plain(modes=("a", "c"))  # type: ignore[arg-type]


def test_bool_is_not_an_int_literal() -> None:
    assert _Plain(number=2).number == 2
    with pytest.raises(ConfigError, match=r"_Plain\.number must be one of 1, 2; got True"):
        _Plain(number=True)  # type: ignore[arg-type]


def test_own_post_init_runs_after_the_check() -> None:
    CALLS.clear()
    assert _Own(mode="b").mode == "b"
    assert CALLS == ["own:b"]
    CALLS.clear()
    with pytest.raises(ConfigError, match=r"^_Own\.mode must be one of 'a', 'b'; got 'c'"):
        _Own(mode="c")  # type: ignore[arg-type]
    assert CALLS == []


@pytest.mark.parametrize("cls", [_Child, _Grandchild])
def test_subclasses_of_a_subclass_are_checked_once(
    cls: type[_Child], monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []
    original = Config._check_fields

    def counting(self: Config) -> None:
        checks.append(type(self).__name__)
        original(self)

    monkeypatch.setattr(Config, "_check_fields", counting)
    CALLS.clear()
    cls(mode="b")
    assert checks == [cls.__name__]
    assert CALLS == ["child", "own:b"]
    with pytest.raises(ConfigError, match=rf"^{cls.__name__}\.extra must be one of 'p', 'q'"):
        cls(extra="r")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=rf"^{cls.__name__}\.mode must be one of"):
        cls(mode="r")  # type: ignore[arg-type]


def test_replace_is_checked() -> None:
    config = _Own()
    with pytest.raises(ConfigError, match=r"_Own\.mode"):
        config.replace(mode="c")
    with pytest.raises(ConfigError, match=r"_Own\.mode"):
        dataclasses.replace(config, mode="c")
    assert config.replace(mode="b") == _Own(mode="b")


def test_from_dict_still_works() -> None:
    config = _Plain.from_dict({"mode": "b", "maybe": "x", "modes": ["a", "b"], "number": 2})
    assert config == _Plain(mode="b", maybe="x", modes=("a", "b"), number=2)
    assert _Plain.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ConfigError, match=r"_Plain\.mode must be one of 'a', 'b'; got 'c'"):
        _Plain.from_dict({"mode": "c"})
    with pytest.raises(ConfigError, match="unknown key"):
        _Plain.from_dict({"nope": 1})


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"count": "3"}, ["_Scalars.count", "integer", "'3'"]),
        ({"count": 2.5}, ["_Scalars.count", "integer", "2.5"]),
        ({"count": True}, ["_Scalars.count", "integer", "True"]),
        ({"rate": "fast"}, ["_Scalars.rate", "number", "'fast'"]),
        ({"name": 3}, ["_Scalars.name", "string", "3"]),
        ({"flag": "yes"}, ["_Scalars.flag", "True or False", "'yes'"]),
        ({"limit": "4"}, ["_Scalars.limit", "integer", "'4'"]),
        ({"network": {"kind": "mlp"}}, ["_Scalars.network", "NetworkConfig", "dict"]),
    ],
)
def test_scalar_types_are_checked(changes: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        _Scalars(**changes)
    for word in words:
        assert word in str(info.value)


def test_scalars_accept_what_python_code_passes() -> None:
    config = _Scalars(count=np.int64(3), rate=2, limit=None, flag=np.bool_(True), anything=[1])
    assert config.count == 3 and type(config.count) is int
    assert config.rate == 2  # an int is a valid float, and kept as it is
    assert config.flag is True
    config = _Scalars(rate=np.float32(0.25), limit=np.int32(7))
    assert type(config.rate) is float and config.rate == 0.25
    assert type(config.limit) is int and config.limit == 7
    json.dumps(config.to_dict())  # numpy scalars were turned into JSON-able Python ones
