"""The in-memory :class:`Dataset` every loader returns."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import Tensor

from latentkit.errors import DataError

__all__ = ["Dataset"]


@dataclasses.dataclass
class Dataset:
    """Data held in memory as contiguous tensors.

    Attributes
    ----------
    x : Tensor of shape (N, C, H, W) or (N, D), float32
        Images in [0, 1] or table rows.
    y : Tensor of shape (N,), int64, or None
        Integer labels when the source has them.
    name : str
        Where the data came from (``"mnist"``, a file path, ...).
    meta : dict
        JSON-compatible facts: split, source files, class names, column names, ...
    """

    x: Tensor
    y: Tensor | None
    name: str
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.x, Tensor):
            raise DataError(f"{self.name}: x must be a torch.Tensor, got {type(self.x).__name__}.")
        if self.x.dtype != torch.float32:
            raise DataError(f"{self.name}: x must be float32, got {self.x.dtype}.")
        if self.x.ndim < 2:
            raise DataError(
                f"{self.name}: x must have shape (N, D) or (N, C, H, W), got {tuple(self.x.shape)}."
            )
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
        self.x = self.x.contiguous()

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
        """A new Dataset with the rows ``index`` (copied, contiguous)."""
        x = self.x[index].contiguous()
        y = None if self.y is None else self.y[index].contiguous()
        return Dataset(x, y, self.name, dict(self.meta))

    def __repr__(self) -> str:
        labels = "no labels" if self.y is None else f"{self.num_classes} classes"
        return f"Dataset({self.name!r}, n={len(self)}, shape={self.shape}, {labels})"
