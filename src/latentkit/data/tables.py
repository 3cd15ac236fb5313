"""Load a table file (``.csv``, ``.parquet``, ``.npy``, ``.npz``) as an ``(N, D)`` Dataset.

CSV and Parquet are read with pyarrow; columns are selected by name. ``.npy`` holds one 2-d
array (a 1-d array is one column); ``.npz`` holds the features in the array ``x`` (or its only
array). Columns of array files are named ``"0"``, ``"1"``, ... and selected by integer index.

The label is optional: a column name (CSV, Parquet), an array name inside an ``.npz``, or an
integer column index. Integer labels are kept (they must be >= 0); text labels become codes
in sorted order, with the names in ``meta["class_names"]``.

Every feature must be numeric (bool counts as 0/1). Missing (empty or null) and infinite values
are refused, naming the column and how many rows, unless ``impute="mean"`` or ``"median"``
fills them with the statistic of that column's finite values (stored in ``meta["imputed"]``).
Values are not scaled: use :mod:`latentkit.data.transforms` for that.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet
import torch

from latentkit.data.dataset import Dataset
from latentkit.errors import DataError

__all__ = ["TABLE_SUFFIXES", "load_table"]

logger = logging.getLogger(__name__)

Impute = Literal["mean", "median"]
Column = tuple[str, np.ndarray]  # (name, values of shape (N,) float64)
Read = tuple[list[Column], list | None, int]  # (feature columns, label values, row count)
Reader = Callable[[Path, "Sequence[str | int] | None", "str | int | None"], Read]


def _parses(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def _numeric_or_error(path: Path, name: str, column: pa.ChunkedArray) -> np.ndarray:
    """A column as float64 with NaN for nulls, or a DataError naming a bad value."""
    kind = column.type
    numeric = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)
    if any(test(kind) for test in numeric) or pa.types.is_boolean(kind) or pa.types.is_null(kind):
        return column.cast(pa.float64()).to_numpy(zero_copy_only=False)  # nulls become NaN
    values = column.to_pylist()
    bad = next(((r, v) for r, v in enumerate(values) if v is not None and not _parses(v)), None)
    if bad is None:  # every value parses (e.g. numbers stored as text)
        return np.array([np.nan if v is None else float(v) for v in values])
    row, value = bad
    raise DataError(
        f"{path}: column {name!r} is not numeric ({kind}): row {row} (0-based, header not "
        f"counted) holds {value!r}. Expected numbers only; drop the column with "
        "features=[...] or use it as the label with label=..."
    )


def _read_arrow(path: Path) -> pa.Table:
    try:
        if path.suffix.lower() == ".csv":
            return pyarrow.csv.read_csv(path)
        return pyarrow.parquet.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        if path.stat().st_size == 0 or "Empty CSV" in str(exc):
            raise DataError(f"{path}: the file is empty; expected a header and rows.") from exc
        raise DataError(f"{path}: cannot read it as {path.suffix[1:]} ({exc}).") from exc


def _load_named(path: Path, features: Sequence[str | int] | None, label: str | int | None) -> Read:
    table = _read_arrow(path)
    try:
        names = list(table.column_names)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: the header is not UTF-8 text ({exc}); save it as UTF-8.") from exc
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(
            f"{path}: column name(s) {', '.join(map(repr, repeated))} appear more than once; "
            "expected unique column names in the header. Rename the columns."
        )
    if isinstance(label, int) and not -len(names) <= label < len(names):
        raise DataError(f"{path}: label index {label} out of range for {len(names)} columns.")
    label_name = names[label] if isinstance(label, int) else label
    if label_name is not None and label_name not in names:
        raise DataError(
            f"{path}: no label column {label_name!r}; the columns are {', '.join(names)}."
        )
    wanted = [c for c in names if c != label_name] if features is None else list(features)
    missing = [c for c in wanted if c not in names]
    if missing:
        raise DataError(
            f"{path}: no column(s) {', '.join(map(repr, missing))}; "
            f"the columns are {', '.join(names)}."
        )
    x = [(str(c), _numeric_or_error(path, str(c), table.column(c))) for c in wanted]
    y = None if label_name is None else table.column(label_name).to_pylist()
    return x, y, table.num_rows


def _load_array(path: Path, features: Sequence[str | int] | None, label: str | int | None) -> Read:
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):  # .npy
            arrays = {"x": loaded}
        else:  # .npz: read every array, then close the archive
            with loaded:
                arrays = dict(loaded.items())
    except ValueError as exc:
        if path.stat().st_size == 0:
            raise DataError(f"{path}: the file is empty; expected a saved numpy array.") from exc
        raise DataError(
            f"{path}: cannot read it as {path.suffix[1:]} ({exc}); object arrays are refused."
        ) from exc
    except (EOFError, OSError) as exc:
        raise DataError(f"{path}: the file is empty or truncated ({exc}).") from exc
    odd = [name for name, value in arrays.items() if not isinstance(value, np.ndarray)]
    if odd:  # numpy returns the raw bytes of a member that is not a valid .npy
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
    matrix = arrays[key]
    matrix = matrix[:, None] if matrix.ndim == 1 else matrix
    if matrix.ndim != 2:
        raise DataError(f"{path}: expected a 1-d or 2-d array, found shape {matrix.shape}.")
    numeric = np.issubdtype(matrix.dtype, np.number) and matrix.dtype.kind != "c"
    if not (numeric or matrix.dtype == np.bool_):
        raise DataError(f"{path}: expected a numeric array, found dtype {matrix.dtype}.")
    names = [str(i) for i in range(matrix.shape[1])]
    y = None
    label_col = None
    if isinstance(label, str):
        if label not in arrays or label == key:
            raise DataError(f"{path}: no label array {label!r}; found {', '.join(arrays)}.")
        if arrays[label].ndim != 1:
            raise DataError(
                f"{path}: the label array {label!r} has shape {arrays[label].shape}; expected "
                "one label per row (a 1-d array)."
            )
        y = arrays[label].tolist()
    elif isinstance(label, int):
        if not -matrix.shape[1] <= label < matrix.shape[1]:
            raise DataError(
                f"{path}: label index {label} out of range for {matrix.shape[1]} columns."
            )
        label_col = label % matrix.shape[1]
        y = matrix[:, label_col].tolist()
    columns = range(matrix.shape[1]) if features is None else features
    chosen = []
    for c in columns:
        if not isinstance(c, int) or not -matrix.shape[1] <= c < matrix.shape[1]:
            raise DataError(
                f"{path}: features of an array file are column indices in "
                f"[0, {matrix.shape[1]}), got {c!r}."
            )
        if features is None and c == label_col:
            continue
        chosen.append((names[c], matrix[:, c].astype(np.float64)))
    return chosen, y, matrix.shape[0]


_READERS: dict[str, Reader] = {
    ".csv": _load_named,
    ".parquet": _load_named,
    ".npy": _load_array,
    ".npz": _load_array,
}

TABLE_SUFFIXES = frozenset(_READERS)


#: numeric labels are class indices: larger values are refused (they would not fit int64
#: exactly, or would announce billions of classes)
_MAX_LABEL = 2**31


def _labels(path: Path, values: list) -> tuple[torch.Tensor, list[str] | None]:
    if any(v is None or (isinstance(v, float) and not np.isfinite(v)) for v in values):
        raise DataError(f"{path}: the label has missing values; every row needs a label.")
    if all(isinstance(v, bool | int | float) for v in values):
        array = np.asarray(values, dtype=np.float64)
        wrong = (array != np.round(array)) | (array < 0) | (array >= _MAX_LABEL)
        if not wrong.any():
            return torch.from_numpy(array.astype(np.int64)), None
        raise DataError(
            f"{path}: numeric labels must be non-negative integers, found e.g. "
            f"{float(array[wrong][0]):g}. They are class indices, below {_MAX_LABEL}."
        )
    names = sorted({str(v) for v in values})
    code = {n: i for i, n in enumerate(names)}
    return torch.tensor([code[str(v)] for v in values], dtype=torch.int64), names


def _fill(
    path: Path, columns: list[Column], impute: Impute | None
) -> tuple[list[Column], dict[str, dict]]:
    """Columns with missing values filled (or a DataError), and what was filled."""
    filled: list[Column] = []
    imputed: dict[str, dict] = {}
    problems = []
    for name, values in columns:
        bad = ~np.isfinite(values)
        count = int(bad.sum())
        filled.append((name, values))
        if not count:
            continue
        if impute is None:
            rows = ", ".join(str(r) for r in np.flatnonzero(bad)[:3])
            problems.append(f"column {name!r}: {count} row(s) (e.g. row {rows})")
            continue
        finite = values[~bad]
        if finite.size == 0:
            raise DataError(f"{path}: column {name!r} has no finite value to impute from.")
        value = float(np.mean(finite) if impute == "mean" else np.median(finite))
        filled[-1] = (name, np.where(bad, value, values))
        imputed[name] = {"count": count, "value": value}
    if problems:
        raise DataError(
            f"{path}: missing (NaN/empty) or infinite values in {'; '.join(problems)}. "
            "Expected finite numbers; clean the file or pass impute='mean' or impute='median'."
        )
    return filled, imputed


def load_table(
    path: str | Path,
    split: str = "train",
    *,
    features: Sequence[str | int] | None = None,
    label: str | int | None = None,
    impute: Impute | None = None,
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
    impute : {"mean", "median"}, optional
        Fill missing and infinite feature values with that column statistic.

    Returns
    -------
    Dataset
        ``x`` float32 of shape (N, D); ``y`` int64 of shape (N,) when ``label`` is given.

    Raises
    ------
    DataError
        On an empty file, an unknown column, a non-numeric feature (naming the column and a
        row), missing or infinite values without ``impute``, or a bad label.
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
    if impute not in (None, "mean", "median"):
        raise DataError(f"impute must be None, 'mean' or 'median', got {impute!r}.")
    columns, labels, n_rows = _READERS[suffix](path, features, label)
    if n_rows == 0:
        raise DataError(f"{path}: the file is empty (no rows); expected at least one row.")
    if not columns:
        raise DataError(f"{path}: no feature column selected; pass features=[...].")
    columns, imputed = _fill(path, columns, impute)
    matrix = np.stack([values for _, values in columns], axis=1).astype(np.float32)  # (N, D)
    overflow = ~np.isfinite(matrix).all(axis=0)
    if overflow.any():
        bad = [columns[i][0] for i in np.flatnonzero(overflow)]
        raise DataError(f"{path}: column(s) {', '.join(bad)} overflow float32; rescale them.")
    y, class_names = (None, None) if labels is None else _labels(path, labels)
    meta: dict = {"split": "all", "files": [str(path)], "columns": [c for c, _ in columns]}
    if label is not None:
        meta["label"] = label
    if class_names is not None:
        meta["class_names"] = class_names
    if imputed:
        meta["imputed"] = imputed
    logger.debug("read %d rows x %d columns from %s", *matrix.shape, path)
    return Dataset(torch.from_numpy(matrix), y, str(path), meta)
