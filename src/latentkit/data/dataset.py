"""The :class:`Dataset` every loader returns: tensors in memory, or rows made on demand."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import Tensor

from latentkit.data.lazy import LazyRows
from latentkit.errors import DataError

__all__ = ["Dataset"]


@dataclasses.dataclass
class Dataset:
    """Data held in memory as contiguous tensors (or, for ``x``, rows made on demand).

    Attributes
    ----------
    x : Tensor of shape (N, C, H, W) or (N, D), float32, or LazyRows
        Images in [0, 1] or table rows; a :class:`~latentkit.data.lazy.LazyRows` for data
        too large for memory as float32 (dSprites), whose ``x[i:j]`` gives float32 tensors.
    y : Tensor of shape (N,), int64, or None
        Integer labels when the source has them.
    name : str
        Where the data came from (``"mnist"``, a file path, ...).
    meta : dict
        JSON-compatible facts: split, source files, class names, column names, and for data
        with known generative factors their ``factor_names``, ``factor_sizes``, ...
    factors : Tensor of shape (N, K), int64, or None
        Ground-truth factor classes of every row (dSprites: shape, scale, orientation, x, y),
        for disentanglement metrics; follows ``subset``.
    """

    x: Tensor | LazyRows
    y: Tensor | None
    name: str
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    factors: Tensor | None = None

    def __post_init__(self) -> None:
        if self.factors is not None and (
            self.factors.dtype != torch.int64
            or self.factors.ndim != 2
            or len(self.factors) != len(self.x)
        ):
            raise DataError(
                f"{self.name}: factors must be int64 of shape ({len(self.x)}, K), got "
                f"{self.factors.dtype} of shape {tuple(self.factors.shape)}."
            )
        if isinstance(self.x, LazyRows):
            self._check_labels()
            return
        if not isinstance(self.x, Tensor):
            raise DataError(f"{self.name}: x must be a torch.Tensor, got {type(self.x).__name__}.")
        if self.x.dtype != torch.float32:
            raise DataError(f"{self.name}: x must be float32, got {self.x.dtype}.")
        if self.x.ndim < 2:
            raise DataError(
                f"{self.name}: x must have shape (N, D) or (N, C, H, W), got {tuple(self.x.shape)}."
            )
        self._check_labels()
        self.x = self.x.contiguous()

    def _check_labels(self) -> None:
        if self.y is not None:
            if self.y.dtype != torch.int64 or self.y.ndim != 1:
                raise DataError(
                    f"{self.name}: y must be an int64 vector, got {self.y.dtype} "
                    f"of shape {tuple(self.y.shape)}."
                )
            if len(self.y) != len(self.x):
                raise DataError(
                    f"{self.name}: {len(self.x)} samples but {len(self.y)} labels; "
                    "they must have the same count."
                )

    def __len__(self) -> int:
        return len(self.x)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one sample, e.g. ``(1, 28, 28)`` or ``(D,)``."""
        return tuple(self.x.shape[1:])

    @property
    def is_image(self) -> bool:
        """True for ``(N, C, H, W)`` data."""
        return self.x.ndim == 4

    @property
    def num_classes(self) -> int | None:
        """Number of classes (max label + 1), or None without labels."""
        if self.y is None or len(self.y) == 0:
            return None
        return int(self.y.max()) + 1

    def subset(self, index: Tensor | slice | list[int]) -> Dataset:
        """A new Dataset with the rows ``index`` (copied, contiguous; a lazy ``x`` stays lazy)."""
        x = self.x.take(index) if isinstance(self.x, LazyRows) else self.x[index].contiguous()
        y = None if self.y is None else self.y[index].contiguous()
        factors = None if self.factors is None else self.factors[index].contiguous()
        return Dataset(x, y, self.name, dict(self.meta), factors=factors)

    def __repr__(self) -> str:
        labels = "no labels" if self.y is None else f"{self.num_classes} classes"
        return f"Dataset({self.name!r}, n={len(self)}, shape={self.shape}, {labels})"
