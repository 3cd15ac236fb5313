"""Image files one at a time, each at its own size, format and bit depth: read and write.

:mod:`latentkit.data.images` stacks a folder into one ``(N, C, H, W)`` Dataset, which needs
equal sizes. Restoring a user's photos needs the opposite: every file kept at its own size and
written back as it came (PNG, JPEG, TIFF, BMP, WebP; 8 or 16 bits), so this module reads one
file into a :class:`Photo` and writes one ``(C, H, W)`` array into a file.

Reading. Every image becomes gray (C = 1) or RGB (C = 3) in [0, 1], divided by the largest
value of its bit depth. What is converted, and said in :attr:`Photo.notes`: RGBA and LA lose
their alpha channel; palette (``P``, ``PA``), CMYK, YCbCr, LAB and HSV images become RGB;
1-bit images become 8-bit gray; a JPEG or TIFF with an EXIF orientation is turned upright (as
viewers show it). 16-bit gray (Pillow ``I;16*``, and ``I`` within 16 bits) is exact. Pillow
reads 16-bit *colour* PNGs and TIFFs as 8-bit RGB (their high bytes); the low bytes are
decoded by a second pass of Pillow's own decoder with the byte order swapped, so all 16 bits
arrive (if that pass fails, the 8-bit image is kept with a note). 32-bit float images are
refused. Each header is checked against :func:`~latentkit.data.limits.max_image_pixels`
before anything is decoded.

Writing. :func:`write_photo` writes atomically in the format of the file's suffix: PNG and
TIFF at 8 or 16 bits, JPEG, BMP and WebP at 8 bits (JPEG and WebP at quality 95), with the
input's ICC colour profile when given. Pillow cannot write 16-bit colour, so 16-bit RGB PNGs
(Sub-filtered, zlib) and TIFFs (uncompressed, one strip) are encoded here.
"""

from __future__ import annotations

import dataclasses
import os
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor

from latentkit._io import atomic_path
from latentkit.data.limits import check_image_pixels
from latentkit.errors import DataError

__all__ = [
    "FORMATS",
    "WRITABLE",
    "Photo",
    "fit_to_shape",
    "photo_files",
    "read_photo",
    "write_photo",
]

#: file suffix -> Pillow format name, for the image files latentkit reads
FORMATS: dict[str, str] = {
    ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF",
    ".bmp": "BMP", ".webp": "WEBP", ".gif": "GIF",
}  # fmt: skip

#: formats :func:`write_photo` writes -> the bit depths each holds
WRITABLE: dict[str, tuple[int, ...]] = {
    "PNG": (8, 16), "TIFF": (8, 16), "JPEG": (8,), "BMP": (8,), "WEBP": (8,),
}  # fmt: skip

#: Pillow save options per format (JPEG and WebP at quality 95, TIFF deflate-compressed)
_SAVE_OPTIONS: dict[str, dict[str, Any]] = {
    "JPEG": {"quality": 95}, "WEBP": {"quality": 95}, "TIFF": {"compression": "tiff_deflate"},
}  # fmt: skip
#: colour spaces converted to RGB whose ICC profile does not describe the result
_OTHER_SPACES = frozenset({"CMYK", "YCbCr", "LAB", "HSV"})
_GRAY_SIXTEEN = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
_DROPS_ALPHA = {"RGBA": "RGB", "RGBa": "RGB", "LA": "L", "La": "L", "PA": "RGB"}
_READ_ERRORS = (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError)


@dataclasses.dataclass
class Photo:
    """One image file, decoded.

    Attributes
    ----------
    pixels : Tensor of shape (C, H, W), float32
        Values in [0, 1]; C is 1 (gray) or 3 (RGB); upright (EXIF orientation applied).
    path : Path
        The file it was read from.
    format : str
        Pillow's name of the file format: ``"PNG"``, ``"JPEG"``, ``"TIFF"``, ``"BMP"``,
        ``"WEBP"``, ``"GIF"``.
    bits : int
        8 or 16: the precision of the file's values.
    notes : tuple of str
        What was converted on reading (e.g. ``"RGBA converted to RGB (alpha dropped)"``).
    icc_profile : bytes or None
        The file's embedded colour profile, to be written back with the result.
    """

    pixels: Tensor
    path: Path
    format: str
    bits: int = 8
    notes: tuple[str, ...] = ()
    icc_profile: bytes | None = None

    @property
    def channels(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """(H, W)."""
        return int(self.pixels.shape[1]), int(self.pixels.shape[2])


def photo_files(folder: str | Path) -> list[Path]:
    """The image files under ``folder`` and its subfolders, sorted; hidden ones skipped.

    Symbolic links to folders are not followed (no loops); files are found by suffix
    (:data:`FORMATS`).
    """
    root = Path(folder)
    found: list[Path] = []
    for parent, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [
            Path(parent) / f
            for f in files
            if not f.startswith(".") and Path(f).suffix.lower() in FORMATS
        ]
    return sorted(found, key=lambda p: p.relative_to(root).parts)


def _unreadable(path: Path, exc: BaseException) -> DataError:
    if isinstance(exc, Image.DecompressionBombError):
        return DataError(f"{path}: refused, the image is too large to decode safely ({exc}).")
    kinds = ", ".join(sorted({f.lower() for f in FORMATS.values()}))
    return DataError(
        f"{path}: cannot read this image ({exc}). Expected an image file ({kinds}) that "
        "Pillow can decode; remove or replace the file."
    )


def read_photo(path: str | Path) -> Photo:
    """Read one image file as a :class:`Photo` (see the module docstring for conversions).

    Raises
    ------
    DataError
        An unreadable file, a float image, 32-bit values beyond 16 bits, or an image over the
        pixel limit (:mod:`latentkit.data.limits`).
    """
    path = Path(path)
    try:
        with Image.open(path) as img:
            check_image_pixels(path, *img.size)  # before decoding anything
            mode = img.mode
            pixels, bits, notes = _decode(path, img)
            fmt = img.format or FORMATS.get(path.suffix.lower(), "PNG")
            icc = img.info.get("icc_profile") or None
            if mode in _OTHER_SPACES:  # its profile describes CMYK, LAB...: not the RGB result
                icc = None
            orientation = _orientation(img)
    except DataError:
        raise
    except (Image.DecompressionBombError, *_READ_ERRORS) as exc:
        raise _unreadable(path, exc) from exc
    if orientation not in (None, 1):
        pixels = _upright(pixels, orientation)
        notes.append(f"turned upright (EXIF orientation {orientation})")
    scale = np.float32(65535.0 if bits == 16 else 255.0)
    chw = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1), dtype=np.float32))
    chw /= scale  # (C, H, W) in [0, 1]
    return Photo(chw, path, fmt, bits, tuple(notes), icc if isinstance(icc, bytes) else None)


def _decode(path: Path, img: Image.Image) -> tuple[np.ndarray, int, list[str]]:
    """(H, W, C) values (C = 1 or 3), their bit depth and the conversion notes."""
    mode, notes = img.mode, []
    if mode == "F":
        raise DataError(
            f"{path}: 32-bit floating-point images are not supported; convert the file to 8 or "
            "16 bits per channel."
        )
    if mode in _GRAY_SIXTEEN:
        values = np.array(img, dtype=np.int64)  # (H, W): every 16-bit byte order, exactly
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise DataError(
                f"{path}: pixel values from {values.min()} to {values.max()} do not fit 16 "
                "bits; expected 8- or 16-bit images. Convert the file."
            )
        return values.astype(np.uint16)[..., None], 16, notes
    if mode in ("RGB", "RGBA") and _is_sixteen_bit(img):
        wide = _sixteen_bit_colour(path, img)  # loads img: its 8-bit reading stays usable
        if wide is not None:
            if mode == "RGBA":
                notes.append("RGBA converted to RGB (alpha dropped)")
            return wide[..., :3], 16, notes
        notes.append("16-bit colour read at 8-bit precision")
    target = _DROPS_ALPHA.get(mode, mode)
    if mode in _DROPS_ALPHA:
        what = "gray" if target == "L" else "RGB"
        notes.append(f"{mode} converted to {what} (alpha dropped)")
    elif mode == "P":
        target = "RGB"
        dropped = " (transparency dropped)" if "transparency" in img.info else ""
        notes.append(f"palette image converted to RGB{dropped}")
    elif mode == "1":
        target = "L"
        notes.append("1-bit image converted to 8-bit gray")
    elif mode not in ("L", "RGB"):
        target = "RGB"
        notes.append(f"{mode} converted to RGB")
    if img.mode != target:
        img = img.convert(target)
    values = np.array(img, dtype=np.uint8)
    return values.reshape(values.shape[0], values.shape[1], -1), 8, notes


def _rawmode(tile: Any) -> str | None:
    args = tile.args
    first = args if isinstance(args, str) else (args[0] if args else None)
    return first if isinstance(first, str) else None


def _is_sixteen_bit(img: Image.Image) -> bool:
    modes = [_rawmode(t) for t in img.tile]
    return bool(modes) and all(m is not None and m[-4:-1] == ";16" for m in modes)


def _swapped(rawmode: str) -> str:
    """The rawmode reading the other byte of each 16-bit value (the low byte)."""
    order = rawmode[-1]
    if order == "N":
        order = "L" if sys.byteorder == "little" else "B"
    return rawmode[:-1] + {"L": "B", "B": "L"}[order]


def _sixteen_bit_colour(path: Path, img: Image.Image) -> np.ndarray | None:
    """(H, W, C) uint16 of a 16-bit RGB(A) image: Pillow's 8-bit reading gives the high bytes,
    a second decode with the byte order swapped gives the low bytes; None if that fails."""
    tiles = list(img.tile)  # read before load(), which empties it
    try:
        swapped = []
        for tile in tiles:
            args = tile.args
            rawmode = _swapped(_rawmode(tile) or "")
            new = rawmode if isinstance(args, str) else (rawmode, *tuple(args)[1:])
            swapped.append(tile._replace(args=new))
        high = np.array(img, dtype=np.uint8)
        with Image.open(path) as again:
            again.tile = swapped
            low = np.array(again, dtype=np.uint8)
    except Exception:  # Pillow internals: any failure means "keep the 8 bits"
        return None
    if low.shape != high.shape or high.ndim != 3:
        return None
    return (high.astype(np.uint16) << 8) | low


def _orientation(img: Image.Image) -> int | None:
    try:
        value = img.getexif().get(0x0112)
    except Exception:  # a malformed EXIF block only loses the rotation
        return None
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def _upright(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (2..8) to (H, W, C) values, as ``ImageOps.exif_transpose``."""
    if orientation in (5, 7):  # transposed, then as 1 or 3
        pixels = pixels.transpose(1, 0, 2)
        return pixels if orientation == 5 else pixels[::-1, ::-1]
    turns = {2: None, 3: 2, 4: None, 6: -1, 8: 1}[orientation]
    if orientation == 2:
        return pixels[:, ::-1]
    if orientation == 4:
        return pixels[::-1]
    return np.rot90(pixels, turns)


def fit_to_shape(images: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Images ``(N, C, H, W)`` made ``(N, *shape)``: gray to RGB by repetition, RGB to gray by
    BT.601 luma, and a bilinear, antialiased resize when the size differs.

    For a model of fixed input size fed a user's images (encode, evaluate, reconstruct...).
    """
    from latentkit.data.transforms import rgb_to_gray

    channels, height, width = shape
    if images.shape[1] == 3 and channels == 1:
        images = rgb_to_gray(images)
    elif images.shape[1] == 1 and channels == 3:
        images = images.expand(-1, 3, -1, -1)
    if tuple(images.shape[-2:]) != (height, width):
        images = torch.nn.functional.interpolate(
            images, size=(height, width), mode="bilinear", antialias=True, align_corners=False
        ).clamp(0, 1)
    return images.contiguous()


def write_photo(
    path: str | Path,
    pixels: Tensor | np.ndarray,
    *,
    bits: int = 8,
    icc_profile: bytes | None = None,
) -> Path:
    """Write ``pixels`` (C, H, W) in [0, 1] (C = 1 or 3) atomically, as the suffix says.

    Parameters
    ----------
    path : str or Path
        ``.png``, ``.jpg``/``.jpeg``, ``.tif``/``.tiff``, ``.bmp`` or ``.webp``.
    bits : {8, 16}
        Bits per value; 16 only for PNG and TIFF (see :data:`WRITABLE`).
    icc_profile : bytes, optional
        Colour profile to embed.

    Raises
    ------
    DataError
        An unknown suffix, a bit depth the format cannot hold, or a wrong shape.
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt not in WRITABLE:
        kinds = ", ".join(s for s, f in FORMATS.items() if f in WRITABLE)
        raise DataError(f"cannot write {path.name}: the extension must be one of {kinds}.")
    if bits not in WRITABLE[fmt]:
        raise DataError(f"cannot write {path.name}: {fmt} holds {WRITABLE[fmt]} bits, not {bits}.")
    array = np.asarray(pixels.detach().cpu() if isinstance(pixels, Tensor) else pixels)
    if array.ndim != 3 or array.shape[0] not in (1, 3):
        raise DataError(f"cannot write {path.name}: expected (1 or 3, H, W), got {array.shape}.")
    top = 65535 if bits == 16 else 255
    values = np.rint(np.clip(np.nan_to_num(array, nan=0.0), 0, 1) * top)
    dtype = np.uint16 if bits == 16 else np.uint8
    hwc = np.ascontiguousarray(values.transpose(1, 2, 0).astype(dtype))  # (H, W, C)
    with atomic_path(path) as tmp:
        if bits == 16 and hwc.shape[2] == 3:
            encode = _png_rgb16 if fmt == "PNG" else _tiff_rgb16
            tmp.write_bytes(encode(hwc, icc_profile))
        else:
            image = Image.fromarray(hwc[..., 0] if hwc.shape[2] == 1 else hwc)
            options: dict[str, Any] = dict(_SAVE_OPTIONS.get(fmt, {}))
            if icc_profile and fmt != "BMP":
                options["icc_profile"] = icc_profile
            image.save(tmp, format=fmt, **options)
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_rgb16(hwc: np.ndarray, icc: bytes | None) -> bytes:
    """A 16-bit RGB PNG of (H, W, 3) uint16: every row Sub-filtered (PNG filter 1)."""
    h, w, _ = hwc.shape
    raw = hwc.astype(">u2").view(np.uint8).reshape(h, w * 6)  # big-endian bytes per row
    sub = raw.copy()
    sub[:, 6:] -= raw[:, :-6]  # uint8 arithmetic wraps modulo 256, as the filter wants
    rows = np.concatenate([np.ones((h, 1), np.uint8), sub], axis=1)
    chunks = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
    if icc:
        chunks += _png_chunk(b"iCCP", b"icc\0\0" + zlib.compress(icc))
    chunks += _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
    return b"\x89PNG\r\n\x1a\n" + chunks + _png_chunk(b"IEND", b"")


def _tiff_rgb16(hwc: np.ndarray, icc: bytes | None) -> bytes:
    """A baseline little-endian TIFF of (H, W, 3) uint16: uncompressed, one strip."""
    h, w, _ = hwc.shape
    data = hwc.astype("<u2").tobytes()
    entries = 11 if icc else 10
    extra = 8 + 2 + 12 * entries + 4  # where the values too long for an entry start
    bits_at, data_at = extra, extra + 6
    icc_at = data_at + len(data)
    short, long_, undefined = 3, 4, 7

    def entry(tag: int, kind: int, count: int, value: int) -> bytes:
        packed = (
            struct.pack("<HH", value, 0)
            if kind == short and count == 1
            else struct.pack("<I", value)
        )
        return struct.pack("<HHI", tag, kind, count) + packed

    ifd = [
        entry(256, long_, 1, w), entry(257, long_, 1, h), entry(258, short, 3, bits_at),
        entry(259, short, 1, 1), entry(262, short, 1, 2), entry(273, long_, 1, data_at),
        entry(277, short, 1, 3), entry(278, long_, 1, h), entry(279, long_, 1, len(data)),
        entry(284, short, 1, 1),
    ]  # fmt: skip
    if icc:
        ifd.append(entry(34675, undefined, len(icc), icc_at))
    head = b"II" + struct.pack("<HI", 42, 8) + struct.pack("<H", entries) + b"".join(ifd)
    return head + struct.pack("<I", 0) + struct.pack("<3H", 16, 16, 16) + data + (icc or b"")
