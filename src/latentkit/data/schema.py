"""Column kinds of a mixed table (numbers, counts, binaries, categories, gaps) and its encoding.

A :class:`TableSchema` is inferred from a :class:`pandas.DataFrame` (or a CSV/Parquet file read
with :func:`read_frame`) and stored as JSON with the run; every later command encodes its data
with the same schema. Each column is one of:

- ``numeric``: real numbers. Encoded by a quantile normalisation (the rank of the value among
  the training values, mapped to a standard normal score; 200 stored quantiles, point masses
  such as the zeros of a capital-gain column kept as one score), which is robust to outliers and
  heavy tails and is inverted exactly on the stored quantiles when decoding;
- ``integer``: whole numbers with many distinct values (counts, ages): as ``numeric``, rounded
  when decoded;
- ``binary``: exactly two distinct values (0/1, yes/no, two words): code 0 or 1;
- ``categorical``: text, booleans, or whole numbers with at most :data:`MAX_INT_LEVELS`
  distinct values: code 0 .. L-1 in the sorted order of the levels.

Missing values (empty fields, ``NA``, ``NaN``, ``?``, ``null``) become NaN in the encoded
``(N, C)`` float32 array: the observed mask is ``~isnan(values)``. ``categorical=[...]`` and
``numeric=[...]`` override the inferred kinds. Decoding gives back a DataFrame with the same
columns, dtypes and categories. Unseen categories and text in a number column are refused with
one message naming the column, the values and the levels.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from latentkit.errors import DataError

__all__ = [
    "MAX_INT_LEVELS",
    "MISSING_CODES",
    "ColumnSpec",
    "TableSchema",
    "read_frame",
]

Kind = Literal["numeric", "integer", "binary", "categorical"]
KINDS: tuple[str, ...] = ("numeric", "integer", "binary", "categorical")
#: whole-number columns with at most this many distinct values are categories
MAX_INT_LEVELS = 10
#: text read as a missing value
MISSING_CODES = ("", "NA", "N/A", "NaN", "nan", "?", "null", "NULL", "None")
#: quantiles stored per number column
N_QUANTILES = 200
#: probabilities are kept within (1e-6, 1 - 1e-6): normal scores within +-4.8
_P_CLIP = 1e-6


def read_frame(path: str | Path) -> Any:
    """A CSV or Parquet file as a DataFrame, with :data:`MISSING_CODES` as missing values.

    The sizes are checked first as by the numeric loader (:mod:`latentkit.data.limits`): a
    Parquet file through its metadata, a CSV file through its size."""
    import pandas as pd

    from latentkit.data.limits import check_data_bytes
    from latentkit.data.tables import CSV_EXPANSION, _read_arrow

    path = Path(path).expanduser()
    try:
        if path.suffix.lower() == ".parquet":
            return _read_arrow(path).to_pandas()
        size = path.stat().st_size
        check_data_bytes(
            path,
            f"the table of this CSV file of {size:,} bytes (counted as {CSV_EXPANSION} bytes "
            "per byte of text)",
            CSV_EXPANSION * size,
        )
        return pd.read_csv(
            path, keep_default_na=False, na_values=list(MISSING_CODES), skipinitialspace=True
        )
    except DataError:
        raise
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: cannot read it as a table ({exc}).") from exc


def _level_type(values: Any) -> str:
    """How levels are written back: ``int``, ``float``, ``bool`` or ``str``."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(values):
        return "bool"
    if pd.api.types.is_integer_dtype(values):
        return "int"
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        return "int" if bool((whole == np.round(whole)).all()) else "float"
    return "str"


def _norm_ppf(p: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri

    return ndtri(np.clip(p, _P_CLIP, 1 - _P_CLIP))


def _norm_cdf(s: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(s)


@dataclasses.dataclass(frozen=True)
class ColumnSpec:
    """One column: its name, kind and what encodes it.

    Attributes
    ----------
    name : str
    kind : {"numeric", "integer", "binary", "categorical"}
    levels : tuple of str
        Binary and categorical columns: the values (as text), in code order.
    level_type : {"str", "int", "float", "bool"}
        How the values of the column are written back.
    quantiles : tuple of float
        Numeric and integer columns: the training values at evenly spaced probabilities.
    """

    name: str
    kind: Kind
    levels: tuple[str, ...] = ()
    level_type: str = "float"
    quantiles: tuple[float, ...] = ()

    @property
    def n_levels(self) -> int:
        """Levels of a binary or categorical column (1 for a number column)."""
        return len(self.levels) if self.kind in ("binary", "categorical") else 1

    @property
    def is_number(self) -> bool:
        return self.kind in ("numeric", "integer")


def _text(value: Any, level_type: str) -> str:
    if level_type in ("int", "float") and isinstance(value, float) and value.is_integer():
        value = int(value) if level_type == "int" else value
    return str(value)


@dataclasses.dataclass(frozen=True)
class TableSchema:
    """The columns of a mixed table, in order (see the module docstring)."""

    columns: tuple[ColumnSpec, ...]

    # -- facts ----------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def kinds(self) -> tuple[str, ...]:
        """The likelihood of each column: ``numeric`` (numbers and counts), ``binary`` or
        ``categorical``."""
        return tuple("numeric" if c.is_number else c.kind for c in self.columns)

    @property
    def levels(self) -> tuple[int, ...]:
        return tuple(c.n_levels for c in self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    # -- inference ------------------------------------------------------------------------
    @classmethod
    def infer(
        cls,
        frame: Any,
        *,
        categorical: Sequence[str] | None = None,
        numeric: Sequence[str] | None = None,
    ) -> TableSchema:
        """Infer the schema of ``frame`` (a DataFrame); ``categorical`` and ``numeric`` name
        columns whose kind is forced."""
        categorical, numeric = list(categorical or []), list(numeric or [])
        both = sorted(set(categorical) & set(numeric))
        if both:
            raise DataError(f"column(s) {both} are named both categorical and numeric; pick one.")
        unknown = [c for c in categorical + numeric if c not in frame.columns]
        if unknown:
            raise DataError(
                f"no column(s) {unknown} to override; the columns are {list(frame.columns)}."
            )
        return cls(
            tuple(
                _infer_column(str(name), frame[name], name in categorical, name in numeric)
                for name in frame.columns
            )
        )

    # -- encoding -------------------------------------------------------------------------
    def encode(self, frame: Any, where: str = "the table") -> np.ndarray:
        """The ``(N, C)`` float32 codes of ``frame`` (NaN where a value is missing).

        Raises
        ------
        DataError
            For a missing column, an unseen category or text in a number column.
        """
        missing = [c for c in self.names if c not in frame.columns]
        if missing:
            raise DataError(
                f"{where}: it lacks the column(s) {missing} of the schema; expected {self.names}."
            )
        out = np.empty((len(frame), len(self.columns)), dtype=np.float32)
        for j, spec in enumerate(self.columns):
            out[:, j] = _encode_column(spec, frame[spec.name], where)
        return out

    def decode(self, values: np.ndarray) -> Any:
        """A DataFrame from ``(N, C)`` codes (NaN: missing), with the schema's dtypes."""
        import pandas as pd

        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != len(self.columns):
            raise ValueError(
                f"expected codes of shape (N, {len(self.columns)}), got {values.shape}."
            )
        return pd.DataFrame(
            {spec.name: _decode_column(spec, values[:, j]) for j, spec in enumerate(self.columns)}
        )

    def complete(self, frame: Any, values: np.ndarray) -> Any:
        """``frame`` with the missing entries of the schema's columns taken from the decoded
        ``values`` ``(N, C)``; observed entries are kept exactly as they were, and a filled
        column gets the schema's dtype (whole numbers: int64)."""
        import pandas as pd

        decoded = self.decode(values)
        decoded.index = frame.index
        out = frame.copy()
        for name in self.names:
            observed = frame[name].notna().to_numpy()
            if observed.all():
                continue
            merged = decoded[name].to_numpy(dtype=object).copy()
            merged[observed] = frame[name].to_numpy(dtype=object)[observed]
            out[name] = pd.Series(merged, index=frame.index).astype(decoded[name].dtype)
        return out

    def normalize(self, j: int, raw: np.ndarray) -> np.ndarray:
        """Normal scores of raw values of number column ``j``."""
        q = np.asarray(self.columns[j].quantiles)
        p = np.linspace(0, 1, len(q))
        up = np.interp(raw, q, p)
        down = 1 - np.interp(-raw, -q[::-1], p)  # average both ways: ties get their middle
        return _norm_ppf(0.5 * (up + down))

    def denormalize(self, j: int, scores: np.ndarray) -> np.ndarray:
        """Raw values of number column ``j`` from normal scores (the inverse of normalize)."""
        q = np.asarray(self.columns[j].quantiles)
        return np.interp(_norm_cdf(scores), np.linspace(0, 1, len(q)), q)

    # -- JSON -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"columns": [dataclasses.asdict(c) for c in self.columns]}

    @classmethod
    def from_dict(cls, document: object, where: str = "schema") -> TableSchema:
        """Read a schema, refusing a malformed one in one message naming ``where``."""
        from latentkit.errors import CheckpointError

        def bad(what: str) -> CheckpointError:
            return CheckpointError(f"{where}: the table schema {what}; retrain or restore it.")

        if not isinstance(document, dict) or not isinstance(document.get("columns"), list):
            raise bad("must be an object with a list 'columns'")
        specs = []
        for item in document["columns"]:
            if not isinstance(item, dict) or item.get("kind") not in KINDS:
                raise bad(f"has a malformed column {item!r:.80}")
            try:
                spec = ColumnSpec(
                    name=str(item["name"]),
                    kind=item["kind"],
                    levels=tuple(str(v) for v in item.get("levels", ())),
                    level_type=str(item.get("level_type", "float")),
                    quantiles=tuple(float(v) for v in item.get("quantiles", ())),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise bad(f"has a malformed column ({exc})") from exc
            if spec.is_number and len(spec.quantiles) < 2:
                raise bad(f"column {spec.name!r} has fewer than 2 quantiles")
            if spec.is_number and not bool(np.all(np.diff(spec.quantiles) >= 0)):
                raise bad(f"column {spec.name!r} has quantiles not in increasing order")
            if not spec.is_number and len(spec.levels) < 1:
                raise bad(f"column {spec.name!r} has no levels")
            if spec.kind == "binary" and len(spec.levels) != 2:
                raise bad(
                    f"column {spec.name!r} is binary but has {len(spec.levels)} levels, not 2"
                )
            specs.append(spec)
        return cls(tuple(specs))


def _infer_column(name: str, values: Any, force_cat: bool, force_num: bool) -> ColumnSpec:
    import pandas as pd

    present = values.dropna()
    level_type = _level_type(present)
    is_number = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if force_num and not is_number:
        converted = pd.to_numeric(present, errors="coerce")
        if converted.isna().any():
            bad = present[converted.isna()].iloc[0]
            raise DataError(
                f"column {name!r} cannot be numeric: it holds text such as {bad!r:.40}; "
                "leave it out of --numeric."
            )
        present, is_number, level_type = converted, True, _level_type(converted)
    if len(present) == 0:
        raise DataError(f"column {name!r} holds no value at all; drop it (--drop {name}).")
    distinct = pd.unique(present)
    if not force_num and (
        not is_number
        or len(distinct) == 2
        or force_cat
        or (level_type == "int" and len(distinct) <= MAX_INT_LEVELS)
    ):
        kind: Kind = "binary" if len(distinct) == 2 and not force_cat else "categorical"
        if is_number:
            ordered = sorted(float(v) for v in distinct)
            levels = tuple(_text(v, level_type) for v in ordered)
        else:
            levels = tuple(sorted(str(v) for v in distinct))
        return ColumnSpec(name, kind, levels=levels, level_type=level_type)
    numbers = np.asarray(present, dtype=np.float64)
    if not np.isfinite(numbers).all():
        raise DataError(f"column {name!r} holds infinite values; replace or drop them.")
    quantiles = np.quantile(numbers, np.linspace(0, 1, N_QUANTILES))
    kind = "integer" if level_type == "int" else "numeric"
    return ColumnSpec(name, kind, level_type=level_type, quantiles=tuple(map(float, quantiles)))


def _encode_column(spec: ColumnSpec, values: Any, where: str) -> np.ndarray:
    import pandas as pd

    missing = values.isna().to_numpy()
    out = np.full(len(values), np.nan)
    if spec.is_number:
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
        bad = np.isnan(numbers) & ~missing
        if bad.any():
            example = values[bad].iloc[0]
            raise DataError(
                f"{where}: column {spec.name!r} is {spec.kind} in the schema but holds text "
                f"such as {example!r:.40} ({int(bad.sum())} rows); fix those values or "
                "retrain with the column as --categorical."
            )
        schema = TableSchema((spec,))
        out[~missing] = schema.normalize(0, numbers[~missing])
        return out
    code = {level: i for i, level in enumerate(spec.levels)}
    text = [None if m else _text(v, spec.level_type) for v, m in zip(values, missing, strict=True)]
    unseen = sorted({t for t in text if t is not None and t not in code})
    if unseen:
        raise DataError(
            f"{where}: column {spec.name!r} holds value(s) {unseen[:8]} not seen in training; "
            f"its levels are {list(spec.levels)[:20]}. Map them to known levels or leave "
            "them empty (missing)."
        )
    for i, t in enumerate(text):
        if t is not None:
            out[i] = code[t]
    return out


def _decode_column(spec: ColumnSpec, codes: np.ndarray) -> Any:
    import pandas as pd

    missing = np.isnan(codes)
    if spec.is_number:
        raw = np.full(len(codes), np.nan)
        schema = TableSchema((spec,))
        raw[~missing] = schema.denormalize(0, codes[~missing])
        if spec.kind == "integer":
            raw = np.round(raw)
            return pd.array(raw, dtype="Int64") if missing.any() else raw.astype(np.int64)
        return raw
    index = np.clip(np.round(np.nan_to_num(codes)), 0, len(spec.levels) - 1).astype(int)
    convert = {"int": int, "float": float, "bool": lambda t: t == "True", "str": str}
    levels = [
        convert.get(spec.level_type, str)(float(t) if spec.level_type == "int" else t)
        for t in spec.levels
    ]
    out = [None if m else levels[i] for i, m in zip(index, missing, strict=True)]
    if spec.level_type == "int":
        return pd.array(out, dtype="Int64") if missing.any() else np.asarray(out, dtype=np.int64)
    if spec.level_type == "float":
        return np.asarray([math.nan if v is None else v for v in out], dtype=np.float64)
    if spec.level_type == "bool":
        return pd.array(out, dtype="boolean") if missing.any() else np.asarray(out, dtype=bool)
    return pd.Series(out, dtype=object).to_numpy()
