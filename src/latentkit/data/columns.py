"""Which columns of a table file a model reads: its features, in order, and its label.

Training chooses them (:func:`choose`): ``features`` names the feature columns, or ``drop``
names columns to leave out of "every column but the label"; ``label`` names the label column.
The choice is recorded with the run (:class:`ColumnRecord`, in ``preprocessing.json``) together
with the class names of a text label, and every later use of the run reads the same columns
from a new file (:func:`match`): the run's features in the run's order, whatever their order in
the file, and the label when the file has it; the columns training left out may be there too.
A file that lacks one of the run's features, or holds columns that are neither features, the
label nor left out by training or by ``drop``, is refused with one message
naming the missing and the unexpected columns (extra columns are dropped only when asked, so
that a renamed or shifted column is never silently skipped). Text labels are coded as the run
coded them (:func:`recode_labels`), whichever classes the new file holds, and missing values
are filled with the training file's statistics when training imputed them.

:func:`load_columns` does the whole of it for one file: the header is read first (only the
header: CSV's first block, Parquet's schema, ``.npy``/``.npz`` headers), checked, and then the
chosen columns are loaded by :func:`latentkit.data.tables.load_table`. Column names of ``.npy``
and ``.npz`` files are their indices as text (``"0"``, ``"1"``, ...); the label of an ``.npz``
may also name one of its arrays.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from latentkit.data.dataset import Dataset
from latentkit.errors import CheckpointError, DataError

__all__ = [
    "ColumnRecord",
    "choose",
    "file_columns",
    "is_table_file",
    "load_columns",
    "match",
    "recode_labels",
]

#: names shown when an error lists columns
_SHOWN = 12


def _listing(names: Sequence[object]) -> str:
    shown = ", ".join(repr(str(n)) for n in names[:_SHOWN])
    return shown if len(names) <= _SHOWN else f"{shown}, ... ({len(names)} in all)"


def _flag(names: Sequence[str]) -> str:
    """Names as a ``--drop``/``--features`` value (``a,b,c``)."""
    return ",".join(str(n) for n in names)


@dataclasses.dataclass(frozen=True)
class ColumnRecord:
    """The columns a run was trained on, as stored in its ``preprocessing.json``.

    Attributes
    ----------
    features : tuple of str
        The feature columns, in the order of the model's inputs.
    label : str or None
        The label column (None: trained without labels).
    class_names : tuple of str or None
        The classes of a text label, in the order of their integer codes.
    ignored : tuple of str
        The other columns of the training file (dropped, or not among ``features``): a later
        file may hold them too.
    fill : dict of str to float, optional
        Values that fill a feature's missing entries (the training file's means or medians,
        when training imputed them); None refuses missing values.
    """

    features: tuple[str, ...]
    label: str | None = None
    class_names: tuple[str, ...] | None = None
    ignored: tuple[str, ...] = ()
    fill: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "label": self.label,
            "class_names": None if self.class_names is None else list(self.class_names),
            "ignored": list(self.ignored),
            "fill": None if self.fill is None else dict(self.fill),
        }

    @classmethod
    def from_dict(cls, document: object, where: str) -> ColumnRecord:
        """Read a record, refusing a malformed one with a :class:`CheckpointError` naming
        ``where`` (the file it came from)."""

        def bad(what: str) -> CheckpointError:
            return CheckpointError(
                f"{where}: its 'columns' {what}; retrain the run or restore the file."
            )

        keys = {"features", "label", "class_names", "ignored", "fill"}
        if not isinstance(document, dict) or not set(document) <= keys:
            raise bad(f"must be an object with the keys {sorted(keys)}")
        features, label = document.get("features"), document.get("label")
        classes, ignored = document.get("class_names"), document.get("ignored", [])
        if not isinstance(features, list) or not features:
            raise bad("'features' must be a non-empty list of column names")
        if not all(isinstance(f, str) for f in features) or len(set(features)) != len(features):
            raise bad("'features' must hold distinct column names (text)")
        if label is not None and (not isinstance(label, str) or label in features):
            raise bad("'label' must be null or a column name that is not a feature")
        if classes is not None and (
            not isinstance(classes, list) or not all(isinstance(c, str) for c in classes)
        ):
            raise bad("'class_names' must be null or a list of text")
        if not isinstance(ignored, list) or not all(isinstance(c, str) for c in ignored):
            raise bad("'ignored' must be a list of column names")
        fill = document.get("fill")
        if fill is not None and (
            not isinstance(fill, dict)
            or not set(fill) <= set(features)
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in fill.values()
            )
        ):
            raise bad("'fill' must be null or map features to finite numbers")
        classes = None if classes is None else tuple(classes)
        fill = None if fill is None else {k: float(v) for k, v in fill.items()}
        return cls(tuple(features), label, classes, tuple(ignored), fill)


def is_table_file(name: str | Path) -> bool:
    """True for an existing file with a table suffix (``.csv``, ``.parquet``, ``.npy``,
    ``.npz``)."""
    from latentkit.data.tables import TABLE_SUFFIXES

    path = Path(name).expanduser()
    return path.suffix.lower() in TABLE_SUFFIXES and path.is_file()


def file_columns(path: str | Path) -> list[str] | None:
    """The column names of a table file, read from its header only.

    Returns None where the header cannot tell (an ``.npz`` without an ``x`` array, a file
    that is not valid): loading the file then says what is wrong with it.
    """
    import pyarrow as pa

    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            import pyarrow.csv

            with pyarrow.csv.open_csv(path) as reader:  # parses the first block only
                return list(reader.schema.names)
        if suffix == ".parquet":
            import pyarrow.parquet

            return list(pyarrow.parquet.read_schema(path).names)
    except (pa.ArrowException, OSError, UnicodeDecodeError):
        return None  # a header longer than a block, an empty or malformed file
    from latentkit.data.arrays import open_arrays

    try:
        arrays = open_arrays(path)
    except DataError:
        return None
    stored = arrays.get("x") if "x" in arrays or len(arrays) != 1 else next(iter(arrays.values()))
    if stored is None or len(stored.shape) not in (1, 2):
        return None
    return [str(i) for i in range(stored.shape[1] if len(stored.shape) == 2 else 1)]


def _unknown(where: str, names: Sequence[str], asked: Sequence[str], what: str) -> None:
    present = set(names)
    missing = [c for c in asked if c not in present]
    if missing:
        raise DataError(
            f"{where}: no {what} column(s) {_listing(missing)}; the columns are {_listing(names)}."
        )


def choose(
    names: Sequence[str],
    where: str,
    *,
    label: str | None = None,
    features: Sequence[str] | None = None,
    drop: Sequence[str] | None = None,
) -> tuple[list[str], str | None]:
    """The feature columns and the label column that training reads from a file.

    Parameters
    ----------
    names : sequence of str
        The file's columns.
    where : str
        How errors name the file.
    label : str, optional
        The label column.
    features : sequence of str, optional
        The feature columns, in this order (default: every column but the label and
        ``drop``).
    drop : sequence of str, optional
        Columns to leave out (not with ``features``).

    Raises
    ------
    DataError
        For an unknown column, ``features`` with ``drop``, the label among the features, or
        no feature left.
    """
    if features is not None and drop is not None:
        raise DataError(f"{where}: pass the feature columns or the columns to drop, not both.")
    _unknown(where, names, [label] if label is not None else [], "label")
    _unknown(where, names, list(features or []) + list(drop or []), "such")
    if features is not None:
        repeated = sorted(c for c, k in collections.Counter(features).items() if k > 1)
        if repeated:
            raise DataError(f"{where}: feature column(s) {_listing(repeated)} named twice.")
        if label is not None and label in features:
            raise DataError(f"{where}: column {label!r} is the label; it cannot be a feature.")
        chosen = list(features)
    else:
        left_out = set(drop or []) | ({label} if label is not None else set())
        chosen = [c for c in names if c not in left_out]
    if not chosen:
        raise DataError(f"{where}: no feature column is left; keep at least one column.")
    return chosen, label


def match(
    names: Sequence[str],
    record: ColumnRecord,
    where: str,
    *,
    label: str | None = None,
    features: Sequence[str] | None = None,
    drop: Sequence[str] | None = None,
) -> tuple[list[str], str | None]:
    """The columns to read from a new file for a run that recorded ``record``.

    ``label`` names this file's label column (default: the run's label column when the file
    has it); ``features`` (the run's features, in any order) or ``drop`` let the file hold
    other columns as well. Returns the run's features, in the run's order, and the label.

    Raises
    ------
    DataError
        Naming the run's features that the file lacks and the file's columns that are not
        accounted for, in one message.
    """
    if features is not None and drop is not None:
        raise DataError(f"{where}: pass the feature columns or the columns to drop, not both.")
    _unknown(where, names, [label] if label is not None else [], "label")
    _unknown(where, names, list(drop or []), "such")
    run_features = set(record.features)
    if features is not None and set(features) != run_features:
        given = set(features)
        foreign = [c for c in features if c not in run_features]
        left_out = [c for c in record.features if c not in given]
        raise DataError(
            f"{where}: the features must be the run's, {_listing(record.features)}; not "
            f"among them: {_listing(foreign) or '-'}; left out: {_listing(left_out) or '-'}."
        )
    if label is not None and label in run_features:
        raise DataError(f"{where}: column {label!r} is one of the run's features, not a label.")
    present = set(names)
    if label is None and record.label is not None and record.label in present:
        label = record.label
    missing = [c for c in record.features if c not in present]
    ignored = run_features | set(record.ignored) | set(drop or []) | {label, record.label}
    extra = [] if features is not None else [c for c in names if c not in ignored]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"it lacks the run's feature column(s) {_listing(missing)}")
        if extra:
            parts.append(
                f"it holds column(s) {_listing(extra)} that the run was not trained on "
                f"(to ignore them: --drop {_flag(extra[:_SHOWN])})"
            )
        raise DataError(
            f"{where}: the columns differ from the run's: {'; '.join(parts)}. The run reads "
            f"{_listing(record.features)}"
            + (f" and the label {record.label!r}" if record.label is not None else "")
            + "."
        )
    return list(record.features), label


def recode_labels(
    y: torch.Tensor, file_classes: Sequence[str] | None, run_classes: Sequence[str], where: str
) -> torch.Tensor:
    """Codes of a file's text labels (``y`` indexes ``file_classes``) in the run's coding.

    Raises
    ------
    DataError
        Naming the labels that are not among the run's classes.
    """
    if file_classes is None:  # numbers in the file: already codes
        return y
    code = {name: i for i, name in enumerate(run_classes)}
    unknown = [name for name in file_classes if name not in code]
    if unknown:
        raise DataError(
            f"{where}: label value(s) {_listing(unknown)} are not among the run's classes "
            f"{_listing(list(run_classes))}."
        )
    mapping = torch.tensor([code[name] for name in file_classes], dtype=torch.int64)
    return mapping[y]


def _as_stored(names: list[str], path: Path) -> list[str] | list[int]:
    """Names as ``load_table`` takes them: indices for array files."""
    if path.suffix.lower() in (".npy", ".npz"):
        return [int(n) for n in names]
    return names


def load_columns(
    path: str | Path,
    split: str = "train",
    *,
    record: ColumnRecord | None = None,
    label: str | None = None,
    features: Sequence[str] | None = None,
    drop: Sequence[str] | None = None,
    **options: Any,
) -> Dataset:
    """Load the chosen columns of a table file.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.parquet``, ``.npy`` or ``.npz`` file.
    split : str
        As for :func:`~latentkit.data.tables.load_table`.
    record : ColumnRecord, optional
        The columns of the run the data is for (:func:`match`); without it the columns are
        chosen by ``label``, ``features`` and ``drop`` (:func:`choose`).
    label, features, drop
        See :func:`choose` and :func:`match`.
    **options
        Passed to :func:`~latentkit.data.tables.load_table` (``impute``).

    Returns
    -------
    Dataset
        ``meta["columns"]`` names the features, ``meta["label"]`` the label column and
        ``meta["class_names"]`` the classes of a text label (the run's, with ``record``).
    """
    from latentkit.data.tables import _read_arrow, load_table

    if record is not None and record.fill is not None and "impute" not in options:
        options = {**options, "impute": record.fill}  # the training file's statistics
    path = Path(path).expanduser()
    if record is None and label is None and features is None and drop is None:
        return load_table(path, split, **options)  # every column: nothing to check first
    where, suffix = str(path), path.suffix.lower()
    names = file_columns(path)
    if names is None:  # a header longer than a block, or a file load_table refuses
        if suffix in (".csv", ".parquet"):
            names = list(_read_arrow(path).column_names)  # checked against the data limit
        else:
            names = list(load_table(path, split, **options).meta["columns"])
    if label is not None and suffix == ".npz" and label not in names:
        names = [*names, label]  # an array of the archive: load_table checks that it exists
    if record is None:
        chosen, label = choose(names, where, label=label, features=features, drop=drop)
    else:
        chosen, label = match(names, record, where, label=label, features=features, drop=drop)
    stored_label: str | int | None = label
    if label is not None and suffix in (".npy", ".npz") and label.isdecimal():
        stored_label = int(label)  # a column index
    data = load_table(path, split, features=_as_stored(chosen, path), label=stored_label, **options)
    data.meta["columns"] = list(chosen)
    if record is None:
        kept = set(chosen) | {label}
        data.meta["ignored"] = [c for c in names if c not in kept]
    if label is not None:
        data.meta["label"] = label
    if record is not None and record.class_names is not None and data.y is not None:
        data.y = recode_labels(data.y, data.meta.get("class_names"), record.class_names, where)
        data.meta["class_names"] = list(record.class_names)
    return data
