"""``latentkit train --out``: refuse to train over a previous run unless told how.

A folder that holds a run already (one of the entries the trainer writes:
:data:`latentkit.training.lock.RUN_ENTRIES` but the lock file) is refused unless ``--resume``
(continue it from its checkpoints) or ``--overwrite`` (replace it). Without this, a new run's
checkpoints would mix with the old ones, and a later ``--resume`` would continue the old run.

``--overwrite`` first deletes what latentkit wrote there and nothing else: ``metrics.jsonl``,
``model.safetensors``, ``config.json``, ``preprocessing.json``, the checkpoint files of
``checkpoints/`` and the event files of ``tensorboard/`` (each folder removed when that leaves
it empty), and the temporary files of interrupted atomic writes of those. It holds the run
folder's lock while it does (so not while another process trains in it), refuses links among
those entries (:func:`latentkit.training.lock.check_run_folder`), and refuses a folder that
holds other files but no run: it does not look like a run folder, so nothing in it is deleted.
An empty or missing folder needs neither flag.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["check_out", "previous_run", "remove_previous_run"]

#: files of a run folder that --overwrite deletes
_FILES = ("metrics.jsonl", "model.safetensors", "config.json", "preprocessing.json")
#: sub-folder -> names of the files latentkit writes in it
_FOLDERS = {
    "checkpoints": re.compile(r"^epoch-\d{6}\.(json|safetensors)$"),
    "tensorboard": re.compile(r"^events\.out\.tfevents\..+$"),
}


def _temporary(name: str) -> re.Pattern[str]:
    """The temporary files of :func:`latentkit._io.atomic_path` writing ``name``."""
    return re.compile(rf"^\.{re.escape(name)}\.[^/]+\.tmp$")


_TEMPORARY = [_temporary(name) for name in _FILES]
_CHECKPOINT_TEMPORARY = re.compile(r"^\.epoch-\d{6}\.(json|safetensors)\.[^/]+\.tmp$")


def previous_run(out: str | Path) -> list[str]:
    """The entries of a run that ``out`` holds (``checkpoints/``, ``metrics.jsonl``, ...)."""
    from latentkit.training.lock import LOCK_FILE, RUN_ENTRIES

    out = Path(out)
    if not out.is_dir():
        return []
    found = [name for name in RUN_ENTRIES if name != LOCK_FILE]
    return [
        name + ("/" if (out / name).is_dir() else "")
        for name in found
        if (out / name).exists() or (out / name).is_symlink()
    ]


def check_out(out: str | Path, *, resume: bool, overwrite: bool) -> None:
    """Refuse ``--out`` when it holds a run and neither ``--resume`` nor ``--overwrite`` says
    what to do with it, or ``--overwrite`` of a folder that holds no run but other files.

    Raises
    ------
    UsageError, CheckpointError
        One line naming the folder, what it holds and the flags.
    """
    from latentkit.cli.main import UsageError
    from latentkit.training.lock import check_run_folder

    out = Path(out)
    if resume and overwrite:
        raise UsageError(
            "--resume continues the run in --out and --overwrite replaces it: pass one of them"
        )
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; the run folder must be a folder")
    if not out.is_dir():
        return
    check_run_folder(out)  # a linked entry: refused before anything else is said or done
    found = previous_run(out)
    if overwrite and not found and any(out.iterdir()):
        raise UsageError(
            f"--overwrite: {out} does not look like a run folder (no config.json, "
            "checkpoints/, metrics.jsonl, model.safetensors or preprocessing.json), so nothing "
            "in it is deleted; train into a new folder"
        )
    if found and not (resume or overwrite):
        raise UsageError(
            f"{out} already holds a run ({', '.join(found)}); pass --resume to continue it, "
            "--overwrite to replace it, or choose another --out"
        )


def remove_previous_run(out: str | Path) -> list[str]:
    """Delete latentkit's own files of the run in ``out`` (see the module docstring).

    Returns the entries removed (names as :func:`previous_run` gives them).
    """
    from latentkit.training.lock import lock_run_folder

    out = Path(out)
    found = previous_run(out)
    if not found:
        return []
    with lock_run_folder(out):  # refuses links; stops if another process trains in it
        for path in out.iterdir():
            if path.is_file() and (
                path.name in _FILES or any(t.match(path.name) for t in _TEMPORARY)
            ):
                path.unlink()
        for name, pattern in _FOLDERS.items():
            folder = out / name
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                ours = pattern.match(path.name) or _CHECKPOINT_TEMPORARY.match(path.name)
                if ours and path.is_file() and not path.is_symlink():
                    path.unlink()
            if not any(folder.iterdir()):
                folder.rmdir()
    return found
