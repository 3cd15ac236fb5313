"""Reader for the IDX format of MNIST and Fashion-MNIST (LeCun et al., 1998).

An IDX file is a 4-byte magic number ``00 00 <dtype code> <ndim>``, then ``ndim`` big-endian
uint32 sizes, then the values in C order (big-endian for multi-byte types). Files may be
gzip-compressed (``.gz``). :func:`read_idx` checks every part of the header and that the number
of value bytes matches it exactly, so a truncated or padded file is refused with a message
that says what to do, rather than loaded as garbage.

Decoding is one ``np.frombuffer`` over the decompressed bytes (no copy, no Python loop).

Memory is bounded: a header that announces more than :data:`MAX_IDX_BYTES` of values is
refused before any value is read, and a gzip file is decompressed only as far as its header
announces (plus one byte to detect trailing data), into one buffer of that size, so a
decompression bomb or a header with absurd sizes never allocates more than the cap.
:func:`read_idx_header` reads only the header, so that a caller can check what the values
will become (e.g. float32 images, against :mod:`latentkit.data.limits`) before reading them.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from latentkit.errors import DataError

__all__ = ["IDX_DTYPES", "MAX_IDX_BYTES", "parse_idx", "read_idx", "read_idx_header"]

#: Largest IDX file we read (header plus values); MNIST's training images take 47 MB.
MAX_IDX_BYTES = 1 << 31

#: dtype code (third magic byte) -> big-endian numpy dtype
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_FIX = "Delete the file and load again to download a fresh copy, or replace it by hand."


def parse_idx(buffer: bytes | bytearray, source: str, *, ndim: int | None = None) -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file.

    Parameters
    ----------
    buffer : bytes or bytearray
        The whole file content.
    source : str
        Name used in error messages (usually the file path).
    ndim : int, optional
        Expected number of dimensions (3 for image files, 1 for label files).

    Returns
    -------
    ndarray of shape given by the header
        A read-only view on ``buffer`` in the file's dtype (uint8 for MNIST).

    Raises
    ------
    DataError
        On a bad magic number, an unknown dtype code, an unexpected number of dimensions or a
        byte count that does not match the header.
    """
    if len(buffer) < 4:
        raise DataError(
            f"{source}: not an IDX file: expected at least a 4-byte header, found "
            f"{len(buffer)} bytes. {_FIX}"
        )
    zero0, zero1, code, dims = buffer[0], buffer[1], buffer[2], buffer[3]
    magic = int.from_bytes(buffer[:4], "big")
    if zero0 != 0 or zero1 != 0:
        raise DataError(
            f"{source}: wrong magic number 0x{magic:08x}: an IDX file starts with two zero "
            f"bytes (e.g. 0x00000803 = 2051 for images, 0x00000801 = 2049 for labels). "
            f"Is this the right file? {_FIX}"
        )
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02x}" for c in IDX_DTYPES)
        raise DataError(
            f"{source}: unknown IDX dtype code 0x{code:02x} in magic number 0x{magic:08x}; "
            f"expected one of {known}. {_FIX}"
        )
    if ndim is not None and dims != ndim:
        raise DataError(
            f"{source}: expected an IDX file with {ndim} dimension(s) "
            f"(magic {0x800 + ndim}), found {dims} (magic {magic}). "
            "Check that image and label files are not swapped."
        )
    header = 4 + 4 * dims
    if len(buffer) < header:
        raise DataError(
            f"{source}: truncated IDX header: expected {header} bytes for {dims} dimension "
            f"sizes, found {len(buffer)} bytes. {_FIX}"
        )
    shape, expected = _announced(buffer[:header], source)
    dtype = IDX_DTYPES[code]
    if len(buffer) != expected:
        state = "truncated" if len(buffer) < expected else "has trailing bytes"
        raise DataError(
            f"{source}: IDX file {state}: the header announces shape {shape} of {dtype.name} "
            f"({expected} bytes in all), found {len(buffer)} bytes. {_FIX}"
        )
    values = np.frombuffer(buffer, dtype=dtype, offset=header).reshape(shape)
    values.flags.writeable = False  # also when ``buffer`` is a bytearray
    return values


def _announced(header: bytes, source: str) -> tuple[tuple[int, ...], int]:
    """Shape and total byte count that a complete IDX header announces (checked against the
    cap; Python integers, so huge sizes cannot overflow)."""
    dims = header[3]
    shape = tuple(int(s) for s in np.frombuffer(header, dtype=">u4", count=dims, offset=4))
    expected = 4 + 4 * dims + math.prod(shape) * IDX_DTYPES[header[2]].itemsize
    if expected > MAX_IDX_BYTES:
        raise DataError(
            f"{source}: the IDX header announces shape {shape} ({expected} bytes), more than "
            f"the {MAX_IDX_BYTES} bytes latentkit reads; the file is corrupt or crafted. {_FIX}"
        )
    return shape, expected


def _read_gzip(path: Path) -> bytes | bytearray:
    """Decompress ``path`` no further than its IDX header announces (plus one byte)."""
    with gzip.open(path, "rb") as fh:
        raw = fh.read(4)
        if len(raw) == 4 and raw[0] == raw[1] == 0 and raw[2] in IDX_DTYPES:
            raw += fh.read(4 * raw[3])
            if len(raw) == 4 + 4 * raw[3]:
                _, expected = _announced(raw, str(path))
                buffer = bytearray(expected + 1)  # the whole file and one byte: one allocation
                buffer[: len(raw)] = raw
                view = memoryview(buffer)
                filled = len(raw)
                while filled < len(buffer):
                    count = fh.readinto(view[filled:])
                    if not count:
                        break
                    filled += count
                view.release()
                del buffer[filled:]  # shrinks in place (a truncated or exact file)
                return buffer
    return raw


def read_idx_header(
    path: str | Path, *, ndim: int | None = None
) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype that an IDX file's header announces, without reading the values.

    Parameters
    ----------
    path : str or Path
        An IDX file, gzip-compressed when its name ends in ``.gz``.
    ndim : int, optional
        Expected number of dimensions.

    Returns
    -------
    shape : tuple of int
    dtype : numpy dtype

    Raises
    ------
    DataError
        If the file cannot be read, or its header is malformed, has another number of
        dimensions than ``ndim`` or announces more than :data:`MAX_IDX_BYTES`.
    """
    path = Path(path)
    compressed = path.suffix == ".gz"
    try:
        with gzip.open(path, "rb") if compressed else open(path, "rb") as fh:
            raw = fh.read(4)
            if len(raw) == 4:
                raw += fh.read(4 * raw[3])
    except (OSError, EOFError, zlib.error) as exc:
        if compressed and not isinstance(exc, FileNotFoundError | PermissionError):
            raise DataError(
                f"{path}: corrupt gzip file ({exc}); expected a complete gzip stream. {_FIX}"
            ) from exc
        reason = getattr(exc, "strerror", None) or exc
        raise DataError(f"{path}: cannot read the file ({reason}).") from exc
    valid = (
        len(raw) >= 4
        and raw[0] == raw[1] == 0
        and raw[2] in IDX_DTYPES
        and ndim in (None, raw[3])
        and len(raw) == 4 + 4 * raw[3]
    )
    if not valid:
        parse_idx(raw, str(path), ndim=ndim)  # raises the precise message
    shape, _ = _announced(raw, str(path))
    return shape, IDX_DTYPES[raw[2]]


def read_idx(path: str | Path, *, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file, gzip-compressed when its name ends in ``.gz``.

    Parameters
    ----------
    path : str or Path
        File such as ``train-images-idx3-ubyte.gz`` or ``t10k-labels-idx1-ubyte``.
    ndim : int, optional
        Expected number of dimensions (3 for images, 1 for labels).

    Returns
    -------
    ndarray of shape given by the header
        Read-only array in the file's dtype.

    Raises
    ------
    DataError
        If the file cannot be read, is not valid gzip, or fails a check of :func:`parse_idx`.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_IDX_BYTES:
            raise DataError(
                f"{path}: {size} bytes is more than the {MAX_IDX_BYTES} bytes latentkit reads "
                f"from an IDX file. {_FIX}"
            )
        raw = None if path.suffix == ".gz" else path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror or exc}).") from exc
    if raw is None:
        try:
            raw = _read_gzip(path)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(
                f"{path}: corrupt gzip file ({exc}); expected a complete gzip stream. {_FIX}"
            ) from exc
    return parse_idx(raw, str(path), ndim=ndim)
