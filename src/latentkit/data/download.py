"""Download files from a list of mirrors, verify their sha256, and write them atomically.

Each file is streamed into a temporary file beside its destination while its sha256 is
computed; only a file whose digest matches is renamed into place (see :mod:`latentkit._io`).
A failed, interrupted or corrupt download therefore leaves nothing behind. Mirrors are tried
in order; a 404, a network error or a wrong checksum moves on to the next one.

Mirrors can be overridden with the ``mirrors=`` argument or the ``LATENTKIT_MIRROR``
environment variable: a comma-separated list of base URLs. ``{name}`` in a base URL is replaced
by the dataset name (``http://127.0.0.1:8000/{name}/``); files are fetched from
``<base>/<file name>``.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from latentkit._io import atomic_path
from latentkit.errors import DownloadError

__all__ = ["download_file", "fetch_files", "resolve_mirrors", "sha256_of"]

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20  # bytes read per step while streaming


def resolve_mirrors(name: str, defaults: Sequence[str], mirrors: Sequence[str] | None) -> list[str]:
    """The base URLs to try, in order, for the dataset ``name``.

    Parameters
    ----------
    name : str
        Dataset name, substituted for ``{name}`` in a base URL.
    defaults : sequence of str
        The built-in public mirrors.
    mirrors : sequence of str, optional
        Explicit mirrors; when None, ``$LATENTKIT_MIRROR`` (comma-separated) and then
        ``defaults`` are used.

    Returns
    -------
    list of str
        Base URLs, each ending in ``/``.
    """
    if mirrors is None:
        env = os.environ.get("LATENTKIT_MIRROR", "")
        mirrors = [m.strip() for m in env.split(",") if m.strip()] or list(defaults)
    bases = [m.replace("{name}", name) for m in mirrors]
    return [b if b.endswith("/") else b + "/" for b in bases]


def sha256_of(path: str | Path) -> str:
    """Hex sha256 digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(url: str, dest: str | Path, sha256: str, *, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest`` atomically, refusing it unless its sha256 matches.

    Parameters
    ----------
    url : str
        Where to fetch the file.
    dest : str or Path
        Destination path; its folder is created.
    sha256 : str
        Expected hex digest.
    timeout : float
        Seconds to wait for the server on each read.

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    DownloadError
        On a network or HTTP error, or a checksum mismatch; ``dest`` is then left untouched.
    """
    dest = Path(dest)
    digest = hashlib.sha256()
    size = 0
    try:
        with atomic_path(dest) as tmp:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as fh:
                while chunk := response.read(_CHUNK):
                    digest.update(chunk)
                    fh.write(chunk)
                    size += len(chunk)
            if digest.hexdigest() != sha256.lower():
                raise DownloadError(
                    f"{url}: sha256 mismatch: expected {sha256}, found {digest.hexdigest()} "
                    f"({size} bytes); the file was discarded."
                )
    except DownloadError:
        raise
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{url}: download failed (HTTP {exc.code} {exc.reason}).") from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DownloadError(f"{url}: download failed ({reason}).") from exc
    logger.info("downloaded %s (%d bytes) to %s", url, size, dest)
    return dest


def fetch_files(
    files: Mapping[str, str],
    folder: str | Path,
    bases: Sequence[str],
    *,
    how_to_fix: str = "",
    timeout: float = 30.0,
) -> list[Path]:
    """Download each file from the first mirror that serves it with the right checksum.

    Parameters
    ----------
    files : mapping of str to str
        File name -> expected sha256.
    folder : str or Path
        Destination folder (created when needed).
    bases : sequence of str
        Mirror base URLs (ending in ``/``), tried in order for each file.
    how_to_fix : str
        Appended to the error message (e.g. where to put the files by hand).
    timeout : float
        Seconds to wait for a server on each read.

    Returns
    -------
    list of Path
        The downloaded files, in the order of ``files``.

    Raises
    ------
    DownloadError
        When some file could not be fetched from any mirror; the message lists each attempt.
    """
    folder = Path(folder)
    paths = []
    for file_name, sha256 in files.items():
        failures = []
        for base in bases:
            try:
                paths.append(
                    download_file(base + file_name, folder / file_name, sha256, timeout=timeout)
                )
                break
            except DownloadError as exc:
                logger.warning("%s", exc)
                failures.append(str(exc))
        else:
            attempts = "; ".join(failures) or "no mirror configured"
            raise DownloadError(
                f"could not download {file_name} from any mirror ({attempts}). {how_to_fix}"
            )
    return paths
