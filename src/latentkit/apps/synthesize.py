"""Synthetic rows of a mixed table from a trained tabular VAE.

Rows are drawn from the model (z from the prior, then every column from its own likelihood
p(x_j | z)) and decoded by the run's :class:`~latentkit.data.schema.TableSchema`, so they have
the training table's columns, dtypes and categories.

``where={column: value}`` draws rows conditioned on column values by rejection: rows are drawn
in batches and kept when every condition holds, which samples exactly the model's conditional
distribution. It stops with an error when, after 20,000 draws, fewer than ``min_rate`` of them
were accepted (a rare or impossible value; the error says the rate found), rather than run for
ever.
Conditions are on binary and categorical columns (a level of the column).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from latentkit.data.schema import TableSchema
from latentkit.models.base import AbstractGenerativeModel

__all__ = ["synthesize"]

#: draws after which a condition accepted less often than ``min_rate`` is given up
_CHECK_AFTER = 20_000


def _conditions(schema: TableSchema, where: Mapping[str, str]) -> list[tuple[int, float]]:
    """(column index, code) of each condition; ValueError for an unknown column or level."""
    out = []
    index = {name: j for j, name in enumerate(schema.names)}
    for name, value in where.items():
        if name not in index:
            raise ValueError(f"--where: no column {name!r}; the columns are {schema.names}.")
        spec = schema.columns[index[name]]
        if spec.is_number:
            raise ValueError(
                f"--where: {name!r} is a number column; conditions take a level of a binary "
                "or categorical column (numbers have no single value to match)."
            )
        if str(value) not in spec.levels:
            raise ValueError(
                f"--where: {value!r} is not a level of {name!r}; its levels are "
                f"{list(spec.levels)}."
            )
        out.append((index[name], float(spec.levels.index(str(value)))))
    return out


def synthesize(
    model: AbstractGenerativeModel,
    schema: TableSchema,
    n: int,
    *,
    where: Mapping[str, str] | None = None,
    generator: torch.Generator | None = None,
    batch_size: int = 4096,
    min_rate: float = 0.001,
) -> Any:
    """``n`` synthetic rows as a DataFrame with the schema's columns.

    Parameters
    ----------
    model : AbstractGenerativeModel
        A tabular model (``capabilities.tabular``) trained on codes of ``schema``.
    schema : TableSchema
    n : int
        Rows to draw.
    where : mapping of str to str, optional
        Column -> level: rows are drawn conditioned on these values (by rejection).
    generator : torch.Generator, optional
    min_rate : float
        The least share of accepted draws before giving up (with ``where``).

    Returns
    -------
    pandas.DataFrame of shape (n, C)
    """
    if not model.capabilities.tabular:
        raise ValueError(
            f"synthesize needs a model of a mixed table (tabular_vae), got a {model.model_type}."
        )
    if model.input_shape != (len(schema),):
        raise ValueError(
            f"the model has {model.input_shape[0]} columns but the schema {len(schema)}."
        )
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}.")
    conditions = _conditions(schema, where or {})
    model.eval()
    kept: list[np.ndarray] = []
    have = drawn = 0
    while have < n:
        size = min(batch_size, max(n - have, 64) if not conditions else batch_size)
        rows = model.sample(size, generator=generator).cpu().numpy()  # (size, C) codes
        drawn += size
        ok = np.ones(size, dtype=bool)
        for j, code in conditions:
            ok &= rows[:, j] == code
        kept.append(rows[ok])
        have += int(ok.sum())
        if conditions and drawn >= _CHECK_AFTER and have / drawn < min_rate:
            raise ValueError(
                f"--where: only {have} of {drawn} draws ({have / drawn:.4%}) meet "
                f"{dict(where or {})}; the model gives these values too rarely to sample "
                "them by rejection."
            )
    return schema.decode(np.concatenate(kept)[:n])
