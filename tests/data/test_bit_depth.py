"""Images are scaled by their real bit depth: 16-bit PNGs span [0, 1] instead of saturating."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentkit.data.images import load_image_folder
from latentkit.errors import DataError


def png_16bit(path: Path, pixels: np.ndarray) -> Path:
    """Write ``pixels`` (H, W) or (H, W, 3) uint16 as a 16-bit PNG, independently of Pillow."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    h, w = pixels.shape[:2]
    color = 2 if pixels.ndim == 3 else 0  # truecolour or grayscale
    rows = b"".join(b"\0" + pixels[r].astype(">u2").tobytes() for r in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, color, 0, 0, 0)
    data = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + data)
    return path


def test_16_bit_gray_png_spans_zero_to_one(tmp_path: Path) -> None:
    png_16bit(tmp_path / "g.png", np.array([[0, 32768, 65535]], np.uint16))
    assert Image.open(tmp_path / "g.png").mode.startswith("I")  # Pillow keeps 16 bits
    gray = load_image_folder(tmp_path, mode="gray")
    assert gray.x.shape == (1, 1, 1, 3)
    np.testing.assert_allclose(gray.x[0, 0, 0].numpy(), [0.0, 32768 / 65535, 1.0], rtol=1e-6)
    rgb = load_image_folder(tmp_path, mode="rgb")
    assert rgb.x.shape == (1, 3, 1, 3)
    np.testing.assert_allclose(rgb.x[0, :, 0].numpy(), np.tile(gray.x[0, 0, 0].numpy(), (3, 1)))


def test_16_bit_gray_png_resized_and_cut_keeps_its_range(tmp_path: Path) -> None:
    ramp = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    png_16bit(tmp_path / "ramp.png", ramp)
    x = load_image_folder(tmp_path, mode="gray", size=(32, 32)).x
    assert x.shape == (1, 1, 32, 32) and float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert float(x.max()) > 0.95 and float(x.min()) < 0.05  # not saturated
    assert len(np.unique(x.numpy())) > 256  # finer than 8 bits
    patches = load_image_folder(tmp_path, mode="gray", patch_size=32).x
    assert patches.shape == (4, 1, 32, 32)
    np.testing.assert_allclose(patches[0, 0].numpy(), ramp[:32, :32] / 65535, rtol=1e-6)


def test_16_bit_rgb_png_is_read_at_8_bits_with_the_right_scale(tmp_path: Path) -> None:
    # Pillow reads 16-bit truecolour PNGs as 8-bit "RGB" (the high byte, rounded): the scale
    # is right, the precision 8 bits
    pixels = np.zeros((2, 3, 3), np.uint16)
    pixels[0, 0] = [65535, 32768, 0]
    png_16bit(tmp_path / "c.png", pixels)
    x = load_image_folder(tmp_path, mode="rgb").x
    np.testing.assert_allclose(x[0, :, 0, 0].numpy(), [1.0, 128 / 255, 0.0], rtol=1e-6)


def test_8_bit_images_are_unchanged(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0, 51, 255]], np.uint8)).save(tmp_path / "a.png")
    x = load_image_folder(tmp_path, mode="gray").x
    assert x[0, 0, 0].tolist() == pytest.approx([0.0, 0.2, 1.0], rel=1e-7)


def test_32_bit_integer_images_beyond_16_bits_are_refused(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0, 70000]], np.int32)).save(tmp_path / "wide.tif")
    with pytest.raises(DataError, match=r"wide\.tif.*65535"):
        load_image_folder(tmp_path, mode="gray")
