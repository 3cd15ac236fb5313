"""Fuzzing the data readers: every input loads or raises a DataError, never a raw
numpy/PIL/pyarrow exception, a hang or an absurd allocation."""

from __future__ import annotations

import gzip
import io
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from latentkit.data.idx import IDX_DTYPES, MAX_IDX_BYTES, parse_idx, read_idx
from latentkit.data.images import load_image_folder
from latentkit.data.tables import load_table
from latentkit.errors import DataError

FUZZ = settings(
    max_examples=60,
    deadline=2000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def idx_file(shape: tuple[int, ...], code: int = 0x08) -> bytes:
    values = np.zeros(shape, IDX_DTYPES[code])
    return bytes([0, 0, code, len(shape)]) + np.asarray(shape, ">u4").tobytes() + values.tobytes()


def loads_or_refuses(load, *args, **kwargs):
    """Call the loader: it returns, or raises DataError; anything else fails the test."""
    try:
        return load(*args, **kwargs)
    except DataError as exc:
        assert str(exc), "a DataError must say what went wrong"
        return None


# -- IDX ------------------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=200))
def test_idx_random_bytes(data: bytes) -> None:
    out = loads_or_refuses(parse_idx, data, "fuzz")
    if out is not None:  # only a file whose header matches its size exactly loads
        assert 4 + 4 * data[3] + out.nbytes == len(data)


@FUZZ
@given(
    shape=st.lists(st.integers(0, 5), min_size=0, max_size=4).map(tuple),
    code=st.sampled_from(sorted(IDX_DTYPES)),
    position=st.integers(0, 10_000),
    byte=st.integers(0, 255),
    cut=st.integers(0, 10_000),
)
def test_idx_mutated_and_truncated_valid_files(shape, code, position, byte, cut) -> None:
    valid = idx_file(shape, code)
    assert parse_idx(valid, "valid").shape == shape
    mutated = bytearray(valid)
    mutated[position % len(valid)] = byte
    loads_or_refuses(parse_idx, bytes(mutated), "mutated")
    truncated = valid[: cut % len(valid)]
    with pytest.raises(DataError):
        parse_idx(truncated, "truncated")


@FUZZ
@given(st.lists(st.integers(2**16, 2**32 - 1), min_size=1, max_size=6))
def test_idx_huge_claimed_dimensions_are_refused_without_allocating(sizes) -> None:
    header = bytes([0, 0, 0x0D, len(sizes)]) + struct.pack(f">{len(sizes)}I", *sizes)
    with pytest.raises(DataError, match="announces shape"):
        parse_idx(header + b"\0" * 64, "huge")


def test_idx_sizes_that_overflow_int64_are_refused() -> None:
    # 65536**4 == 2**64 wraps to 0 in int64: the reader once "expected" just the header
    header = bytes([0, 0, 0x08, 4]) + struct.pack(">4I", *[65536] * 4)
    with pytest.raises(DataError, match=str(MAX_IDX_BYTES)):
        parse_idx(header, "wrap")


def test_idx_gzip_bomb_is_not_decompressed_past_its_header(tmp_path: Path) -> None:
    # a 2x2 image followed by 64 MiB of zeros compresses to ~64 KB
    payload = idx_file((2, 2)) + b"\0" * (64 << 20)
    path = tmp_path / "bomb-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(payload, compresslevel=1))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(DataError, match="trailing bytes"):
        read_idx(path)
    huge = bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 60000, 4096, 4096)
    path.write_bytes(gzip.compress(huge + b"\0" * 1000))
    with pytest.raises(DataError, match="more than"):
        read_idx(path)


@FUZZ
@given(st.binary(max_size=300))
def test_idx_random_gzip_files(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "x-idx1-ubyte.gz"
        raw.write_bytes(data)
        loads_or_refuses(read_idx, raw)
        raw.write_bytes(gzip.compress(data))
        loads_or_refuses(read_idx, raw)


# -- image folders --------------------------------------------------------------------------


def png(size=(6, 5), mode="L") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, 90).save(buffer, format="PNG")
    return buffer.getvalue()


@FUZZ
@given(
    files=st.lists(
        st.tuples(st.sampled_from([".png", ".jpg", ".gif", ".bmp"]), st.binary(max_size=120)),
        min_size=1,
        max_size=3,
    ),
    cut=st.integers(0, 200),
)
def test_image_folder_random_and_truncated_files(files, cut) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for i, (suffix, data) in enumerate(files):
            (root / f"{i}{suffix}").write_bytes(data)
        (root / "t.png").write_bytes(png()[:cut])
        loads_or_refuses(load_image_folder, root, mode="gray")


@pytest.mark.parametrize("content", [b"", png()[:20], png()[:-12], b"\x89PNG\r\n\x1a\n"])
def test_zero_byte_and_truncated_png_name_the_file_or_load(tmp_path: Path, content) -> None:
    (tmp_path / "a.png").write_bytes(content)
    try:
        data = load_image_folder(tmp_path)
    except DataError as exc:
        assert "a.png" in str(exc) and "cannot read" in str(exc)
    else:  # Pillow tolerates a missing end chunk when the pixels are all there
        assert data.x.shape == (1, 3, 5, 6)


def test_decompression_bomb_is_refused_naming_the_file(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    side = int((Image.MAX_IMAGE_PIXELS or 2**28) ** 0.5 * 1.5)  # past Pillow's hard limit
    Image.new("1", (side, side)).save(buffer, format="PNG")
    assert len(buffer.getvalue()) < 2 << 20  # small on disk, huge when decoded
    (tmp_path / "bomb.png").write_bytes(buffer.getvalue())
    with pytest.raises(DataError, match=r"bomb\.png: refused, the image is too large"):
        load_image_folder(tmp_path)


# -- tables ---------------------------------------------------------------------------------

CELLS = st.one_of(
    st.sampled_from(["", "nan", "NaN", "inf", "-inf", "1e400", "x", "true", "2020-01-01", '"']),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=4),
)


@FUZZ
@given(
    header=st.lists(st.sampled_from(["a", "b", "c", "", "a"]), min_size=0, max_size=4),
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=5), max_size=5),
    label=st.sampled_from([None, "a", "b", 0, 1, -1, 7]),
    impute=st.sampled_from([None, "mean", "median"]),
)
def test_random_csv_text(header, rows, label, impute) -> None:
    text = "\n".join([",".join(header), *(",".join(r) for r in rows)])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        path.write_text(text, encoding="utf-8")
        data = loads_or_refuses(load_table, path, label=label, impute=impute)
    if data is not None:  # what loads is clean
        assert data.x.ndim == 2 and len(data.x) > 0
        assert bool(np.isfinite(data.x.numpy()).all())
        if data.y is not None:
            assert len(data.y) == len(data.x) and int(data.y.min()) >= 0


@FUZZ
@given(
    suffix=st.sampled_from([".npy", ".npz", ".parquet", ".csv"]),
    data=st.binary(max_size=400),
)
def test_random_bytes_as_table_files(suffix, data) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"t{suffix}"
        path.write_bytes(data)
        loads_or_refuses(load_table, path)


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


ARRAYS = st.sampled_from(
    [
        np.zeros((3, 2)),
        np.array([[1.0, np.nan], [np.inf, 2.0]]),
        np.array([[1e300]]),
        np.zeros((0, 2)),
        np.zeros((3, 0)),
        np.array(3.0),
        np.zeros((2, 2, 2)),
        np.zeros((2, 2), complex),
        np.array([["a", "b"]]),
        np.array([[True, False]]),
        np.zeros((2, 2), "datetime64[s]"),
        np.array([[{"k": 1}]], dtype=object),
    ]
)


@FUZZ
@given(array=ARRAYS, cut=st.integers(0, 400), npz=st.booleans(), member=st.sampled_from(["x", "y"]))
def test_odd_arrays_and_truncated_array_files(array, cut, npz, member) -> None:
    payload = npy(array)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("t.npz" if npz else "t.npy")
        if npz:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr(f"{member}.npy", payload[:cut])
                if member == "x":
                    archive.writestr("y.npy", payload)
            path.write_bytes(buffer.getvalue())
        else:
            path.write_bytes(payload[:cut])
        with np.errstate(over="ignore"):
            data = loads_or_refuses(load_table, path)
    if data is not None:
        assert bool(np.isfinite(data.x.numpy()).all())


def test_object_arrays_never_unpickle(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    (tmp_path / "evil.npy").write_bytes(npy(np.array([Payload()], dtype=object)))
    with pytest.raises(DataError, match="object arrays are refused"):
        load_table(tmp_path / "evil.npy")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a,a\n1,2\n", "'a' appear more than once"),
        (b"\x9b4\xca,b\n1,2\n", "not UTF-8"),
        (b"a,y\n1,1e300\n", "class indices"),
    ],
)
def test_tables_bugs_found_by_fuzzing(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "t.csv").write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_table(tmp_path / "t.csv", label="y" if b"y" in content else None)
