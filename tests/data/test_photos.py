"""One image file at a time: every format and bit depth read, converted and written back."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

from latentkit.data.photos import fit_to_shape, photo_files, read_photo, write_photo
from latentkit.errors import DataError

RNG = np.random.default_rng(0)
RGB = (RNG.random((12, 17, 3)) * 255).astype(np.uint8)
GRAY16 = (RNG.random((9, 11)) * 65535).astype(np.uint16)
RGB16 = (RNG.random((10, 13, 3)) * 65535).astype(np.uint16)


def png16(path: Path, pixels: np.ndarray) -> Path:
    """A 16-bit PNG written without Pillow, its rows cycling through all five PNG filters."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    h, w = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    bpp = 2 * channels
    raw = pixels.astype(">u2").reshape(h, -1).view(np.uint8).astype(np.int64)
    rows = []
    for r in range(h):
        x, up = raw[r], raw[r - 1] if r else np.zeros_like(raw[r])
        left = np.concatenate([np.zeros(bpp, np.int64), x[:-bpp]])
        corner = np.concatenate([np.zeros(bpp, np.int64), up[:-bpp]])
        p = left + up - corner
        pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
        paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, corner))
        kind = r % 5
        predicted = [0, left, up, (left + up) // 2, paeth][kind]
        rows.append(bytes([kind]) + ((x - predicted) % 256).astype(np.uint8).tobytes())
    color = {1: 0, 3: 2, 4: 6}[channels]
    ihdr = struct.pack(">IIBBBBB", w, h, 16, color, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b""))
    return path


def decode_png16_rgb(path: Path) -> np.ndarray:
    """Decode a 16-bit RGB PNG whose rows use filters None or Sub, independently of Pillow."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
            assert body[8:10] == bytes([16, 2])  # 16 bits, truecolour
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    w, h = size
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + 6 * w)
    out = []
    for row in rows:
        line = row[1:].reshape(w, 6)
        assert row[0] in (0, 1)
        out.append(np.cumsum(line, axis=0, dtype=np.uint8) if row[0] == 1 else line)
    return np.stack(out).reshape(h, w * 6).view(">u2").reshape(h, w, 3).astype(np.uint16)


def as_hwc(photo) -> np.ndarray:
    return photo.pixels.permute(1, 2, 0).numpy()


@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp", ".jpg", ".webp"])
@pytest.mark.parametrize("gray", [False, True])
def test_8_bit_files_round_trip(tmp_path, suffix, gray):
    pixels = RGB[..., 0] if gray else RGB
    Image.fromarray(pixels).save(tmp_path / f"a{suffix}")
    photo = read_photo(tmp_path / f"a{suffix}")
    channels = 1 if gray and suffix != ".webp" else 3  # WebP stores no gray
    assert photo.bits == 8 and photo.channels == channels and photo.size == (12, 17)
    assert photo.format == {".tif": "TIFF", ".jpg": "JPEG"}.get(suffix, suffix[1:].upper())
    assert (
        photo.pixels.dtype == torch.float32 and 0 <= photo.pixels.min() <= photo.pixels.max() <= 1
    )
    lossy = suffix in (".jpg", ".webp")
    if not lossy:
        np.testing.assert_array_equal(np.rint(as_hwc(photo) * 255)[..., 0], RGB[..., 0])
    write_photo(tmp_path / f"b{suffix}", photo.pixels, bits=8)
    again = read_photo(tmp_path / f"b{suffix}")
    assert again.pixels.shape == photo.pixels.shape and again.format == photo.format
    assert (again.pixels - photo.pixels).abs().max() <= (0.2 if lossy else 0)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_gray_is_exact_both_ways(tmp_path, suffix):
    Image.fromarray(GRAY16).save(tmp_path / f"g{suffix}")
    photo = read_photo(tmp_path / f"g{suffix}")
    assert photo.bits == 16 and photo.channels == 1
    np.testing.assert_array_equal(np.rint(photo.pixels[0].numpy() * 65535), GRAY16)
    write_photo(tmp_path / f"o{suffix}", photo.pixels, bits=16)
    with Image.open(tmp_path / f"o{suffix}") as image:
        assert image.mode.startswith("I;16")
        np.testing.assert_array_equal(np.array(image), GRAY16)


def test_16_bit_colour_png_is_read_with_all_its_bits(tmp_path):
    for channels in (3, 4):  # RGB and RGBA (alpha dropped)
        pixels = np.dstack([RGB16, RGB16[..., :1]]) if channels == 4 else RGB16
        photo = read_photo(png16(tmp_path / f"c{channels}.png", pixels))
        assert photo.bits == 16 and photo.channels == 3
        np.testing.assert_array_equal(np.rint(as_hwc(photo) * 65535), RGB16)
        assert photo.notes == (("RGBA converted to RGB (alpha dropped)",) if channels == 4 else ())


def test_16_bit_colour_is_written_as_16_bit_png_and_tiff(tmp_path):
    pixels = torch.from_numpy(RGB16.transpose(2, 0, 1) / 65535.0).float()
    write_photo(tmp_path / "c.png", pixels, bits=16, icc_profile=b"profile")
    np.testing.assert_array_equal(decode_png16_rgb(tmp_path / "c.png"), RGB16)
    with Image.open(tmp_path / "c.png") as image:  # Pillow: high bytes, and the profile
        np.testing.assert_array_equal(np.array(image), RGB16 >> 8)
        assert image.info["icc_profile"] == b"profile"
    write_photo(tmp_path / "c.tif", pixels, bits=16)
    back = read_photo(tmp_path / "c.tif")
    assert back.bits == 16 and back.format == "TIFF"
    np.testing.assert_array_equal(np.rint(as_hwc(back) * 65535), RGB16)
    tifffile = pytest.importorskip("tifffile")
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "c.tif"), RGB16)


def test_16_bit_colour_tiff_from_another_writer(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    for name, options in (
        ("raw", {}),
        ("zlib", {"compression": "zlib"}),
        ("big", {"byteorder": ">"}),
    ):
        tifffile.imwrite(tmp_path / f"{name}.tif", RGB16, **options)
        photo = read_photo(tmp_path / f"{name}.tif")
        assert photo.bits == 16, name
        np.testing.assert_array_equal(np.rint(as_hwc(photo) * 65535), RGB16)


@pytest.mark.parametrize(
    ("mode", "channels", "note"),
    [
        ("RGBA", 3, "RGBA converted to RGB (alpha dropped)"),
        ("LA", 1, "LA converted to gray (alpha dropped)"),
        ("P", 3, "palette image converted to RGB"),
        ("1", 1, "1-bit image converted to 8-bit gray"),
        ("L", 1, None),
        ("RGB", 3, None),
    ],
)
def test_modes_are_converted_with_a_note(tmp_path, mode, channels, note):
    Image.fromarray(RGB).convert(mode).save(tmp_path / "m.png")
    photo = read_photo(tmp_path / "m.png")
    assert photo.channels == channels and photo.bits == 8
    assert photo.notes == ((note,) if note else ())


def test_cmyk_jpeg_and_transparent_palette(tmp_path):
    Image.fromarray(RGB).convert("CMYK").save(tmp_path / "c.jpg")
    assert read_photo(tmp_path / "c.jpg").notes == ("CMYK converted to RGB",)
    Image.fromarray(RGB).convert("P").save(tmp_path / "t.png", transparency=0)
    assert read_photo(tmp_path / "t.png").notes == (
        "palette image converted to RGB (transparency dropped)",
    )


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_as_pillow_does(tmp_path, orientation):
    image = Image.fromarray(RGB)
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(tmp_path / "e.png", exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "e.png")))
    photo = read_photo(tmp_path / "e.png")
    np.testing.assert_array_equal(np.rint(as_hwc(photo) * 255), expected)
    assert bool(photo.notes) == (orientation != 1)


def test_refusals_name_the_file(tmp_path, monkeypatch):
    Image.fromarray(np.zeros((4, 4), np.float32)).save(tmp_path / "f.tif")
    with pytest.raises(DataError, match=r"f\.tif: 32-bit floating-point"):
        read_photo(tmp_path / "f.tif")
    Image.fromarray(np.full((4, 4), 70000, np.int32)).save(tmp_path / "i.tif")
    with pytest.raises(DataError, match=r"i\.tif: pixel values .* do not fit 16 bits"):
        read_photo(tmp_path / "i.tif")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"bad\.png: cannot read this image"):
        read_photo(tmp_path / "bad.png")
    Image.fromarray(RGB).save(tmp_path / "big.png")
    monkeypatch.setenv("LATENTKIT_MAX_IMAGE_PIXELS", "100")
    with pytest.raises(DataError, match=r"big\.png: refused.*17 x 12"):
        read_photo(tmp_path / "big.png")


def test_write_refuses_what_the_format_cannot_hold(tmp_path):
    pixels = torch.rand(3, 4, 5)
    with pytest.raises(DataError, match="JPEG holds"):
        write_photo(tmp_path / "x.jpg", pixels, bits=16)
    with pytest.raises(DataError, match="extension must be one of"):
        write_photo(tmp_path / "x.gif", pixels)
    with pytest.raises(DataError, match="expected"):
        write_photo(tmp_path / "x.png", torch.rand(2, 4, 5))
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_photo_files_recurse_sorted_and_skip_hidden(tmp_path):
    for name in ("b.png", "a/z.jpg", "a/b/c.TIF", ".hidden.png", ".cache/x.png", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    found = [p.relative_to(tmp_path).as_posix() for p in photo_files(tmp_path)]
    assert found == ["a/b/c.TIF", "a/z.jpg", "b.png"]


def test_fit_to_shape_converts_channels_and_size():
    images = torch.rand(2, 3, 20, 30)
    gray = fit_to_shape(images, (1, 10, 15))
    assert gray.shape == (2, 1, 10, 15) and gray.min() >= 0 and gray.max() <= 1
    assert fit_to_shape(gray, (3, 10, 15)).shape == (2, 3, 10, 15)
    assert torch.equal(fit_to_shape(images, (3, 20, 30)), images)
