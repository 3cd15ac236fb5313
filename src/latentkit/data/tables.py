"""Load a table file (``.csv``, ``.parquet``, ``.npy``, ``.npz``) as an ``(N, D)`` Dataset.

CSV and Parquet are read with pyarrow; columns are selected by name. ``.npy`` holds one 2-d
array (a 1-d array is one column); ``.npz`` holds the features in the array ``x`` (or its only
array). Columns of array files are named ``"0"``, ``"1"``, ... and selected by integer index.

The label is optional: a column name (CSV, Parquet), an array name inside an ``.npz``, or an
integer column index. Integer labels are kept (they must be >= 0); text labels become codes
in sorted order, with the names in ``meta["class_names"]``.

Every feature must be numeric (bool counts as 0/1): text columns among the features are
refused in one message naming them all (mixed-type tables go through
:mod:`latentkit.data.mixed` and the ``tabular_vae`` model instead). Missing
(empty or null) and infinite values are refused, naming the column and how many rows, unless
``impute="mean"`` or ``"median"`` fills them with the statistic of that column's finite values
(stored in ``meta["imputed"]``), computed in float64 from the file's values, or ``impute`` maps
column names to the values to fill them with (those of a training file). Values are not
scaled: use :mod:`latentkit.data.transforms` for that. Every value becomes the nearest float32:
integers beyond 2**24 lose precision, which includes integers that no float64 holds exactly either
(CSV integers beyond 2**53, Parquet ``uint64``); they load rounded rather than fail.

Memory and time (see :mod:`latentkit.data.limits`):

- sizes are checked before they are allocated: a CSV file's size (its Arrow table takes up to
  about :data:`CSV_EXPANSION` bytes per byte of text), a Parquet file's row count and column
  types from its metadata, the header of a ``.npy`` array or ``.npz`` member (only the members
  asked for are read), and the float32 result;
- the float32 result is allocated once and filled column by column (CSV, Parquet) or in blocks
  of rows read straight from the file (``.npy``, ``.npz``): no float64 copy of the table is
  made. Imputation reads the columns it fills once more;
- every step is linear in the number of rows and columns (column names are looked up in a
  dict, never searched in a list).
"""

from __future__ import annotations

import collections
import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet
import torch

from latentkit.data.arrays import CHUNK_BYTES, StoredArray, open_arrays
from latentkit.data.dataset import Dataset
from latentkit.data.limits import check_data_bytes
from latentkit.errors import DataError

__all__ = ["CSV_EXPANSION", "TABLE_SUFFIXES", "load_table"]

logger = logging.getLogger(__name__)

Impute = Literal["mean", "median"]
Block = tuple[int, int, np.ndarray]  # (first row, first column, float64 values (r, c))

#: bytes of Arrow table per byte of CSV text counted against the limit (a one-digit field and
#: its comma become an 8-byte number)
CSV_EXPANSION = 4

#: names shown when an error lists a table's columns
_SHOWN = 20


class _Source(Protocol):
    """A table whose header has been checked, and whose values are read on demand."""

    name: str  # how errors name it
    names: list[str]  # the feature columns, in order
    n_rows: int
    has_label: bool

    def check(self) -> None:
        """Refuse a file that cannot hold what its header announces."""

    def blocks(self) -> Iterator[Block]:
        """Every feature value once, as float64 blocks of the (N, D) result."""

    def columns(self, indices: list[int]) -> Iterator[tuple[int, np.ndarray]]:
        """(index, float64 values of shape (N,)) of the feature columns ``indices``."""

    def labels(self) -> np.ndarray | list | None:
        """The label values (numeric array, or a list of anything), or None."""


def _listing(names: Sequence[object]) -> str:
    shown = ", ".join(str(n) for n in names[:_SHOWN])
    return shown if len(names) <= _SHOWN else f"{shown}, ... ({len(names)} in all)"


def _parses(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def _numeric_or_error(path: Path, name: str, column: pa.ChunkedArray) -> np.ndarray:
    """A column as float64 with NaN for nulls, or a DataError naming a bad value."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        # numpy rounds integers that no float64 holds exactly (beyond 2**53, uint64), where
        # pyarrow's checked cast would fail; nulls become NaN
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    if pa.types.is_decimal(kind) or pa.types.is_boolean(kind) or pa.types.is_null(kind):
        return column.cast(pa.float64()).to_numpy(zero_copy_only=False)  # nulls become NaN
    values = column.to_pylist()
    bad = next(((r, v) for r, v in enumerate(values) if v is not None and not _parses(v)), None)
    if bad is None:  # every value parses (e.g. numbers stored as text)
        return np.array([np.nan if v is None else float(v) for v in values])
    raise _not_numeric(path, [(name, kind, *bad)])


def _first_text(column: pa.ChunkedArray) -> tuple[int, object] | None:
    """(row, value) of the first value of a column that is not a number, or None; reads only
    up to that value (a text column usually stops at its first row)."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return None
    if pa.types.is_boolean(kind) or pa.types.is_null(kind):
        return None
    row = 0
    for chunk in column.chunks:
        for value in chunk.to_pylist():
            if value is not None and not _parses(value):
                return row, value
            row += 1
    return None


def _not_numeric(path: Path, found: list[tuple[str, object, int, object]]) -> DataError:
    """The error naming every non-numeric feature column ``(name, type, row, value)`` and how
    to leave them out (or train the model of mixed tables)."""
    names = [name for name, *_ in found]
    examples = "; ".join(
        f"column {name!r} is not numeric ({kind}): row {row} (0-based, header not counted) "
        f"holds {value!r:.40}"
        for name, kind, row, value in found[:3]
    )
    more = f" ({len(found)} such columns in all: {_listing(names)})" if len(found) > 3 else ""
    them = "it" if len(found) == 1 else "them"
    flag = ",".join(names) if len(names) <= _SHOWN else ",".join(names[:_SHOWN]) + ",..."
    return DataError(
        f"{path}: {examples}{more}. Features of this model must be numbers: leave {them} "
        f"out with --drop {flag} (features=[...] in Python), use one as the label (--label, "
        "label=...), or train the model of mixed tables, which takes text columns (no "
        "--model, or --model tabular_vae; latentkit.sklearn.MixedTableVAE in Python)."
    )


# -- CSV and Parquet ---------------------------------------------------------------------------


def _arrow_bytes(schema: pa.Schema, rows: int) -> int:
    """Bytes an Arrow table of ``rows`` rows with ``schema`` takes at least (8 per variable-width
    value for its offset and some text)."""
    width = 0
    for field in schema:
        try:
            width += max(1, field.type.bit_width // 8)
        except ValueError:  # not fixed-width
            width += 8
    return rows * width


def _read_csv(path: Path, size: int) -> pa.Table:
    """pyarrow's CSV reader, which parses 1 MiB blocks in parallel; a row (or a header) longer
    than a block is parsed again as one block of the whole file (checked against the limit)."""
    try:
        return pyarrow.csv.read_csv(path)
    except pa.ArrowInvalid as exc:
        text = str(exc)
        if "straddl" not in text and "cannot infer number of columns" not in text:
            raise
        if size <= 1 << 20:  # the file fits one block already: it is empty, or malformed
            raise
    options = pyarrow.csv.ReadOptions(block_size=min(size + 1, 2**31 - 1))  # an int32
    return pyarrow.csv.read_csv(path, read_options=options)


def _read_arrow(path: Path) -> pa.Table:
    try:
        if path.suffix.lower() == ".csv":
            size = path.stat().st_size
            check_data_bytes(
                path,
                f"the Arrow table of this CSV file of {size:,} bytes (counted as "
                f"{CSV_EXPANSION} bytes per byte of text)",
                CSV_EXPANSION * size,
            )
            return _read_csv(path, size)
        parquet = pyarrow.parquet.ParquetFile(path)
        meta = parquet.metadata
        encoded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        check_data_bytes(
            path,
            f"the Arrow table of its {meta.num_rows:,} rows x {meta.num_columns:,} columns "
            "(from its metadata)",
            max(encoded, _arrow_bytes(parquet.schema_arrow, meta.num_rows)),
        )
        return parquet.read()
    except (pa.ArrowException, OSError) as exc:
        if path.stat().st_size == 0 or "Empty CSV" in str(exc):
            raise DataError(f"{path}: the file is empty; expected a header and rows.") from exc
        raise DataError(f"{path}: cannot read it as {path.suffix[1:]} ({exc}).") from exc


class _ArrowSource:
    """Feature columns of an Arrow table, converted one column at a time."""

    def __init__(
        self, path: Path, table: pa.Table, names: list[str], wanted: list[int], label: int | None
    ) -> None:
        self.path, self.name, self.table = path, str(path), table
        self.index, self.label_index = wanted, label
        self.names = [names[i] for i in wanted]  # (table.column_names is a new list per call)
        self.n_rows, self.has_label = table.num_rows, label is not None

    def check(self) -> None:
        """Refuse every feature column that holds text, naming them all at once."""
        found = []
        for name, i in zip(self.names, self.index, strict=True):
            column = self.table.column(i)
            bad = _first_text(column)
            if bad is not None:
                found.append((name, column.type, *bad))
        if found:
            raise _not_numeric(self.path, found)

    def blocks(self) -> Iterator[Block]:
        for j, values in self.columns(list(range(len(self.index)))):
            yield 0, j, values[:, None]

    def columns(self, indices: list[int]) -> Iterator[tuple[int, np.ndarray]]:
        for j in indices:
            column = self.table.column(self.index[j])
            yield j, _numeric_or_error(self.path, self.names[j], column)

    def labels(self) -> np.ndarray | list | None:
        if self.label_index is None:
            return None
        column = self.table.column(self.label_index)
        kind = column.type
        if (pa.types.is_integer(kind) or pa.types.is_floating(kind)) and not column.null_count:
            return column.to_numpy()
        return column.to_pylist()


def _load_named(
    path: Path, features: Sequence[str | int] | None, label: str | int | None
) -> _Source:
    table = _read_arrow(path)
    try:
        names = list(table.column_names)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: the header is not UTF-8 text ({exc}); save it as UTF-8.") from exc
    counts = collections.Counter(names)
    repeated = sorted(n for n, k in counts.items() if k > 1)
    if repeated:
        raise DataError(
            f"{path}: column name(s) {', '.join(map(repr, repeated))} appear more than once; "
            "expected unique column names in the header. Rename the columns."
        )
    index = {n: i for i, n in enumerate(names)}  # lookups in O(1): linear in the columns

    def known(name: object) -> bool:
        return isinstance(name, str) and name in index

    if isinstance(label, int) and not -len(names) <= label < len(names):
        raise DataError(f"{path}: label index {label} out of range for {len(names)} columns.")
    label_name = names[label] if isinstance(label, int) else label
    if label_name is not None and not known(label_name):
        raise DataError(
            f"{path}: no label column {label_name!r}; the columns are {_listing(names)}."
        )
    wanted = [c for c in names if c != label_name] if features is None else list(features)
    missing = [c for c in wanted if not known(c)]
    if missing:
        raise DataError(
            f"{path}: no column(s) {_listing([repr(c) for c in missing])}; "
            f"the columns are {_listing(names)}."
        )
    label_index = None if label_name is None else index[label_name]
    return _ArrowSource(path, table, names, [index[c] for c in wanted], label_index)  # type: ignore[index]


# -- .npy and .npz -----------------------------------------------------------------------------


class _ArraySource:
    """Columns ``cols`` of a stored 1-d or 2-d array, read in blocks from the file."""

    def __init__(
        self, stored: StoredArray, cols: list[int], label: StoredArray | int | None
    ) -> None:
        self.stored, self.cols, self.label = stored, cols, label
        self.name = stored.name
        self.names = [str(c) for c in cols]
        self.n_rows = stored.shape[0] if stored.shape else 0
        self.has_label = label is not None
        self.fortran = stored.fortran and len(stored.shape) == 2

    def check(self) -> None:
        self.stored.check_complete()
        if isinstance(self.label, StoredArray):
            self.label.check_complete()

    def blocks(self) -> Iterator[Block]:
        width = self.stored.shape[1] if len(self.stored.shape) == 2 else 1
        if not self.fortran:
            every = self.cols == list(range(width))
            picked = np.asarray(self.cols, dtype=np.intp)
            for start, rows in self.stored.chunks():  # (k, D) in the file's dtype
                yield start, 0, (rows if every else rows[:, picked]).astype(np.float64)
            return
        where = collections.defaultdict(list)  # stored column -> positions in the result
        for j, c in enumerate(self.cols):
            where[c].append(j)
        for start, columns in self.stored.chunks():  # (k, N): k whole columns
            for i, values in enumerate(columns):
                for j in where.get(start + i, ()):
                    yield 0, j, values.astype(np.float64)[:, None]

    def _gather(self, wanted: list[int]) -> np.ndarray:
        """The stored columns ``wanted`` as an (N, len(wanted)) array in the file's dtype."""
        out = np.empty((self.n_rows, len(wanted)), dtype=self.stored.dtype)
        picked = np.asarray(wanted, dtype=np.intp)
        if not self.fortran:
            for start, rows in self.stored.chunks():
                out[start : start + len(rows)] = rows[:, picked]
            return out
        position = {c: k for k, c in enumerate(wanted)}
        for start, columns in self.stored.chunks():
            for i, values in enumerate(columns):
                if start + i in position:
                    out[:, position[start + i]] = values
        return out

    def columns(self, indices: list[int]) -> Iterator[tuple[int, np.ndarray]]:
        # gather as many columns per pass as fit in the size of the float32 result, so that
        # imputing doubles memory at most and reads the file at most twice more
        budget = max(CHUNK_BYTES, 4 * self.n_rows * len(self.cols))
        per_pass = max(1, budget // max(1, 8 * self.n_rows))
        for first in range(0, len(indices), per_pass):
            group = indices[first : first + per_pass]
            stored = sorted({self.cols[j] for j in group})
            position = {c: k for k, c in enumerate(stored)}
            values = self._gather(stored)
            for j in group:
                yield j, values[:, position[self.cols[j]]].astype(np.float64)

    def labels(self) -> np.ndarray | None:
        if self.label is None:
            return None
        if isinstance(self.label, StoredArray):
            return self.label.read()
        return self._gather([self.label])[:, 0]


def _load_array(
    path: Path, features: Sequence[str | int] | None, label: str | int | None
) -> _Source:
    arrays = open_arrays(path)  # headers only
    odd = [name for name, value in arrays.items() if value is None]
    if odd:  # numpy would return the raw bytes of a member that is not a valid .npy
        raise DataError(
            f"{path}: member(s) {', '.join(map(repr, odd))} are not numpy arrays; expected an "
            ".npz written by numpy.savez."
        )
    key = "x" if "x" in arrays or len(arrays) != 1 else next(iter(arrays))
    if key not in arrays:
        raise DataError(
            f"{path}: expected an array named 'x' (or a single array); found "
            f"{', '.join(arrays)}. Save the features as x=..."
        )
    stored = arrays[key]
    assert stored is not None  # odd members were refused above
    if len(stored.shape) not in (1, 2):
        raise DataError(f"{path}: expected a 1-d or 2-d array, found shape {stored.shape}.")
    dtype = stored.dtype
    numeric = np.issubdtype(dtype, np.number) and dtype.kind != "c"
    if not (numeric or dtype == np.bool_):
        raise DataError(f"{path}: expected a numeric array, found dtype {dtype}.")
    width = stored.shape[1] if len(stored.shape) == 2 else 1
    label_source: StoredArray | int | None = None
    label_col = None
    if isinstance(label, str):
        if label not in arrays or label == key:
            raise DataError(f"{path}: no label array {label!r}; found {', '.join(arrays)}.")
        found = arrays[label]
        assert found is not None
        if len(found.shape) != 1:
            raise DataError(
                f"{path}: the label array {label!r} has shape {found.shape}; expected "
                "one label per row (a 1-d array)."
            )
        check_data_bytes(found.name, f"the label array of shape {found.shape}", found.nbytes)
        label_source = found
    elif isinstance(label, int):
        if not -width <= label < width:
            raise DataError(f"{path}: label index {label} out of range for {width} columns.")
        label_col = label % width
        label_source = label_col
    n = stored.shape[0] if stored.shape else 0
    if features is None:  # checked before listing the columns, which may be absurdly many
        _check_result(stored.name, n, width - (label_col is not None), label is not None)
    columns = range(width) if features is None else features
    chosen = []
    for c in columns:
        if not isinstance(c, int) or not -width <= c < width:
            raise DataError(
                f"{path}: features of an array file are column indices in [0, {width}), got {c!r}."
            )
        if features is None and c == label_col:
            continue
        chosen.append(c % width)
    return _ArraySource(stored, chosen, label_source)


_READERS: dict[str, Callable[..., _Source]] = {
    ".csv": _load_named,
    ".parquet": _load_named,
    ".npy": _load_array,
    ".npz": _load_array,
}

TABLE_SUFFIXES = frozenset(_READERS)


#: numeric labels are class indices: larger values are refused (they would not fit int64
#: exactly, or would announce billions of classes)
_MAX_LABEL = 2**31


def _check_result(name: str, rows: int, columns: int, labels: bool) -> None:
    """Refuse a float32 result (and int64 labels) over the data limit, before allocating."""
    check_data_bytes(
        name,
        f"{rows:,} rows x {columns:,} columns of float32" + (" and int64 labels" if labels else ""),
        rows * columns * 4 + (rows * 8 if labels else 0),
    )


def _labels(path: Path, values: np.ndarray | list) -> tuple[torch.Tensor, list[str] | None]:
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        array = values.astype(np.float64)  # (N,)
        if not np.isfinite(array).all():
            raise DataError(f"{path}: the label has missing values; every row needs a label.")
    else:
        values = values.tolist() if isinstance(values, np.ndarray) else values
        if any(v is None or (isinstance(v, float) and not np.isfinite(v)) for v in values):
            raise DataError(f"{path}: the label has missing values; every row needs a label.")
        if not all(isinstance(v, bool | int | float) for v in values):
            names = sorted({str(v) for v in values})
            code = {n: i for i, n in enumerate(names)}
            return torch.tensor([code[str(v)] for v in values], dtype=torch.int64), names
        array = np.asarray(values, dtype=np.float64)
    wrong = (array != np.round(array)) | (array < 0) | (array >= _MAX_LABEL)
    if not wrong.any():
        return torch.from_numpy(array.astype(np.int64)), None
    raise DataError(
        f"{path}: numeric labels must be non-negative integers, found e.g. "
        f"{float(array[wrong][0]):g}. They are class indices, below {_MAX_LABEL}."
    )


def _to_float32(
    path: Path, source: _Source, impute: Impute | Mapping[str, float] | None
) -> tuple[np.ndarray, dict[str, dict]]:
    """The (N, D) float32 result, filled block by block (one allocation), with missing values
    imputed or refused, and what was imputed."""
    names = source.names
    d = len(names)
    x = np.empty((source.n_rows, d), dtype=np.float32)  # (N, D)
    missing = np.zeros(d, dtype=np.int64)  # non-finite values per column
    examples: dict[int, list[int]] = {}  # column -> its first (up to 3) bad rows
    overflow = np.zeros(d, dtype=bool)  # finite values that float32 cannot hold
    with np.errstate(over="ignore", invalid="ignore"):
        for row, col, values in source.blocks():
            width = values.shape[1]
            rounded = values.astype(np.float32)  # cast and check where the block is contiguous
            x[row : row + len(values), col : col + width] = rounded
            finite = np.isfinite(rounded)
            if finite.all():  # the common case: one check per block
                continue
            bad = ~np.isfinite(values)
            overflow[col : col + width] |= (~finite & ~bad).any(axis=0)
            counts = bad.sum(axis=0)
            missing[col : col + width] += counts
            for k in np.flatnonzero(counts):
                rows = examples.setdefault(col + int(k), [])
                if len(rows) < 3:  # at most 3 visits per column: linear
                    rows += (row + np.flatnonzero(bad[:, k])[: 3 - len(rows)]).tolist()
    imputed: dict[str, dict] = {}
    fill = impute if isinstance(impute, Mapping) else None
    unfilled = [
        j
        for j in np.flatnonzero(missing)
        if impute is None or (fill is not None and names[j] not in fill)
    ]
    if unfilled:
        problems = [
            f"column {names[j]!r}: {missing[j]} row(s) (e.g. row "
            f"{', '.join(str(r) for r in examples[j])})"
            for j in unfilled
        ]
        shown = "; ".join(problems[:_SHOWN])
        if len(problems) > _SHOWN:
            shown += f"; ... ({len(problems)} columns in all)"
        raise DataError(
            f"{path}: missing (NaN/empty) or infinite values in {shown}. "
            "Expected finite numbers; clean the file, or fill them with the column's mean or "
            "median (--impute mean|median on latentkit train, impute='mean' or 'median' in "
            "Python), or train the model of mixed tables, which handles gaps itself (no "
            "--model, or --model tabular_vae)."
        )
    for j, values in source.columns(np.flatnonzero(missing).tolist()):
        bad = ~np.isfinite(values)
        finite = values[~bad]
        if fill is not None:
            value = float(fill[names[j]])
        elif finite.size == 0:
            raise DataError(f"{path}: column {names[j]!r} has no finite value to impute from.")
        else:
            value = float(np.mean(finite) if impute == "mean" else np.median(finite))
        x[bad, j] = value
        imputed[names[j]] = {"count": int(bad.sum()), "value": value}
    if overflow.any():
        bad_names = [names[j] for j in np.flatnonzero(overflow)]
        raise DataError(f"{path}: column(s) {_listing(bad_names)} overflow float32; rescale them.")
    return x, imputed


def load_table(
    path: str | Path,
    split: str = "train",
    *,
    features: Sequence[str | int] | None = None,
    label: str | int | None = None,
    impute: Impute | Mapping[str, float] | None = None,
) -> Dataset:
    """Read a table file into a Dataset of rows.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.parquet``, ``.npy`` or ``.npz`` file.
    split : {"train", "all"}
        A table file has no splits: both read every row (use :meth:`Dataset.subset` to split).
    features : sequence of str or int, optional
        Feature columns: names for CSV and Parquet, indices for arrays; default all but the
        label.
    label : str or int, optional
        The label column name, ``.npz`` array name or column index.
    impute : {"mean", "median"} or mapping of str to float, optional
        Fill missing and infinite feature values with that column statistic, or with the
        value given for the column (a column with missing values not in the mapping is
        refused).

    Returns
    -------
    Dataset
        ``x`` float32 of shape (N, D); ``y`` int64 of shape (N,) when ``label`` is given.

    Raises
    ------
    DataError
        On an empty file, an unknown column, a non-numeric feature (naming the column and a
        row), missing or infinite values without ``impute``, a bad label, or a size over the
        limit of :mod:`latentkit.data.limits` (checked before it is allocated).
    """
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        raise DataError(
            f"{path}: unknown table kind {suffix!r}; expected one of {', '.join(_READERS)}."
        )
    if split not in ("train", "all"):
        raise DataError(
            f"{path}: a table file has no {split!r} split; load it with split='all' and "
            "split it with Dataset.subset."
        )
    if isinstance(impute, Mapping):
        if not all(
            isinstance(k, str) and isinstance(v, int | float) and math.isfinite(v)
            for k, v in impute.items()
        ):
            raise DataError("impute: a mapping must give a finite number for each column name.")
    elif impute not in (None, "mean", "median"):
        raise DataError(f"impute must be None, 'mean' or 'median', got {impute!r}.")
    source = _READERS[suffix](path, features, label)
    if source.n_rows == 0:
        raise DataError(f"{path}: the file is empty (no rows); expected at least one row.")
    if not source.names:
        raise DataError(f"{path}: no feature column selected; pass features=[...].")
    _check_result(source.name, source.n_rows, len(source.names), source.has_label)
    source.check()
    matrix, imputed = _to_float32(path, source, impute)  # (N, D) float32
    labels = source.labels()
    y, class_names = (None, None) if labels is None else _labels(path, labels)
    meta: dict = {"split": "all", "files": [str(path)], "columns": list(source.names)}
    if label is not None:
        meta["label"] = label
    if class_names is not None:
        meta["class_names"] = class_names
    if imputed:
        meta["imputed"] = imputed
    logger.debug("read %d rows x %d columns from %s", *matrix.shape, path)
    return Dataset(torch.from_numpy(matrix), y, str(path), meta)
