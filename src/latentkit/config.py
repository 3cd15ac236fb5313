"""Shared configuration base: frozen, typed dataclasses with a strict JSON round trip.

Every model and the trainer are built from a config. ``Config.to_dict`` gives plain JSON
values; ``Config.from_dict`` rebuilds the dataclass and refuses unknown keys and values of the
wrong type, so a ``config.json`` from a stranger is validated before anything is built from it.

Construction in Python is checked too, for every subclass: before a subclass's own
``__post_init__`` runs, the base checks each field against its annotation (see
:func:`_check_field`): a ``Literal`` field (also ``Literal | None`` and tuples of
``Literal``) must hold one of its values, ``int``/``float``/``str``/``bool`` fields a value of
that kind (an ``int`` is a valid ``float``; numpy scalars are turned into Python ones), a
nested-config field an instance of that config. ``Config.__init_subclass__`` wraps every
subclass's ``__post_init__`` to do this, so a new subclass cannot forget it, whether or not it
calls ``super().__post_init__()``; ``dataclasses.replace`` and ``from_dict`` go through the
same path. Annotations the check does not know (``dict``, ``Path``, ``Any``...) are left to
the subclass. Subclasses validate value ranges in ``__post_init__`` by calling the helpers
below, which raise :class:`~latentkit.errors.ConfigError` naming the field, the value and what
is allowed.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import numbers
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, Self, TypeVar, get_args, get_origin

from latentkit.errors import ConfigError

__all__ = [
    "MAX_JSON_BYTES",
    "Config",
    "check_choice",
    "check_positive",
    "check_range",
    "read_json",
    "write_json",
]

C = TypeVar("C", bound="Config")


def check_positive(owner: str, name: str, value: float, *, allow_zero: bool = False) -> None:
    """Raise ``ConfigError`` unless ``value`` is finite and > 0 (or >= 0 with ``allow_zero``)."""
    ok = value >= 0 if allow_zero else value > 0
    if not ok or not math.isfinite(value):
        bound = ">= 0" if allow_zero else "> 0"
        finite = "" if math.isfinite(value) else " and finite"
        raise ConfigError(f"{owner}.{name} must be {bound}{finite}, got {value!r}.")


def check_range(owner: str, name: str, value: float, low: float, high: float) -> None:
    """Raise ``ConfigError`` unless ``low <= value <= high``."""
    if not low <= value <= high:
        raise ConfigError(f"{owner}.{name} must be in [{low}, {high}], got {value!r}.")


def check_choice(owner: str, name: str, value: object, allowed: Iterable[object]) -> None:
    """Raise ``ConfigError`` unless ``value`` is one of ``allowed``."""
    options = tuple(allowed)
    if value not in options:
        raise _literal_error(f"{owner}.{name}", value, options)


def check_shape(owner: str, name: str, value: tuple[int, ...]) -> None:
    """Raise ``ConfigError`` unless ``value`` is a non-empty tuple of positive sizes."""
    if not value or any(d <= 0 for d in value):
        raise ConfigError(
            f"{owner}.{name} must be positive sizes such as (1, 28, 28), got {value}."
        )


def _in_literal(value: Any, allowed: tuple[Any, ...]) -> bool:
    """``value`` is one of ``allowed``, and a bool only where the Literal lists bools
    (``True == 1``, so plain ``in`` would let ``True`` pass for ``Literal[1]``)."""
    return any(
        isinstance(value, bool) == isinstance(a, bool) and isinstance(value, type(a)) and value == a
        for a in allowed
    )


def _literal_error(where: str, value: Any, allowed: tuple[Any, ...]) -> ConfigError:
    # one wording for check_choice, JSON values and direct construction
    return ConfigError(f"{where} must be one of {', '.join(map(repr, allowed))}; got {value!r}.")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _union_or_literal(where: str, tp: Any, value: Any, check: Callable[[Any], Any]) -> Any:
    """``value`` checked against a ``Literal`` or a union ``tp``: each member of a union by
    ``check(member)`` (JSON coercion or construction checks), the first that accepts wins."""
    if get_origin(tp) is Literal:
        allowed = get_args(tp)
        if not _in_literal(value, allowed):
            raise _literal_error(where, value, allowed)
        return value
    options = get_args(tp)
    if value is None and type(None) in options:
        return None
    errors = []
    for option in options:
        if option is type(None):
            continue
        try:
            return check(option)
        except ConfigError as exc:
            errors.append(exc)
    if len(errors) == 1:  # X | None: the error of X says more than "expected X | None"
        raise errors[0]
    raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}.")


def _coerce(owner: str, name: str, tp: Any, value: Any) -> Any:
    """Check ``value`` (a JSON value) against the annotation ``tp`` and convert it."""
    origin = get_origin(tp)
    where = f"{owner}.{name}"
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType, Literal):
        return _union_or_literal(where, tp, value, lambda t: _coerce(owner, name, t, value))
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {type(value).__name__} {value!r}.")
        args = get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}.")
            items = [_coerce(owner, name, a, v) for a, v in zip(args, value, strict=True)]
        else:
            item_tp = args[0] if args else Any
            items = [_coerce(owner, name, item_tp, v) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected an object, got {type(value).__name__}.")
        _, val_tp = get_args(tp) or (str, Any)
        return {str(k): _coerce(owner, name, val_tp, v) for k, v in value.items()}
    if isinstance(tp, type) and issubclass(tp, Config):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected an object for {tp.__name__}, got {value!r}.")
        return tp.from_dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}.")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}.")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}.")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}.")
        return value
    if tp is type(None):
        if value is not None:
            raise ConfigError(f"{where}: expected null, got {value!r}.")
        return None
    raise ConfigError(f"{where}: unsupported annotation {_type_name(tp)}.")  # pragma: no cover


def _is_numpy_bool(value: Any) -> bool:
    return type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")


def _check_field(owner: str, name: str, tp: Any, value: Any, *, scalars: bool = True) -> Any:
    """Check ``value``, passed in Python, against the annotation ``tp``; return it, with
    numpy scalars turned into Python ones.

    Unlike :func:`_coerce` (JSON in), this accepts what Python code naturally passes: an
    ``int`` for a ``float``, any ``numbers.Integral``/``numbers.Real``, a list for a tuple.
    Annotations it does not know are accepted unchecked, and so is a union holding one.
    Items of a tuple or list are checked against ``Literal`` only (``scalars=False``): the
    subclass checks its sequences of numbers with messages that say what they are for.
    """
    where = f"{owner}.{name}"
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType, Literal):
        check = lambda t: _check_field(owner, name, t, value, scalars=scalars)  # noqa: E731
        return _union_or_literal(where, tp, value, check)
    if origin in (tuple, list):
        if not isinstance(value, tuple | list):
            return value  # the subclass says what it wants (NetworkConfig: "a tuple of integers")
        args = get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                return value  # left to the subclass
            item_types = list(args)
        else:
            item_types = [args[0] if args else Any] * len(value)
        items = [
            _check_field(owner, f"{name}[{i}]", t, v, scalars=False)
            for i, (t, v) in enumerate(zip(item_types, value, strict=True))
        ]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return tuple(items) if isinstance(value, tuple) else items
    if not scalars:
        return value
    if isinstance(tp, type) and issubclass(tp, Config):
        if not isinstance(value, tp):
            raise ConfigError(
                f"{where}: expected a {tp.__name__}, got {type(value).__name__} {value!r}."
            )
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        if _is_numpy_bool(value):
            return bool(value)
        raise ConfigError(f"{where}: expected True or False, got {value!r}.")
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ConfigError(f"{where}: expected an integer, got {value!r}.")
        return value if type(value) is int else int(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(f"{where}: expected a number, got {value!r}.")
        return value if type(value) in (int, float) else float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}.")
        return value
    if tp is type(None):
        if value is not None:
            raise ConfigError(f"{where}: expected None, got {value!r}.")
        return None
    return value  # Any, dict, Path...: not checked here


def _plain(value: Any) -> Any:
    if isinstance(value, Config):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclasses.dataclass(frozen=True)
class Config:
    """Base for frozen, typed configuration dataclasses with a JSON round trip."""

    _hints: ClassVar[dict[type, dict[str, Any]]] = {}

    @classmethod
    def _field_types(cls) -> dict[str, Any]:
        if cls not in Config._hints:
            Config._hints[cls] = typing.get_type_hints(cls)
        return Config._hints[cls]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Wrap a subclass's own ``__post_init__`` so that the field check runs first.

        The check runs once per construction: only in the wrapper of the class being built
        (``type(self)``), not again when a subclass's ``__post_init__`` calls its parent's.
        """
        super().__init_subclass__(**kwargs)
        own: Callable[..., None] | None = cls.__dict__.get("__post_init__")
        if own is None or getattr(own, "_checks_fields", False):
            return

        @functools.wraps(own)
        def checked_post_init(self: Config, *args: Any, **kw: Any) -> None:
            if type(self).__post_init__ is checked_post_init:
                self._check_fields()
            own(self, *args, **kw)

        checked_post_init._checks_fields = True  # type: ignore[attr-defined]
        cls.__post_init__ = checked_post_init  # type: ignore[attr-defined]

    def __post_init__(self) -> None:
        # reached by subclasses without their own __post_init__, or through super() from one
        # (whose wrapper has already checked the fields)
        if type(self).__post_init__ is Config.__post_init__:
            self._check_fields()

    def _check_fields(self) -> None:
        """Check every init field against its annotation (see :func:`_check_field`).

        Raises
        ------
        ConfigError
            Naming ``Class.field``, the value and what is allowed.
        """
        cls = type(self)
        hints = cls._field_types()
        for f in dataclasses.fields(self):
            if not f.init:
                continue
            value = getattr(self, f.name)
            checked = _check_field(cls.__name__, f.name, hints[f.name], value)
            if checked is not value:
                object.__setattr__(self, f.name, checked)

    def to_dict(self) -> dict[str, Any]:
        """Return the config as plain JSON-compatible values (nested configs as dicts)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build the config from JSON values, refusing unknown keys and wrong types.

        Raises
        ------
        ConfigError
            On an unknown key, a value of the wrong type or a value that fails validation.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}.")
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ConfigError(
                f"{cls.__name__}: unknown key(s) {', '.join(map(repr, unknown))}; "
                f"known keys are {', '.join(sorted(fields))}."
            )
        hints = cls._field_types()
        kwargs = {k: _coerce(cls.__name__, k, hints[k], v) for k, v in data.items()}
        try:
            return cls(**kwargs)
        except TypeError as exc:  # a required field is missing
            raise ConfigError(f"{cls.__name__}: {exc}.") from exc

    def replace(self, **changes: Any) -> Self:
        """Return a copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)


def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as pretty JSON atomically (temp file in the same folder, then rename)."""
    from latentkit._io import atomic_write_bytes

    atomic_write_bytes(path, (json.dumps(data, indent=2, sort_keys=False) + "\n").encode())


#: Largest JSON file :func:`read_json` reads (configs, checkpoints' JSON, settings files).
MAX_JSON_BYTES = 10 * 2**20


def read_json(path: str | Path, *, error: type[Exception] = ConfigError) -> Any:
    """Read a JSON file, turning a missing, malformed, oversized (more than
    :data:`MAX_JSON_BYTES`) or absurdly nested file into ``error``."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_JSON_BYTES + 1)
        if len(raw) > MAX_JSON_BYTES:
            raise error(
                f"{path}: more than {MAX_JSON_BYTES} bytes; expected a small JSON file. "
                "The file is not a latentkit JSON file or was tampered with."
            )
        text = raw.decode("utf-8")
    except FileNotFoundError as exc:
        raise error(f"{path}: file not found.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read it as UTF-8 text ({exc}).") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not valid JSON ({exc}). Fix or delete the file.") from exc
    except RecursionError as exc:
        raise error(f"{path}: JSON nested too deeply to read; expected a flat config.") from exc
