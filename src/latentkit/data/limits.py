"""Memory limits of the data readers: sizes a file announces are checked before allocating.

A small file can announce a huge array: a ``.npy`` header, an ``.npz`` member compressed a
thousandfold, a PNG whose header says 12000 x 12000, an IDX header. Every reader reads that
announcement first (the array header, the zip directory, the image header through Pillow's
lazy ``Image.open``, the IDX dimensions, the CSV file size, the Parquet metadata) and compares
it with two limits before it allocates anything of that size:

- :data:`MAX_DATA_BYTES` (4 GiB): the most bytes one load may return, counting the float32
  values and the int64 labels, and also the most that one decoded intermediate may take (the
  Arrow table of a CSV or Parquet file, an IDX file's values). Overridden by the environment
  variable ``LATENTKIT_MAX_DATA_BYTES`` (a whole number of bytes).
- :data:`MAX_IMAGE_PIXELS` (2**26, e.g. 8192 x 8192): the most pixels (width x height) one
  image may have before it is decoded. Overridden by ``LATENTKIT_MAX_IMAGE_PIXELS``.

The module constants may also be assigned by a program (``limits.MAX_DATA_BYTES = 16 << 30``);
the environment variable, when set, wins. Both are read on every call, never at import time.
A refusal is a :class:`~latentkit.errors.DataError` of one line naming the file, the announced
size, the limit and the variable that raises it.
"""

from __future__ import annotations

import os

from latentkit.errors import DataError

__all__ = [
    "DATA_BYTES_VARIABLE",
    "IMAGE_PIXELS_VARIABLE",
    "MAX_DATA_BYTES",
    "MAX_IMAGE_PIXELS",
    "check_data_bytes",
    "check_image_pixels",
    "max_data_bytes",
    "max_image_pixels",
]

#: default limit on the bytes one load returns (float32 values plus int64 labels)
MAX_DATA_BYTES = 4 << 30

#: default limit on the pixels (width x height) of one image, checked before decoding
MAX_IMAGE_PIXELS = 1 << 26

DATA_BYTES_VARIABLE = "LATENTKIT_MAX_DATA_BYTES"
IMAGE_PIXELS_VARIABLE = "LATENTKIT_MAX_IMAGE_PIXELS"


def _setting(variable: str, default: int) -> int:
    text = os.environ.get(variable)
    if text is None or not text.strip():
        return int(default)
    try:
        value = int(text.strip().replace("_", ""))
    except ValueError:
        value = -1
    if value < 1:
        raise DataError(
            f"{variable}={text!r} is not a limit: expected a whole number of bytes or pixels "
            f">= 1 (e.g. {variable}={int(default)}); fix or unset the variable."
        )
    return value


def max_data_bytes() -> int:
    """The limit on the bytes one load returns: ``$LATENTKIT_MAX_DATA_BYTES`` or the default."""
    return _setting(DATA_BYTES_VARIABLE, MAX_DATA_BYTES)


def max_image_pixels() -> int:
    """The limit on the pixels of one image: ``$LATENTKIT_MAX_IMAGE_PIXELS`` or the default."""
    return _setting(IMAGE_PIXELS_VARIABLE, MAX_IMAGE_PIXELS)


def check_data_bytes(source: object, what: str, announced: int) -> None:
    """Raise a DataError when ``announced`` bytes exceed :func:`max_data_bytes`.

    Parameters
    ----------
    source : str or Path
        The file or folder, named first in the message.
    what : str
        What would take that many bytes, e.g. ``"the float32 values of shape (N, D)"``.
    announced : int
        The size in bytes that the file announces (a Python int: it cannot overflow).
    """
    limit = max_data_bytes()
    if announced > limit:
        raise DataError(
            f"{source}: refused, {what} would take {announced:,} bytes, more than the limit of "
            f"{limit:,} bytes; if the file is trusted and fits in memory, raise the limit with "
            f"the environment variable {DATA_BYTES_VARIABLE}=<bytes>."
        )


def check_image_pixels(source: object, width: int, height: int) -> None:
    """Raise a DataError when ``width`` x ``height`` exceeds :func:`max_image_pixels`."""
    limit = max_image_pixels()
    if width * height > limit:
        raise DataError(
            f"{source}: refused, the image is too large to decode safely: its header announces "
            f"{width} x {height} = {width * height:,} pixels, more than the limit of {limit:,}; "
            f"if the file is trusted, raise the limit with the environment variable "
            f"{IMAGE_PIXELS_VARIABLE}=<pixels>."
        )
