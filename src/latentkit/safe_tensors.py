"""Checked reading and atomic writing of safetensors files.

safetensors stores a JSON header and raw tensor bytes: loading never runs code. Before handing
a file to the library we still validate its header ourselves, so that a truncated or crafted
file (a header that claims absurd sizes, offsets past the end of the file, a pickle renamed to
``.safetensors``) is refused with a :class:`~latentkit.errors.CheckpointError` that names the
file and the problem, instead of an opaque error or a huge allocation.
"""

from __future__ import annotations

import errno
import json
import math
import struct
from pathlib import Path

import torch
from torch import Tensor

from latentkit._io import atomic_path
from latentkit.errors import CheckpointError

__all__ = ["MAX_HEADER_BYTES", "load_tensors", "save_tensors", "validate_header"]

#: Largest JSON header we accept (the format's own reference limit is 100 MB).
MAX_HEADER_BYTES = 100_000_000

_DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip


def validate_header(path: str | Path) -> dict[str, dict]:
    """Parse and check the header of a safetensors file; return ``{name: info}``.

    Raises
    ------
    CheckpointError
        If the file is too short, the header length is absurd, the header is not JSON, a dtype
        is unknown, or a tensor's byte range does not match its shape or lies outside the file.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            prefix = fh.read(8)
            if len(prefix) < 8:
                raise CheckpointError(
                    f"{path}: {size} bytes is too short for a safetensors file; "
                    "the file is truncated or not safetensors."
                )
            (header_len,) = struct.unpack("<Q", prefix)
            if header_len > min(MAX_HEADER_BYTES, size - 8):
                raise CheckpointError(
                    f"{path}: header claims {header_len} bytes but the file holds {size}; "
                    "the file is corrupt or not safetensors (pickle files are refused)."
                )
            raw = fh.read(header_len)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the weights file ({exc}).") from exc
    try:
        header = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise CheckpointError(f"{path}: the safetensors header is not valid JSON.") from exc
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: the safetensors header must be a JSON object.")
    data_bytes = size - 8 - header_len
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    for name, info in tensors.items():
        _check_entry(path, name, info, data_bytes)
    return tensors


def _check_entry(path: Path, name: str, info: object, data_bytes: int) -> None:
    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
        raise CheckpointError(f"{path}: tensor {name!r} has a malformed header entry.")
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if dtype not in _DTYPE_BYTES:
        raise CheckpointError(f"{path}: tensor {name!r} has unknown dtype {dtype!r}.")
    if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
        raise CheckpointError(f"{path}: tensor {name!r} has an invalid shape {shape!r}.")
    if not (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(isinstance(o, int) for o in offsets)
        and 0 <= offsets[0] <= offsets[1] <= data_bytes
    ):
        raise CheckpointError(
            f"{path}: tensor {name!r} claims bytes {offsets!r} but the file holds {data_bytes} "
            "bytes of data; the file is truncated or crafted."
        )
    expected = math.prod(shape) * _DTYPE_BYTES[dtype]
    if offsets[1] - offsets[0] != expected:
        raise CheckpointError(
            f"{path}: tensor {name!r} of shape {shape} and dtype {dtype} needs {expected} bytes, "
            f"the header gives {offsets[1] - offsets[0]}."
        )


def load_tensors(path: str | Path, device: str | torch.device = "cpu") -> dict[str, Tensor]:
    """Validate, then load every tensor of a safetensors file."""
    from safetensors.torch import load_file

    path = Path(path)
    validate_header(path)
    try:
        return load_file(str(path), device=str(device))
    except Exception as exc:  # the library's own checks: report them in our words
        raise CheckpointError(f"{path}: cannot load the tensors ({exc}).") from exc


def save_tensors(
    path: str | Path, tensors: dict[str, Tensor], metadata: dict[str, str] | None = None
) -> None:
    """Write ``tensors`` to ``path`` atomically (shared storage is copied apart first).

    Raises
    ------
    OSError
        If the file cannot be written (a full disk, a read-only folder). safetensors reports
        its own I/O failures as ``SafetensorError``, which is not an ``OSError``; they are
        turned into one (``ENOSPC`` for a full disk), and no partial file is left behind.
    """
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    plain = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    with atomic_path(path) as tmp:
        try:
            save_file(plain, str(tmp), metadata=metadata)
        except SafetensorError as exc:
            text = " ".join(str(exc).split())
            code = errno.ENOSPC if "No space left" in text or "os error 28" in text else errno.EIO
            raise OSError(code, f"cannot write {Path(path).name}: {text}", str(path)) from exc
