"""The registry of named datasets, and :func:`load`, which also reads folders and table files.

Named sources (``SOURCES``): ``mnist`` and ``fashion-mnist`` (IDX files, found or downloaded,
see :mod:`latentkit.data.mnist`) and ``digits``, the 8x8 handwritten digits bundled with
scikit-learn (Alpaydin and Kaynak, UCI, 1998): the offline default; ``faces`` and
``faces-color``, 64x64 faces with a smiling label read from local zips
(:mod:`latentkit.data.faces`); ``dsprites``, drawn procedurally with its factor labels
(:mod:`latentkit.data.dsprites`). Any other name is read as a path: an image file, a folder
of images (:mod:`latentkit.data.images`) or a table file (:mod:`latentkit.data.tables`),
dispatched on its suffix through ``FILE_LOADERS``.

``digits`` has no official split: for each label, ``round(0.2 * count)`` images drawn with
``numpy.random.default_rng(seed)`` (``seed=0`` by default) form the test part and the rest the
train part, so ``train`` and ``test`` never overlap and are the same on every machine.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from latentkit.data.dataset import Dataset
from latentkit.data.dsprites import DSPRITES
from latentkit.data.faces import FACES, FACES_COLOR
from latentkit.data.images import IMAGE_SUFFIXES, load_image_folder
from latentkit.data.mnist import FASHION_MNIST, MNIST
from latentkit.data.splits import stratified_test_rows
from latentkit.data.tables import TABLE_SUFFIXES, load_table
from latentkit.errors import DataError

__all__ = [
    "FILE_LOADERS",
    "SOURCES",
    "DigitsSource",
    "NamedSource",
    "available",
    "describe_sources",
    "load",
]


class NamedSource(Protocol):
    """What a registered dataset provides."""

    name: str

    def load(self, split: Any = "train", root: str | Path | None = None) -> Dataset:
        """Load one split (sources may accept extra keyword options)."""
        ...

    def describe(self, root: str | Path | None = None) -> str:
        """One line saying where the data is (or where to put it)."""
        ...


@dataclasses.dataclass(frozen=True)
class DigitsSource:
    """scikit-learn's bundled 8x8 digits as images of shape (N, 1, 8, 8) in [0, 1]."""

    name: str = "digits"

    def load(
        self,
        split: str = "train",
        root: str | Path | None = None,
        *,
        test_fraction: float = 0.2,
        seed: int = 0,
    ) -> Dataset:
        """Load the train or test part of a fixed stratified split.

        Parameters
        ----------
        split : {"train", "test", "all"}
            Which part; ``"all"`` gives the 1797 images in scikit-learn's order.
        root : str or Path, optional
            Ignored (the data ships with scikit-learn).
        test_fraction : float
            Share of each class put in the test part, in (0, 1).
        seed : int
            Seed of the split.

        Returns
        -------
        Dataset
            ``x`` float32 of shape (N, 1, 8, 8) (pixel counts 0..16 divided by 16), ``y`` int64.
        """
        if split not in ("train", "test", "all"):
            raise DataError(f"digits: unknown split {split!r}; expected train, test or all.")
        if not 0.0 < test_fraction < 1.0:
            raise DataError(f"digits: test_fraction must be in (0, 1), got {test_fraction!r}.")
        pixels, labels = _digits_arrays()  # (1797, 64) float32 counts 0..16, (1797,) int64
        images = pixels.reshape(-1, 8, 8) / np.float32(16.0)  # (N, 8, 8) in [0, 1]
        index = np.arange(len(labels))
        if split != "all":
            test = stratified_test_rows(labels, test_fraction, seed)
            index = index[test] if split == "test" else index[~test]
        x = torch.from_numpy(np.ascontiguousarray(images[index, None]))  # (n, 1, 8, 8)
        y = torch.from_numpy(labels[index])
        meta = {
            "split": split,
            "files": [],
            "source": "scikit-learn digits (sklearn/datasets/data/digits.csv.gz)",
            "class_names": [str(d) for d in range(10)],
            "test_fraction": test_fraction,
            "seed": seed,
        }
        return Dataset(x, y, self.name, meta)

    def describe(self, root: str | Path | None = None) -> str:
        """The digits are always available."""
        return "digits: bundled with scikit-learn (1797 images of 8x8), always available offline"


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The digits as (1797, 64) float32 pixel counts and (1797,) int64 labels.

    Reads scikit-learn's bundled ``datasets/data/digits.csv.gz`` directly when it is where
    scikit-learn has always kept it (importing ``sklearn.datasets`` costs seconds), else calls
    ``sklearn.datasets.load_digits``. Cached: callers index (copy) the arrays, never write them.
    """
    spec = importlib.util.find_spec("sklearn")  # locates the package without importing it
    if spec is not None and spec.origin is not None:
        csv = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
        if csv.is_file():
            table = np.loadtxt(csv, delimiter=",", dtype=np.float32)
            if table.shape == (1797, 65):
                return np.ascontiguousarray(table[:, :64]), table[:, 64].astype(np.int64)
    from sklearn.datasets import load_digits  # pragma: no cover - fallback for other layouts

    bunch = load_digits()  # pragma: no cover
    return bunch.data.astype(np.float32), bunch.target.astype(np.int64)  # pragma: no cover


DIGITS = DigitsSource()

#: registered dataset name -> source
SOURCES: dict[str, NamedSource] = {
    s.name: s for s in (MNIST, FASHION_MNIST, DIGITS, FACES, FACES_COLOR, DSPRITES)
}

#: file suffix -> loader; a folder is read by :func:`load_image_folder`
FILE_LOADERS: dict[str, Callable[..., Dataset]] = dict.fromkeys(TABLE_SUFFIXES, load_table)


def available() -> list[str]:
    """The registered dataset names, sorted."""
    return sorted(SOURCES)


def evaluation_split(name: str) -> str:
    """The split later commands read by default from dataset ``name``: ``"test"``, or
    ``"train"`` for a registered source without a test split (``evaluation_split = "train"``
    on the source: dsprites) and for files and folders (all their rows)."""
    source = SOURCES.get(name)
    return "train" if source is None else getattr(source, "evaluation_split", "test")


def _kinds() -> str:
    return (
        f"the named datasets {', '.join(available())}, an image file or a folder of images "
        f"({', '.join(sorted(IMAGE_SUFFIXES))}), or a table file "
        f"({', '.join(sorted(FILE_LOADERS))})"
    )


def _call(what: str, loader: Callable[..., Dataset], *args: Any, **options: Any) -> Dataset:
    """Call ``loader`` after checking that it accepts every option."""
    accepted = [
        p.name for p in inspect.signature(loader).parameters.values() if p.kind is p.KEYWORD_ONLY
    ]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise DataError(
            f"{what}: unknown option(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(accepted) or 'none'}."
        )
    return loader(*args, **options)


def load(
    name: str | Path, split: str = "train", root: str | Path | None = None, **options: Any
) -> Dataset:
    """Load a dataset by name or path.

    Parameters
    ----------
    name : str or Path
        ``"mnist"``, ``"fashion-mnist"``, ``"digits"``, an image file, a folder of images, or
        a ``.csv``, ``.parquet``, ``.npy`` or ``.npz`` file.
    split : str
        ``"train"`` or ``"test"`` for named datasets; for a folder, a subfolder of that name
        if present; table files accept ``"train"`` or ``"all"`` (every row).
    root : str or Path, optional
        Folder searched first for the files of a named dataset.
    **options
        Options of the source, e.g. ``download``, ``mirrors`` (MNIST family), ``seed``
        (digits), ``mode``, ``size``, ``patch_size`` (folders), ``features``, ``label``,
        ``impute`` (tables).

    Returns
    -------
    Dataset
        ``x`` float32 (images (N, C, H, W) in [0, 1], tables (N, D)), ``y`` int64 or None.

    Raises
    ------
    DataError
        For an unknown name (listing the known ones and the file kinds), an unknown option,
        or malformed data; ``DownloadError`` when a download fails.
    """
    key = str(name)
    source = SOURCES.get(key.lower())
    if source is not None:
        return _call(key, source.load, split, root, **options)
    path = Path(key).expanduser()
    if path.is_dir() or (path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES):
        return _call(key, load_image_folder, path, split, **options)
    suffix = path.suffix.lower()
    if path.is_file() and suffix in FILE_LOADERS:
        return _call(key, FILE_LOADERS[suffix], path, split, **options)
    if path.is_file():
        raise DataError(f"{path}: unknown file kind {suffix!r}; expected {_kinds()}.")
    if suffix in FILE_LOADERS:
        raise DataError(f"{path}: file not found; check the path.")
    raise DataError(f"unknown dataset {key!r}: no such file or folder; expected {_kinds()}.")


def describe_sources(root: str | Path | None = None) -> list[str]:
    """One human-readable line per named dataset: where it was found, or where to put it.

    Parameters
    ----------
    root : str or Path, optional
        Folder searched first.

    Returns
    -------
    list of str
        One line per registered dataset, in name order.
    """
    return [SOURCES[name].describe(root) for name in available()]
