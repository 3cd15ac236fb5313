"""Where latentkit looks for named datasets, and where it caches downloads.

Search order for a named dataset ``<name>`` (the first folder holding the files wins):

1. ``root`` when given: ``root/<name>/`` and then ``root`` itself, so both the parent folder
   of several datasets and the dataset folder work;
2. ``$LATENTKIT_DATA/<name>/`` when the environment variable is set;
3. the cache folder ``$XDG_CACHE_HOME/latentkit/<name>/`` (``~/.cache/latentkit/<name>/``
   when ``XDG_CACHE_HOME`` is unset), which is also where downloads go.

The environment is read on every call (never at import time), so tests and long-running
programs can change it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "search_folders"]


def cache_dir(name: str) -> Path:
    """The cache folder of the dataset ``name`` (not created here).

    Parameters
    ----------
    name : str
        Dataset name, e.g. ``"mnist"``.

    Returns
    -------
    Path
        ``$XDG_CACHE_HOME/latentkit/<name>`` or ``~/.cache/latentkit/<name>``.
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "latentkit" / name


def search_folders(name: str, root: str | Path | None = None) -> list[Path]:
    """The folders searched for the dataset ``name``, in order (they may not exist).

    Parameters
    ----------
    name : str
        Dataset name, e.g. ``"mnist"``.
    root : str or Path, optional
        A folder to search first (either the dataset folder or its parent).

    Returns
    -------
    list of Path
        Candidate folders without duplicates; the cache folder is always last.
    """
    folders: list[Path] = []
    if root is not None:
        root = Path(root).expanduser()
        folders += [root / name, root]
    env = os.environ.get("LATENTKIT_DATA")
    if env:
        folders.append(Path(env).expanduser() / name)
    folders.append(cache_dir(name))
    unique: list[Path] = []
    for folder in folders:
        if folder not in unique:
            unique.append(folder)
    return unique
