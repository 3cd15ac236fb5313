"""Arrays stored in ``.npy`` files and ``.npz`` members, checked from their headers and read in
blocks.

``numpy.load`` trusts a header: it allocates the shape it announces before reading a byte of
data (a 100-byte file announcing 10**15 values ends in ``MemoryError``), and it reads every
member of an ``.npz`` archive, however large it decompresses. :func:`open_arrays` instead
reads only the headers (numpy's own parser, with ``allow_pickle`` never set): the shape, dtype
and order of each array, and for an ``.npz`` member the uncompressed size from the zip
directory. A caller checks those sizes (see :mod:`latentkit.data.limits`) and then reads what
it needs with :meth:`StoredArray.chunks`: consecutive runs of rows (or of columns for a
Fortran-ordered array) of about :data:`CHUNK_BYTES`, straight from the file or the
decompressing zip stream, so no copy of the whole array is ever made.

The format is numpy's (``numpy.lib.format``): a magic string ``\\x93NUMPY``, a version, a
header dict (``descr``, ``fortran_order``, ``shape``) and the values; an ``.npz`` is a zip
archive of such files, each named ``<key>.npy``.
"""

from __future__ import annotations

import dataclasses
import math
import tokenize
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import numpy as np
from numpy.lib import format as npy_format

from latentkit.errors import DataError

__all__ = ["CHUNK_BYTES", "StoredArray", "open_arrays"]

#: bytes of file values read per block
CHUNK_BYTES = 1 << 20

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_HEADER_ERRORS = (ValueError, SyntaxError, TypeError, OverflowError, tokenize.TokenError)
#: what reading a damaged file or zip member raises (NotImplementedError: an unknown compression
#: method; RuntimeError: an encrypted member)
_READ_ERRORS = (
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
)


@dataclasses.dataclass(frozen=True)
class StoredArray:
    """One array in a file, known from its header; its values are read only by :meth:`chunks`.

    Attributes
    ----------
    path : Path
        The ``.npy`` or ``.npz`` file.
    member : str or None
        The zip member holding the array (``"x.npy"``), or None for a ``.npy`` file.
    shape : tuple of int
    dtype : numpy dtype
    fortran : bool
        Values stored column by column (numpy's ``fortran_order``).
    offset : int
        Bytes of magic string and header before the values.
    stored_bytes : int
        Bytes the file (or zip member) holds after the header.
    """

    path: Path
    member: str | None
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    offset: int
    stored_bytes: int

    @property
    def name(self) -> str:
        """How error messages name the array: the file, and the member of an archive."""
        return str(self.path) if self.member is None else f"{self.path}: array {self.key!r}"

    @property
    def key(self) -> str:
        """The name numpy gives the array (the member name without ``.npy``)."""
        if self.member is None:
            return "x"
        return self.member[:-4] if self.member.endswith(".npy") else self.member

    @property
    def nbytes(self) -> int:
        """Bytes of values the header announces (a Python int: no overflow)."""
        return math.prod(self.shape) * self.dtype.itemsize

    def check_complete(self) -> None:
        """Raise a DataError when the file holds fewer value bytes than the header announces."""
        if self.nbytes > self.stored_bytes:
            raise DataError(
                f"{self.name}: truncated, the header announces shape {self.shape} of "
                f"{self.dtype} ({self.nbytes:,} bytes of values), but only "
                f"{self.stored_bytes:,} bytes follow it. Save the array again."
            )

    def chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        """Consecutive blocks of the values, in the order they are stored.

        Yields
        ------
        start : int
            Index of the first row (C order) or column (Fortran order) of the block.
        values : ndarray of shape (k, D) in C order, or (k, N) in Fortran order
            ``k`` rows, or ``k`` columns each holding all N rows; read-only, in ``dtype``.
            A 1-d array of shape (N,) is read as N rows of one value. (Meant for 1-d and 2-d
            arrays: a Fortran-ordered array of more dimensions is not split this way.)
        """
        self.check_complete()
        n = self.shape[0] if self.shape else 1
        d = math.prod(self.shape[1:])
        lines, length = (d, n) if self.fortran and len(self.shape) > 1 else (n, d)
        line_bytes = length * self.dtype.itemsize
        if lines == 0 or line_bytes == 0:
            return
        per_chunk = max(1, CHUNK_BYTES // line_bytes)
        with ExitStack() as stack:
            stream = self._open(stack)
            for start in range(0, lines, per_chunk):
                k = min(per_chunk, lines - start)
                data = self._read(stream, k * line_bytes)
                yield start, np.frombuffer(data, dtype=self.dtype).reshape(k, length)

    def read(self) -> np.ndarray:
        """All values, of shape ``shape`` (for small arrays such as labels: check ``nbytes``
        first)."""
        parts = [values for _, values in self.chunks()]
        if not parts:
            return np.zeros(self.shape, dtype=self.dtype)
        flat = np.concatenate(parts) if len(parts) > 1 else parts[0]
        if self.fortran and len(self.shape) > 1:
            return flat.reshape(self.shape[::-1]).T
        return flat.reshape(self.shape)

    def _open(self, stack: ExitStack) -> IO[bytes]:
        try:
            if self.member is None:
                stream = stack.enter_context(open(self.path, "rb"))  # noqa: SIM115 - closed by stack
                stream.seek(self.offset)
            else:
                archive = stack.enter_context(zipfile.ZipFile(self.path))
                stream = stack.enter_context(archive.open(self.member))
                self._read(stream, self.offset)
        except _READ_ERRORS as exc:
            raise DataError(f"{self.name}: cannot read it ({exc}).") from exc
        return stream

    def _read(self, stream: IO[bytes], count: int) -> bytes:
        try:
            data = stream.read(count)
            while len(data) < count:  # a zip stream may return less than asked
                more = stream.read(count - len(data))
                if not more:
                    break
                data += more
        except _READ_ERRORS as exc:
            raise DataError(f"{self.name}: the values are corrupt ({exc}). Save it again.") from exc
        if len(data) < count:
            raise DataError(f"{self.name}: truncated, the values end early. Save it again.")
        return data


def _header(stream: IO[bytes], name: str, suffix: str) -> tuple[tuple, np.dtype, bool, int]:
    """Shape, dtype, order and header length of the .npy stream at its start."""
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except _HEADER_ERRORS as exc:
        raise DataError(f"{name}: cannot read it as {suffix} ({exc}).") from exc
    except _READ_ERRORS as exc:
        raise DataError(f"{name}: the file is empty or truncated ({exc}).") from exc
    if dtype.hasobject:
        raise DataError(
            f"{name}: cannot read it as {suffix} (dtype {dtype} holds Python objects); "
            "object arrays are refused, since loading them would unpickle code."
        )
    return tuple(int(s) for s in shape), dtype, bool(fortran), stream.tell()


def open_arrays(path: str | Path) -> dict[str, StoredArray | None]:
    """The arrays of a ``.npy`` file or ``.npz`` archive, from their headers only.

    Whether the file is an archive is decided by its first bytes, as ``numpy.load`` does.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    dict of str to StoredArray or None
        ``{"x": array}`` for a ``.npy`` file; one entry per member for an archive, named as
        numpy names them, with None for a member that is not a ``.npy`` file.

    Raises
    ------
    DataError
        For an empty file, a file that is neither, a malformed or truncated header, or an
        object array (which numpy could only load by unpickling).
    """
    path = Path(path)
    suffix = path.suffix[1:] or "numpy file"
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(6)
            if head == npy_format.MAGIC_PREFIX:
                fh.seek(0)
                shape, dtype, fortran, offset = _header(fh, str(path), suffix)
                stored = StoredArray(path, None, shape, dtype, fortran, offset, size - offset)
                return {"x": stored}
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror or exc}).") from exc
    if size == 0:
        raise DataError(f"{path}: the file is empty; expected a saved numpy array.")
    if not head.startswith(_ZIP_MAGIC):
        raise DataError(
            f"{path}: cannot read it as {suffix}: it is neither a .npy array nor an .npz "
            f"archive (it starts with {head!r}); pickled data and object arrays are refused."
        )
    arrays: dict[str, StoredArray | None] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                if key in arrays or info.is_dir():
                    continue
                with archive.open(info) as stream:
                    if stream.read(6) != npy_format.MAGIC_PREFIX:
                        arrays[key] = None
                        continue
                    stream.seek(0)
                    name = f"{path}: array {key!r}"
                    shape, dtype, fortran, offset = _header(stream, name, suffix)
                arrays[key] = StoredArray(
                    path, info.filename, shape, dtype, fortran, offset, info.file_size - offset
                )
    except _READ_ERRORS as exc:
        raise DataError(
            f"{path}: cannot read the archive ({exc}); expected an .npz written by numpy.savez."
        ) from exc
    return arrays
