"""Downloads against a local HTTP server: fallback, checksum rejection, clean cache, offline."""

from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from latentkit.data import download
from latentkit.data.mnist import FASHION_MNIST, MNIST
from latentkit.datasets import load
from latentkit.errors import DataError, DownloadError
from tests.conftest import require_data

FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A server on 127.0.0.1 with ``good/`` (real files), ``bad/`` (one corrupted), ``none/``."""
    mnist = require_data("mnist")
    www = tmp_path / "www"
    for sub in ("good", "bad", "none"):
        (www / sub).mkdir(parents=True)
    for name in FILES:
        shutil.copy(mnist / name, www / "good" / name)
        shutil.copy(mnist / name, www / "bad" / name)
    corrupt = bytearray((www / "bad" / FILES[0]).read_bytes())
    corrupt[1000] ^= 0xFF
    (www / "bad" / FILES[0]).write_bytes(bytes(corrupt))
    handler = functools.partial(_QuietHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", tmp_path
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache; the shared data and any mirror override are hidden."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("LATENTKIT_DATA", raising=False)
    monkeypatch.delenv("LATENTKIT_MIRROR", raising=False)
    return tmp_path / "cache" / "latentkit" / "mnist"


def _cached(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_404_mirror_falls_back_to_next(served: tuple[str, Path], cache: Path) -> None:
    base, _ = served
    data = load("mnist", "test", mirrors=[base + "none/", base + "good/"])
    assert data.x.shape == (10000, 1, 28, 28)
    assert _cached(cache) == sorted(FILES)
    for name in FILES:
        assert download.sha256_of(cache / name) == MNIST.sha256[name]
    # second load reads the cache: a dead mirror is never contacted
    again = load("mnist", "test", mirrors=["http://127.0.0.1:1/"])
    assert again.y.tolist() == data.y.tolist()


def test_corrupted_download_rejected_and_nothing_left(
    served: tuple[str, Path], cache: Path
) -> None:
    base, _ = served
    with pytest.raises(DownloadError, match=r"sha256 mismatch: expected 8d422c7b") as info:
        load("mnist", "test", mirrors=[base + "bad/"])
    assert "t10k-images-idx3-ubyte.gz" in str(info.value)
    assert _cached(cache) == []  # no partial file, no temporary file


def test_corrupted_mirror_falls_back_to_good_one(served: tuple[str, Path], cache: Path) -> None:
    base, _ = served
    data = load("mnist", "test", mirrors=[base + "bad/", base + "good/"])
    assert len(data) == 10000
    assert _cached(cache) == sorted(FILES)


def test_mirror_from_environment_with_name_placeholder(
    served: tuple[str, Path], cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, tmp_path = served
    (tmp_path / "www" / "good" / "mnist").mkdir()
    for name in FILES:
        shutil.copy(tmp_path / "www" / "good" / name, tmp_path / "www" / "good" / "mnist" / name)
    monkeypatch.setenv("LATENTKIT_MIRROR", f"{base}none/, {base}good/{{name}}")
    assert download.resolve_mirrors("mnist", ["https://x/"], None) == [
        f"{base}none/",
        f"{base}good/mnist/",
    ]
    assert len(MNIST.load("test")) == 10000


def test_offline_error_says_where_to_put_files(cache: Path) -> None:
    with pytest.raises(DownloadError) as info:
        FASHION_MNIST.load("train", mirrors=["http://127.0.0.1:1/"])
    message = str(info.value)
    assert "could not download train-images-idx3-ubyte.gz" in message
    assert "download failed" in message
    assert "Put train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz" in message
    assert str(cache.parent / "fashion-mnist") in message
    assert (
        not (cache.parent / "fashion-mnist").exists()
        or _cached(cache.parent / "fashion-mnist") == []
    )


def test_download_false_refuses_without_network(cache: Path) -> None:
    with pytest.raises(DataError, match=r"not found and download=False\. Put t10k-images"):
        MNIST.load("test", download=False)


def test_download_file_checks_sha256(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = served
    dest = tmp_path / "out" / FILES[1]
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        download.download_file(base + "good/" + FILES[1], dest, "0" * 64)
    assert not dest.exists() and _cached(dest.parent) == []
    download.download_file(base + "good/" + FILES[1], dest, MNIST.sha256[FILES[1]])
    labels = np.frombuffer(gzip.decompress(dest.read_bytes()), np.uint8, offset=8)
    assert labels.shape == (10000,)


def test_builtin_checksums_match_shared_sums() -> None:
    sums = require_data("SHA256SUMS").read_text().split("\n")
    table = dict(reversed(line.split()) for line in sums if line.strip())
    for source in (MNIST, FASHION_MNIST):
        for name, digest in source.sha256.items():
            assert table[f"{source.name}/{name}"] == digest
