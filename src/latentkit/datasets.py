"""Public entry point to data: ``latentkit.datasets.load("mnist", "train")``.

Re-exports :func:`~latentkit.data.sources.load`, :func:`~latentkit.data.sources.available`,
:func:`~latentkit.data.sources.describe_sources` and :class:`~latentkit.data.dataset.Dataset`.
Transforms live in :mod:`latentkit.data.transforms`, :mod:`latentkit.data.corruptions` and
:mod:`latentkit.data.patches`; batching in :mod:`latentkit.data.batches` and
:mod:`latentkit.data.streaming`.

Example
-------
>>> from latentkit import datasets
>>> train = datasets.load("digits", "train")
>>> train.x.shape[1:]
torch.Size([1, 8, 8])
"""

from __future__ import annotations

from latentkit.data.dataset import Dataset
from latentkit.data.sources import available, describe_sources, load

__all__ = ["Dataset", "available", "describe_sources", "load"]
