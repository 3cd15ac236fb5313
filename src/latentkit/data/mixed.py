"""Load a mixed table (numbers, categories, gaps) as codes under a :class:`TableSchema`.

:func:`needs_schema` tells whether a CSV/Parquet file's feature columns need one (text or
boolean columns, missing values); :func:`load_mixed` reads the file with pandas, chooses the
columns like :func:`latentkit.data.columns.load_columns` (``label``, ``features``, ``drop``;
or the run's record), infers the schema on training data (``categorical`` / ``numeric``
override it) or applies the run's, and returns a :class:`Dataset` whose ``x`` holds the
``(N, C)`` float32 codes with NaN where a value is missing. ``meta["schema"]`` holds the schema
as JSON, ``meta["columns"]``, ``meta["label"]``, ``meta["class_names"]`` and
``meta["ignored"]`` as for other tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentkit.data.columns import ColumnRecord, choose, match, recode_labels
from latentkit.data.dataset import Dataset
from latentkit.data.schema import TableSchema, read_frame
from latentkit.errors import DataError

__all__ = ["frame_dataset", "load_mixed", "needs_schema"]


def needs_schema(frame: Any, features: Sequence[str]) -> bool:
    """True when a feature column holds text, booleans or missing values."""
    import pandas as pd

    for name in features:
        values = frame[name]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if not numeric or bool(values.isna().any()):
            return True
    return False


def _labels(values: Any, classes: Sequence[str] | None) -> tuple[torch.Tensor, list[str] | None]:
    """Integer codes of a label column (text labels in sorted order, or ``classes``)."""
    import pandas as pd

    if values.isna().any():
        raise DataError(
            f"label column {values.name!r} has {int(values.isna().sum())} missing value(s); "
            "drop those rows or leave the label out."
        )
    if pd.api.types.is_integer_dtype(values) and classes is None:
        if (values < 0).any():
            raise DataError(f"label column {values.name!r} holds negative integers.")
        return torch.as_tensor(values.to_numpy(dtype=np.int64)), None
    text = values.astype(str)
    names = sorted(text.unique())
    code = {n: i for i, n in enumerate(names)}
    y = torch.as_tensor(np.array([code[t] for t in text], dtype=np.int64))
    return y, names


def frame_dataset(
    frame: Any,
    schema: TableSchema,
    where: str,
    *,
    label: str | None = None,
    class_names: Sequence[str] | None = None,
) -> Dataset:
    """A DataFrame's schema columns as a Dataset of codes (and its label as ``y``)."""
    x = torch.from_numpy(schema.encode(frame, where))
    y, meta = None, {"columns": schema.names, "schema": schema.to_dict(), "split": "train"}
    if label is not None:
        y, names = _labels(frame[label], None)
        if class_names is not None and names is not None:
            y = recode_labels(y, names, list(class_names), where)
            names = list(class_names)
        meta |= {"label": label, "class_names": names}
    return Dataset(x=x, y=y, name=where, meta=meta)


def load_mixed(
    path: str | Path,
    *,
    frame: Any = None,
    schema: TableSchema | None = None,
    record: ColumnRecord | None = None,
    label: str | None = None,
    features: Sequence[str] | None = None,
    drop: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    numeric: Sequence[str] | None = None,
) -> Dataset:
    """Load a CSV/Parquet table as codes (see the module docstring).

    Parameters
    ----------
    path : str or Path
    frame : DataFrame, optional
        The file already read (by :func:`~latentkit.data.schema.read_frame`).
    schema, record : optional
        A run's schema and columns (later commands); without them the columns are chosen by
        ``label``/``features``/``drop`` and the schema is inferred (training).
    categorical, numeric : sequence of str, optional
        Columns whose kind is forced when inferring.
    """
    where = str(path)
    frame = read_frame(path) if frame is None else frame
    names = [str(c) for c in frame.columns]
    frame.columns = names
    if record is None:
        chosen, label = choose(names, where, label=label, features=features, drop=drop)
    else:
        chosen, label = match(names, record, where, label=label, features=features, drop=drop)
    if schema is None:
        schema = TableSchema.infer(frame[chosen], categorical=categorical, numeric=numeric)
    classes = None if record is None else record.class_names
    data = frame_dataset(frame, schema, where, label=label, class_names=classes)
    kept = set(chosen) | {label}
    data.meta["ignored"] = [c for c in names if c not in kept]
    return data
