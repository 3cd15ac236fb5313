"""MNIST and Fashion-MNIST: find the IDX files, download them when missing, decode them.

MNIST: LeCun, Bottou, Bengio and Haffner, "Gradient-based learning applied to document
recognition", Proc. IEEE 1998. Fashion-MNIST: Xiao, Rasul and Vollgraf, "Fashion-MNIST: a Novel
Image Dataset for Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017.

Both ship as four IDX files (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``). A split is found when its image
and label files (gzip-compressed or not) sit in the same folder of
:func:`latentkit.data.paths.search_folders`; otherwise the gzip files are downloaded into the
cache folder, each checked against the sha256 of the official file.

Before any value is read, the IDX headers are checked: the image and label counts must agree,
and the float32 images and int64 labels must fit :func:`latentkit.data.limits.max_data_bytes`
(4 GiB by default; an IDX file under :data:`~latentkit.data.idx.MAX_IDX_BYTES` could otherwise
become an 8 GiB float32 array). The uint8 values are converted to float32 in one pass.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from latentkit.data.dataset import Dataset
from latentkit.data.download import fetch_files, resolve_mirrors
from latentkit.data.idx import read_idx, read_idx_header
from latentkit.data.limits import check_data_bytes
from latentkit.data.paths import cache_dir, search_folders
from latentkit.errors import DataError

__all__ = ["FASHION_MNIST", "MNIST", "IdxSource", "Split"]

logger = logging.getLogger(__name__)

Split = Literal["train", "test"]

_PREFIX: dict[str, str] = {"train": "train", "test": "t10k"}


@dataclasses.dataclass(frozen=True)
class IdxSource:
    """A dataset made of IDX image and label files per split.

    Attributes
    ----------
    name : str
        Registry name and folder name (``"mnist"``).
    mirrors : tuple of str
        Public base URLs, tried in order.
    sha256 : dict of str to str
        Expected digest of each ``.gz`` file.
    class_names : tuple of str
        Name of each label, in label order.
    """

    name: str
    mirrors: tuple[str, ...]
    sha256: dict[str, str]
    class_names: tuple[str, ...]

    def file_names(self, split: Split) -> tuple[str, str]:
        """Uncompressed names of the image and label files of ``split``."""
        if split not in _PREFIX:
            raise DataError(
                f"{self.name}: unknown split {split!r}; expected one of {', '.join(_PREFIX)}."
            )
        prefix = _PREFIX[split]
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def find(self, split: Split, root: str | Path | None = None) -> tuple[Path, Path] | None:
        """The image and label files of ``split`` in the first folder holding both, or None."""
        names = self.file_names(split)
        for folder in search_folders(self.name, root):
            found = [_existing(folder, n) for n in names]
            if found[0] is not None and found[1] is not None:
                return found[0], found[1]
        return None

    def where_to_put(self, split: Split, root: str | Path | None = None) -> str:
        """A sentence saying which files to place in which folders."""
        images, labels = self.file_names(split)
        folders = ", ".join(str(f) for f in search_folders(self.name, root))
        return (
            f"Put {images}.gz and {labels}.gz (or the uncompressed files) in one of: {folders}; "
            "or set LATENTKIT_MIRROR to a mirror you can reach."
        )

    def load(
        self,
        split: Split = "train",
        root: str | Path | None = None,
        *,
        download: bool = True,
        mirrors: Sequence[str] | None = None,
    ) -> Dataset:
        """Load ``split`` as images of shape (N, 1, 28, 28) in [0, 1] with int64 labels.

        Parameters
        ----------
        split : {"train", "test"}
            Which files to read (``train-*`` or ``t10k-*``).
        root : str or Path, optional
            Folder searched first (the dataset folder or its parent).
        download : bool
            Fetch missing files into the cache folder; when False a missing split raises.
        mirrors : sequence of str, optional
            Base URLs replacing the public mirrors (``{name}`` is substituted).

        Returns
        -------
        Dataset
            ``x`` float32 of shape (N, 1, 28, 28), ``y`` int64 of shape (N,).

        Raises
        ------
        DownloadError
            When the files are missing and cannot be downloaded.
        DataError
            When a file is malformed, or images and labels disagree.
        """
        found = self.find(split, root)
        if found is None:
            if not download:
                raise DataError(
                    f"{self.name} {split} split not found and download=False. "
                    f"{self.where_to_put(split, root)}"
                )
            found = self._download(split, mirrors, root)
        images_path, labels_path = found
        # the headers first: counts and the size of the result are checked before reading
        (n, h, w), _ = read_idx_header(images_path, ndim=3)
        (n_labels,), _ = read_idx_header(labels_path, ndim=1)
        if n != n_labels:
            raise DataError(
                f"{self.name} {split}: {images_path} holds {n} images but "
                f"{labels_path} holds {n_labels} labels; expected the same count. "
                "Replace the mismatched file with the official one."
            )
        check_data_bytes(
            images_path,
            f"{n} images of {h} x {w} as float32 with int64 labels",
            n * h * w * 4 + n * 8,
        )
        images = read_idx(images_path, ndim=3)  # (N, H, W) uint8
        labels = read_idx(labels_path, ndim=1)  # (N,) uint8
        if images.shape != (n, h, w) or labels.shape != (n,):
            raise DataError(  # the file changed while it was read
                f"{self.name} {split}: {images_path} or {labels_path} changed while it was "
                "read; load again."
            )
        if images.dtype != np.uint8 or labels.dtype != np.uint8:
            raise DataError(
                f"{self.name} {split}: expected unsigned-byte IDX files, found "
                f"{images.dtype} images and {labels.dtype} labels."
            )
        if len(labels) and int(labels.max()) >= len(self.class_names):
            raise DataError(
                f"{labels_path}: label {int(labels.max())} found; expected labels in "
                f"[0, {len(self.class_names)})."
            )
        pixels = images.astype(np.float32).reshape(n, 1, h, w)  # (N, 1, H, W): the one copy
        pixels /= np.float32(255.0)  # in place: one pass, no second buffer
        x = torch.from_numpy(pixels)
        y = torch.from_numpy(labels.astype(np.int64))
        meta = {
            "split": split,
            "files": [str(images_path), str(labels_path)],
            "class_names": list(self.class_names),
        }
        logger.debug("loaded %s %s from %s", self.name, split, images_path.parent)
        return Dataset(x, y, self.name, meta)

    def describe(self, root: str | Path | None = None) -> str:
        """One line saying where each split was found, or where to put it."""
        parts = []
        for split in _PREFIX:
            found = self.find(split, root)  # type: ignore[arg-type]
            parts.append(f"{split}: {found[0].parent}" if found else f"{split}: missing")
        line = f"{self.name}: " + "; ".join(parts)
        if any(p.endswith("missing") for p in parts):
            places = " or ".join(str(f) for f in search_folders(self.name, root))
            line += (
                f" (put the IDX .gz files, e.g. train-images-idx3-ubyte.gz, in {places}; "
                f"a missing split is downloaded into {cache_dir(self.name)} on first use)"
            )
        return line

    def _download(
        self, split: Split, mirrors: Sequence[str] | None, root: str | Path | None
    ) -> tuple[Path, Path]:
        folder = cache_dir(self.name)
        wanted = {f"{n}.gz": self.sha256[f"{n}.gz"] for n in self.file_names(split)}
        bases = resolve_mirrors(self.name, self.mirrors, mirrors)
        logger.info("%s %s split not found; downloading into %s", self.name, split, folder)
        images, labels = fetch_files(
            wanted, folder, bases, how_to_fix=self.where_to_put(split, root)
        )
        return images, labels


def _existing(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


MNIST = IdxSource(
    name="mnist",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    sha256={
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
        ),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
        ),
    },
    class_names=tuple(str(d) for d in range(10)),
)

FASHION_MNIST = IdxSource(
    name="fashion-mnist",
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    sha256={
        "train-images-idx3-ubyte.gz": (
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
        ),
        "train-labels-idx1-ubyte.gz": (
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
        ),
    },
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
)
