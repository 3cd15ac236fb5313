"""Memory bounds of every reader: the sizes a file announces (npy/npz headers, zip entries,
image headers, IDX headers, CSV file sizes, Parquet metadata) are checked against
``latentkit.data.limits`` before anything that size is allocated, and the float32 result is
filled in place, without a second full copy.

Tests that must not allocate use announced sizes that could never be allocated (10**15
values): a reader that trusted them would die with MemoryError instead of a DataError. Tests
of the limit itself lower it with ``LATENTKIT_MAX_DATA_BYTES`` so that small files exceed it.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from latentkit.data.images import load_image_folder
from latentkit.data.limits import MAX_DATA_BYTES, MAX_IMAGE_PIXELS
from latentkit.data.mnist import MNIST
from latentkit.data.tables import load_table
from latentkit.errors import DataError
from tests.conftest import REPO

HUGE = 10**15  # values: 8 PB of float64, never allocatable


def npy_header(shape: tuple[int, ...], descr: str = "<f8", fortran: bool = False) -> bytes:
    """The magic string and header of a .npy file announcing ``shape`` (no data)."""
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": fortran, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def npz(path: Path, members: dict[str, bytes], compress: bool = False) -> Path:
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return path


def refused(match: str, load, *args, **kwargs) -> str:
    with pytest.raises(DataError, match=match) as info:
        load(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message, "one line"
    return message


# -- .npy and .npz --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(HUGE,), (10**8, 10**7), (HUGE, 0, 3)])
def test_npy_header_announcing_absurd_shapes_is_refused_before_allocating(tmp_path, shape):
    path = tmp_path / "huge.npy"
    path.write_bytes(npy_header(shape) + b"\0" * 64)
    if 0 in shape:  # zero values, but a 3-d array: refused for its shape, not its size
        refused(r"expected a 1-d or 2-d array", load_table, path)
        return
    message = refused(r"huge\.npy", load_table, path)
    assert "LATENTKIT_MAX_DATA_BYTES" in message or "truncated" in message


def test_npy_header_within_the_limit_but_beyond_the_file_is_truncated(tmp_path) -> None:
    path = tmp_path / "short.npy"
    path.write_bytes(npy_header((1000, 100)) + b"\0" * 64)  # announces 800 KB, holds 64 B
    refused(r"short\.npy.*truncated.*800,000 bytes", load_table, path)


@pytest.mark.parametrize("cut", [20, 30, 40])
def test_npy_header_cut_inside_its_dict_is_a_data_error(tmp_path, cut) -> None:
    # numpy's header parser raised tokenize.TokenError here, which escaped np.load
    header = npy_header((3, 2))
    length = cut - 10  # the header length field counts the bytes after itself
    path = tmp_path / "cut.npy"
    path.write_bytes(header[:8] + struct.pack("<H", length) + header[10:cut])
    refused(r"cut\.npy: cannot read it as npy", load_table, path)


def test_npz_member_header_announcing_a_huge_shape_is_refused(tmp_path) -> None:
    path = npz(tmp_path / "huge.npz", {"x.npy": npy_header((10**8, 10**7)) + b"\0" * 64})
    assert path.stat().st_size < 1000
    message = refused(r"huge\.npz", load_table, path)
    assert "'x'" in message and str(MAX_DATA_BYTES) in message.replace(",", "")


def test_npz_member_larger_than_its_zip_entry_is_refused(tmp_path) -> None:
    path = npz(tmp_path / "short.npz", {"x.npy": npy_header((1000, 100)) + b"\0" * 64})
    refused(r"short\.npz.*'x'.*truncated", load_table, path)


def test_npz_with_an_unsupported_compression_method_is_a_data_error(tmp_path) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((2, 2)))
    path = npz(tmp_path / "odd.npz", {"x.npy": buffer.getvalue()})
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    for at in (8, central + 10):  # the method field of the local and the central header
        data[at : at + 2] = struct.pack("<H", 99)
    path.write_bytes(bytes(data))
    refused(r"odd\.npz.*compression method", load_table, path)  # was NotImplementedError


def test_unused_npz_members_are_never_read(tmp_path) -> None:
    junk = npy_header((HUGE,)) + b"\0" * 64
    x = io.BytesIO()
    np.save(x, np.arange(6.0).reshape(3, 2))
    path = npz(tmp_path / "t.npz", {"x.npy": x.getvalue(), "junk.npy": junk})
    assert load_table(path).x.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    with pytest.raises(DataError, match="'junk'"):  # unless it is asked for as the label
        load_table(path, label="junk")


def test_compressed_npz_over_the_limit_is_refused_naming_size_limit_and_fix(
    tmp_path, monkeypatch
) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((1 << 18, 8)))  # 16 MiB of float64 zeros ...
    path = npz(tmp_path / "zeros.npz", {"x.npy": buffer.getvalue()}, compress=True)
    assert path.stat().st_size < 100_000  # ... in a file of a few KB
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", str(1 << 20))
    message = refused(r"zeros\.npz", load_table, path)
    assert "8,388,608" in message  # the float32 result it would give: 2**21 values * 4
    assert "1,048,576" in message and "LATENTKIT_MAX_DATA_BYTES" in message
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", str(1 << 30))  # raising the limit works
    assert load_table(path).x.shape == (1 << 18, 8)


def test_npy_over_the_limit_is_refused(tmp_path, monkeypatch) -> None:
    np.save(tmp_path / "a.npy", np.ones((1000, 300), np.uint8))
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", "1000000")  # the float32 result is 1.2 MB
    refused(r"a\.npy.*1,200,000 bytes.*1,000,000", load_table, tmp_path / "a.npy")


def test_a_bad_limit_setting_is_a_clear_error(tmp_path, monkeypatch) -> None:
    np.save(tmp_path / "a.npy", np.ones((2, 2)))
    for value in ("lots", "-5", "1e9"):
        monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", value)
        refused(r"LATENTKIT_MAX_DATA_BYTES.*whole number of bytes", load_table, tmp_path / "a.npy")


# -- CSV and Parquet ------------------------------------------------------------------------


def test_csv_larger_than_the_limit_is_refused_before_parsing(tmp_path, monkeypatch) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n" + "1,2\n" * 5000)  # 20 KB
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", "40000")
    refused(r"t\.csv.*20,004 bytes.*LATENTKIT_MAX_DATA_BYTES", load_table, path)
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", "1000000")
    assert load_table(path).x.shape == (5000, 2)


def test_parquet_announcing_more_than_the_limit_is_refused_before_reading(
    tmp_path, monkeypatch
) -> None:
    n = 50_000
    table = pa.table({"a": np.zeros(n), "b": np.zeros(n), "c": np.zeros(n)})
    pq.write_table(table, tmp_path / "t.parquet")  # zeros: a few KB on disk
    assert (tmp_path / "t.parquet").stat().st_size < 20_000
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", "500000")
    refused(r"t\.parquet.*LATENTKIT_MAX_DATA_BYTES", load_table, tmp_path / "t.parquet")
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", "10000000")
    assert load_table(tmp_path / "t.parquet").x.shape == (n, 3)


def test_streamed_parquet_row_groups_are_checked_against_the_limit(tmp_path, monkeypatch) -> None:
    from latentkit.data.streaming import ParquetBatches

    n = 50_000
    pq.write_table(pa.table({"a": np.zeros(n), "b": np.zeros(n)}), tmp_path / "t.parquet")
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", "100000")
    refused(r"t\.parquet.*row group", ParquetBatches, tmp_path / "t.parquet", 10)


def test_a_streamed_npy_batch_over_the_limit_is_refused(tmp_path, monkeypatch) -> None:
    from latentkit.data.streaming import NpyBatches

    np.save(tmp_path / "a.npy", np.zeros((1000, 100), np.uint8))
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", "100000")
    refused(r"a\.npy.*one batch of 1,000 rows.*400,000 bytes", NpyBatches, tmp_path / "a.npy", 5000)
    assert len(NpyBatches(tmp_path / "a.npy", 200)) == 5  # 80,000 bytes a batch


# -- images ---------------------------------------------------------------------------------


def png_header_only(width: int, height: int, bit_depth: int = 8, color: int = 2) -> bytes:
    """A PNG whose header announces ``width`` x ``height`` with a few bytes of pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [None, (8, 8)])
def test_png_announcing_12000_by_12000_pixels_is_refused_before_decoding(tmp_path, size):
    # 144 million pixels: under Pillow's own hard limit (about 179 million), so Pillow
    # would decode it (4.6 GB in the attack); latentkit's pixel limit refuses it first
    (tmp_path / "big.png").write_bytes(png_header_only(12000, 12000))
    with pytest.warns(Image.DecompressionBombWarning):  # Pillow warns when it opens it
        message = refused(r"big\.png: refused", load_image_folder, tmp_path, size=size)
    assert "12000 x 12000" in message and "LATENTKIT_MAX_IMAGE_PIXELS" in message
    assert f"{MAX_IMAGE_PIXELS:,}" in message


def test_image_pixel_limit_can_be_raised_and_lowered(tmp_path, monkeypatch) -> None:
    Image.new("L", (40, 30)).save(tmp_path / "a.png")
    monkeypatch.setenv("LATENTKIT_MAX_IMAGE_PIXELS", "1000")
    refused(r"a\.png: refused.*40 x 30.*1,000", load_image_folder, tmp_path)
    monkeypatch.setenv("LATENTKIT_MAX_IMAGE_PIXELS", "1200")
    assert load_image_folder(tmp_path).x.shape == (1, 3, 30, 40)


def test_image_folder_over_the_dataset_limit_is_refused_before_decoding(
    tmp_path, monkeypatch
) -> None:
    for name in ("a.png", "b.png"):
        Image.new("RGB", (300, 300)).save(tmp_path / name)  # 1,080,000 bytes of float32 each
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", str(1 << 21))
    message = refused(r"2 images.*2,160,000 bytes.*2,097,152", load_image_folder, tmp_path)
    assert str(tmp_path) in message and "LATENTKIT_MAX_DATA_BYTES" in message
    # what counts is the result: 2 x 3 x 100 x 100 floats after resizing fit easily
    assert load_image_folder(tmp_path, size=(100, 100)).x.shape == (2, 3, 100, 100)
    grid = load_image_folder(tmp_path, patch_size=200)  # one 200 x 200 patch per image
    assert grid.x.shape == (2, 3, 200, 200)


# -- IDX ------------------------------------------------------------------------------------


def idx_header(shape: tuple[int, ...]) -> bytes:
    return bytes([0, 0, 0x08, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def test_idx_whose_float32_images_exceed_the_limit_is_refused_before_reading(tmp_path) -> None:
    # 127 x 4096 x 4096 bytes is under MAX_IDX_BYTES (2 GiB), but 8 GiB as float32
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(idx_header((127, 4096, 4096)) + b"\0" * 1000)
    )
    labels = idx_header((127,)) + bytes(127)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    message = refused(r"t10k-images", MNIST.load, "test", root=tmp_path, download=False)
    # 127 * 4096 * 4096 float32 values and 127 int64 labels
    assert "8,522,826,744" in message and "LATENTKIT_MAX_DATA_BYTES" in message


def test_idx_split_over_a_lowered_limit_is_refused(tmp_path, monkeypatch) -> None:
    images = idx_header((100, 28, 28)) + bytes(100 * 28 * 28)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(images)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_header((100,)) + bytes(100))
    monkeypatch.setenv("LATENTKIT_MAX_DATA_BYTES", "200000")  # x and y take 313,600 + 800
    refused(r"314,400 bytes.*200,000", MNIST.load, "test", root=tmp_path, download=False)
    monkeypatch.delenv("LATENTKIT_MAX_DATA_BYTES")
    assert MNIST.load("test", root=tmp_path, download=False).x.shape == (100, 1, 28, 28)


# -- peak memory: the float32 result is the only full-size allocation -------------------------

_PEAK = """
import json, re, sys
from pathlib import Path
from latentkit.data.images import load_image_folder
from latentkit.data.tables import load_table
try:  # pyarrow's to_numpy imports pandas when it is installed (the tables extra): a module
    import pandas  # noqa: F401  import, not an allocation of the loader, so done before
except ImportError:
    pass

def status(field):
    text = Path("/proc/self/status").read_text()
    return int(re.search(field + r":\\s+(\\d+) kB", text).group(1)) * 1024

import pyarrow.csv
load = {"folder": load_image_folder, "arrow": pyarrow.csv.read_csv}.get(sys.argv[1], load_table)
Path("/proc/self/clear_refs").write_text("5")  # resets the peak (VmHWM) to the current RSS
before = status("VmRSS")
data = load(sys.argv[2])
result = data.num_rows * data.num_columns * 4 if sys.argv[1] == "arrow" else data.x.numel() * 4
print(json.dumps({"delta": status("VmHWM") - before, "result": result}))
"""


def peak_memory(kind: str, path: Path) -> tuple[int, int]:
    """(peak RSS growth, bytes of the float32 result) of loading ``path`` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, kind, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.splitlines()[-1])
    return report["delta"], report["result"]


@pytest.mark.skipif(
    not os.access("/proc/self/clear_refs", os.W_OK), reason="needs Linux to reset the peak RSS"
)
@pytest.mark.parametrize("kind", ["npy", "npz", "csv", "folder"])
def test_loading_allocates_little_beyond_the_float32_result(tmp_path, kind) -> None:
    rng = np.random.default_rng(0)
    if kind == "folder":  # 6 RGB images of 800 x 800: 46 MB of float32
        for i in range(6):
            pixels = rng.integers(0, 256, (800, 800, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / f"{i}.png", compress_level=1)
        path = tmp_path
    elif kind == "csv":  # 8,000,000 one-digit values: 32 MB of float32
        path = tmp_path / "t.csv"
        row = ",".join("1" for _ in range(200)) + "\n"
        path.write_text(",".join(f"c{i}" for i in range(200)) + "\n" + row * 40_000)
    else:  # 64 MB of float64: 32 MB of float32
        array = rng.random((8000, 1000))
        path = tmp_path / f"t.{kind}"
        if kind == "npy":
            np.save(path, array)
        else:
            np.savez_compressed(path, x=array)
        del array
    delta, result = peak_memory(kind, path)
    # the old readers held two to four full copies (file values, float64 columns, their
    # stack, float32); the readers now hold the result plus one block or one image, and for
    # a CSV file what pyarrow's parser takes on its own (measured alone, in another process)
    allowed = 1.5 * result
    if kind == "csv":
        # pyarrow's threaded parser peaks differently from run to run (seen: +-15 MB at
        # 32 MB here): compare the smaller of two loads with the larger of two parser runs
        delta = min(delta, peak_memory(kind, path)[0])
        parser = max(peak_memory("arrow", path)[0] for _ in range(2))
        allowed = parser + 2.5 * result
    assert delta < allowed, f"peak grew by {delta:,} bytes for a {result:,}-byte result"
