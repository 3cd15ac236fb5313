"""The run folder as the trainer owns it: one training process at a time, no symbolic links.

:func:`lock_run_folder` holds an exclusive, non-blocking ``flock`` on ``<run>/.lock`` for the
whole of :meth:`~latentkit.training.Trainer.fit` (rank 0, the process that writes). A second
``fit`` (or ``latentkit train``) into the same folder stops at once with a
:class:`~latentkit.errors.TrainingError` naming the folder, instead of both writing
checkpoints into it. The lock belongs to the open file, so it is released when ``fit`` ends,
on success or error, and the kernel releases it when the process dies (``kill -9``): a
``.lock`` file left behind never blocks anyone. The file itself is kept (deleting it while
another process waits on it would let two processes hold "the" lock). Where ``fcntl`` is
missing (Windows) no lock is taken.

:func:`check_run_folder` refuses a run folder whose ``checkpoints/``, ``metrics.jsonl``,
``model.safetensors``, ``config.json``, ``preprocessing.json``, ``tensorboard/`` or ``.lock``
is a symbolic link: training would write, and prune old checkpoints, wherever the link points.
:func:`checkpoint_folder` checks ``checkpoints/`` again before each checkpoint is written: a
real directory whose resolved path lies directly inside the resolved run folder. The run
folder itself may be a link (``runs -> /data/runs``): what is checked is what lies inside it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from latentkit.errors import CheckpointError, TrainingError

try:  # POSIX only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_FILE", "RUN_ENTRIES", "check_run_folder", "checkpoint_folder", "lock_run_folder"]

LOCK_FILE = ".lock"
#: what the trainer and ``latentkit train`` write in a run folder
RUN_ENTRIES = ("checkpoints", "metrics.jsonl", "model.safetensors", "config.json",
               "preprocessing.json", "tensorboard", LOCK_FILE)  # fmt: skip


def _refuse_link(path: Path) -> None:
    if path.is_symlink():
        raise CheckpointError(
            f"{path} is a symbolic link (to {os.readlink(path)}); latentkit does not write "
            "through links inside a run folder. Replace it with a real file or folder, or "
            "train into another folder."
        )


def check_run_folder(out: str | Path) -> None:
    """Refuse ``out`` if one of the entries the trainer writes is a symbolic link.

    Raises
    ------
    CheckpointError
        Naming the link and where it points.
    """
    out = Path(out)
    for name in RUN_ENTRIES:
        _refuse_link(out / name)


def checkpoint_folder(out: str | Path) -> Path:
    """``<out>/checkpoints``, created if needed, after checking that it is a real directory
    directly inside ``out`` (also after resolving every link above it)."""
    out = Path(out)
    folder = out / "checkpoints"
    _refuse_link(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _refuse_link(folder)  # created by someone else between the check and mkdir
    if folder.resolve().parent != out.resolve() or not folder.is_dir():
        raise CheckpointError(
            f"{folder} resolves to {folder.resolve()}, outside the run folder {out}; refused."
        )
    return folder


@contextlib.contextmanager
def lock_run_folder(out: str | Path) -> Iterator[Path]:
    """Hold the exclusive lock of the run folder ``out`` (created if needed) for the block.

    Raises
    ------
    TrainingError
        If another process holds it (is training into ``out``).
    CheckpointError
        If ``out/.lock`` or another entry of the run folder is a symbolic link.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    check_run_folder(out)
    path = out / LOCK_FILE
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError:
        if path.is_symlink():
            _refuse_link(path)
        raise
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise TrainingError(
                    f"{out} is in use: another process is training in it (it holds {path}). "
                    "Wait for it to finish, or train into another folder."
                ) from None
        yield path
    finally:
        os.close(fd)  # releases the lock
