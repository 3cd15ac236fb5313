"""Faces with a binary "smiling" label: SMILEsmileD (gray) and GENKI-4K crops (colour).

``latentkit.datasets.load("faces")`` reads 64x64 face crops straight from the zips the shared
data folder holds (no extraction to disk), with ``y = 1`` for a smiling face and ``0`` for a
neutral one. Two variants, chosen with ``variant=`` or by name (``"faces-color"`` loads the
colour one, so that command lines reach it too):

- ``"gray"`` (default): SMILEsmileD (Hromada et al., "SMILEsmileD - smile detector open
  source project", 2010), ``smilesmiled.zip`` + ``smilesmiled_labels.csv``: 13,165 8-bit gray
  crops of news photos (3,690 smiling), images of shape (N, 1, 64, 64).
- ``"color"``: GENKI-4K (MPLab, UC San Diego) crops, ``genki4k.zip`` + ``genki4k_labels.csv``:
  the 3,883 rows with ``crop_ok == 1`` (2,107 smiling; the other 117 are copies of the previous
  crop, showing the wrong person), images of shape (N, 3, 64, 64).

Neither source publishes a licence: research use only (see the data folder's README).

Split. Neither set has an official split that covers it (GENKI's ``repo_split`` is the source
repository's own), so both use the rule of the ``digits`` source: for each label,
``round(test_fraction * count)`` rows drawn with ``numpy.random.default_rng(seed)`` over the
rows in label-file order form ``"test"`` and the rest ``"train"`` (``test_fraction=0.2``,
``seed=0`` by default), the same on every machine. SMILEsmileD has no identity labels, so the
same person may appear on both sides of the split.

Safety. The label file must be under :data:`MAX_LABEL_BYTES`; every image named in it must be a
zip member of at most :data:`MAX_MEMBER_BYTES`; each JPEG header must announce 64 x 64 before it
is decoded, and the float32 result is checked against
:func:`~latentkit.data.limits.max_data_bytes` before it is allocated. Decoded pixels are cached
(uint8, about 54 MB for the gray set) per file, size and modification time, so loading
``"train"`` then ``"test"`` decodes the zip once.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import zipfile
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from latentkit.data.dataset import Dataset
from latentkit.data.limits import check_data_bytes, check_image_pixels
from latentkit.data.paths import search_folders
from latentkit.data.splits import stratified_test_rows
from latentkit.errors import DataError

__all__ = ["FACES", "FACES_COLOR", "MAX_LABEL_BYTES", "MAX_MEMBER_BYTES", "FacesSource", "Variant"]

Variant = Literal["gray", "color"]

#: the most bytes a label CSV may have
MAX_LABEL_BYTES = 16 << 20
#: the most bytes (uncompressed) one JPEG member of a zip may have
MAX_MEMBER_BYTES = 1 << 20
#: the side of every face crop
SIZE = 64


@dataclasses.dataclass(frozen=True)
class _Files:
    """What one variant reads: its zip, its label CSV, its Pillow mode and channel count."""

    archive: str
    labels: str
    mode: str
    channels: int
    source: str


_VARIANTS: dict[str, _Files] = {
    "gray": _Files(
        "smilesmiled.zip", "smilesmiled_labels.csv", "L", 1,
        "SMILEsmileD (github.com/hromi/SMILEsmileD), 64x64 gray face crops",
    ),
    "color": _Files(
        "genki4k.zip", "genki4k_labels.csv", "RGB", 3,
        "GENKI-4K crops (github.com/truongnmt/smile-detection), 64x64 colour, crop_ok == 1",
    ),
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class FacesSource:
    """64x64 face crops with a smiling label, read from the zips of the ``faces`` folder."""

    name: str = "faces"
    variant: Variant = "gray"

    def find(self, variant: Variant, root: str | Path | None = None) -> Path | None:
        """The first folder of :func:`search_folders` holding the variant's zip and CSV."""
        files = _files(variant)
        for folder in search_folders("faces", root):
            if (folder / files.archive).is_file() and (folder / files.labels).is_file():
                return folder
        return None

    def load(
        self,
        split: str = "train",
        root: str | Path | None = None,
        *,
        variant: Variant | None = None,
        test_fraction: float = 0.2,
        seed: int = 0,
    ) -> Dataset:
        """Load the train or test part of a fixed stratified split.

        Parameters
        ----------
        split : {"train", "test", "all"}
            Which part; ``"all"`` gives every usable row in label-file order.
        root : str or Path, optional
            Folder searched first (the ``faces`` folder or its parent).
        variant : {"gray", "color"}, optional
            SMILEsmileD (gray, 13,165 faces) or GENKI-4K crops (colour, 3,883 faces); by
            default the source's own (``faces``: gray, ``faces-color``: colour).
        test_fraction : float
            Share of each label put in the test part, in (0, 1).
        seed : int
            Seed of the split.

        Returns
        -------
        Dataset
            ``x`` float32 of shape (N, C, 64, 64) in [0, 1] (C = 1 gray, 3 colour), ``y`` int64
            of shape (N,) (1 smiling, 0 not); ``meta["files"]`` the zip member of each row.

        Raises
        ------
        DataError
            An unknown split or variant, missing files (saying where to put them), or a
            malformed zip, label file or image.
        """
        if split not in ("train", "test", "all"):
            raise DataError(f"faces: unknown split {split!r}; expected train, test or all.")
        if not 0.0 < test_fraction < 1.0:
            raise DataError(f"faces: test_fraction must be in (0, 1), got {test_fraction!r}.")
        variant = self.variant if variant is None else variant
        files = _files(variant)
        folder = self.find(variant, root)
        if folder is None:
            raise DataError(f"faces: {variant} variant not found. {self.where(variant, root)}")
        archive = folder / files.archive
        state = tuple(
            (p.stat().st_size, p.stat().st_mtime_ns) for p in (archive, folder / files.labels)
        )
        names, labels, pixels = _read(str(archive), state, variant)
        index = np.arange(len(labels))
        if split != "all":
            test = stratified_test_rows(labels, test_fraction, seed)
            index = index[test] if split == "test" else index[~test]
        check_data_bytes(archive, "the float32 faces", len(index) * pixels[0].size * 4)
        x = torch.from_numpy(pixels[index]).float().div_(255.0)  # (n, C, 64, 64) in [0, 1]
        meta = {
            "split": split,
            "variant": variant,
            "files": [names[i] for i in index],
            "source": files.source,
            "archive": str(archive),
            "class_names": ["not smiling", "smiling"],
            "attribute": "smiling",
            "test_fraction": test_fraction,
            "seed": seed,
        }
        return Dataset(x, torch.from_numpy(labels[index]), self.name, meta)

    def where(self, variant: Variant, root: str | Path | None = None) -> str:
        """A sentence saying which files to place in which folders."""
        files = _files(variant)
        folders = ", ".join(str(f) for f in search_folders("faces", root))
        return f"Put {files.archive} and {files.labels} in one of: {folders}."

    def describe(self, root: str | Path | None = None) -> str:
        """One line: where this source's default variant was found, or where to put it."""
        folder = self.find(self.variant, root)
        where = f"found in {folder}" if folder else f"missing. {self.where(self.variant, root)}"
        return f"{self.name}: 64x64 {self.variant} faces with a smiling label, {where}"


def _files(variant: str) -> _Files:
    if variant not in _VARIANTS:
        raise DataError(
            f"faces: unknown variant {variant!r}; expected one of {', '.join(_VARIANTS)}."
        )
    return _VARIANTS[variant]


def _label_rows(path: Path, variant: str) -> tuple[list[str], np.ndarray]:
    """Member names and int64 labels (N,) from the CSV; GENKI rows with crop_ok 0 dropped."""
    size = path.stat().st_size
    if size > MAX_LABEL_BYTES:
        raise DataError(
            f"{path}: refused, {size:,} bytes is more than a label file of "
            f"{MAX_LABEL_BYTES:,} bytes; expected the faces folder's CSV."
        )
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    names, labels = [], []
    for line, row in enumerate(rows, start=2):
        if variant == "color" and row.get("crop_ok") != "1":
            continue
        name, smiling = row.get("file"), row.get("smiling")
        if not name or smiling not in ("0", "1"):
            raise DataError(
                f"{path}:{line}: expected a file name and smiling 0 or 1, found "
                f"file={name!r}, smiling={smiling!r}; use the faces folder's label file."
            )
        names.append(name)
        labels.append(int(smiling))
    if not names:
        raise DataError(f"{path}: no labelled rows; expected the faces folder's label file.")
    return names, np.asarray(labels, dtype=np.int64)


@functools.lru_cache(maxsize=2)
def _read(
    archive: str, state: tuple[tuple[int, int], ...], variant: str
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Names, labels (N,) and uint8 pixels (N, C, 64, 64) of one variant (cached per file
    state: the size and modification time of the zip and the CSV, ``state``, are part of the
    key, so a replaced file is read again)."""
    files = _VARIANTS[variant]
    path = Path(archive)
    names, labels = _label_rows(path.parent / files.labels, variant)
    check_data_bytes(path, "the float32 faces", len(names) * files.channels * SIZE * SIZE * 4)
    out = np.empty((len(names), files.channels, SIZE, SIZE), dtype=np.uint8)
    try:
        with zipfile.ZipFile(path) as zf:  # read in place: nothing extracted to disk
            members = {info.filename: info for info in zf.infolist()}
            for i, name in enumerate(names):
                info = members.get(name)
                if info is None:
                    raise DataError(
                        f"{path}: {name} is in {files.labels} but not in the zip; "
                        "the two files must come from the same faces folder."
                    )
                if info.file_size > MAX_MEMBER_BYTES:
                    raise DataError(
                        f"{path}: refused, {name} announces {info.file_size:,} bytes, more "
                        f"than {MAX_MEMBER_BYTES:,} for a 64x64 JPEG."
                    )
                out[i] = _decode(path, name, zf.read(info), files)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read the zip ({exc}); replace the file.") from exc
    return names, labels, out


def _decode(path: Path, name: str, data: bytes, files: _Files) -> np.ndarray:
    """One JPEG as uint8 (C, 64, 64), its header checked before decoding."""
    where = f"{path}:{name}"
    try:
        with Image.open(io.BytesIO(data)) as img:
            check_image_pixels(where, *img.size)
            if img.size != (SIZE, SIZE):
                raise DataError(
                    f"{where}: expected a {SIZE}x{SIZE} face crop, found {img.size[0]}x"
                    f"{img.size[1]}; use the faces folder's zip."
                )
            values = np.asarray(img.convert(files.mode), dtype=np.uint8)
    except DataError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise DataError(f"{where}: cannot decode this JPEG ({exc}); replace the zip.") from exc
    return values.reshape(SIZE, SIZE, files.channels).transpose(2, 0, 1)


FACES = FacesSource()
FACES_COLOR = FacesSource("faces-color", "color")
