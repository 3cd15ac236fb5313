"""Hooks around the training loop, and the trainer's own loggers.

:class:`Callback` is the public hook: ``on_epoch_end`` sees each epoch's metrics record (on
every rank, after the checkpoint of that epoch was written) and may ask the trainer to stop.
The loggers below are used by the trainer itself, on rank 0 only:

- :class:`ProgressBar`: a tqdm bar per epoch, advanced on the host without reading any device
  value (the loss is shown once per epoch, when it is known anyway). Quiet unless
  ``progress=True`` and the bar's stream (stderr) is a terminal.
- :class:`MetricsFile`: ``metrics.jsonl``, one JSON object per epoch, appended (see there for
  why a killed run leaves a readable file, and how a resume makes it match the checkpoint).
- :class:`TensorBoard`: epoch scalars through ``torch.utils.tensorboard`` when it imports
  (its event files are append-only logs written by TensorBoard itself, never read back by
  latentkit, so they are the one output not written atomically).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from latentkit._io import atomic_write_bytes

__all__ = ["Callback", "MetricsFile", "ProgressBar", "TensorBoard"]

logger = logging.getLogger(__name__)


class Callback:
    """Base class of training hooks; override what you need."""

    def on_fit_start(self, model: Any, config: Any) -> None:
        """Called once before the first epoch (after a resume is loaded)."""

    def on_epoch_end(self, epoch: int, record: dict[str, Any], model: Any) -> bool | None:
        """Called after each epoch with its metrics; return True to stop training."""
        return None

    def on_fit_end(self, history: Any) -> None:
        """Called once after training (not when it fails)."""


class ProgressBar:
    """One tqdm bar per epoch; every method is a no-op when disabled."""

    def __init__(self, enabled: bool, epochs: int) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.epochs = epochs
        self._bar: Any = None

    def start(self, epoch: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, desc=f"epoch {epoch + 1}/{self.epochs}", leave=False)

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def finish(self, record: dict[str, Any]) -> None:
        if self._bar is None:
            return
        shown = {k: f"{v:.4g}" for k, v in record.items() if k.endswith("_loss") and v is not None}
        self._bar.set_postfix(shown, refresh=True)
        self._bar.close()
        self._bar = None


class MetricsFile:
    """``metrics.jsonl``: one JSON object per completed epoch, one line each.

    :meth:`append` adds an epoch's line with one ``write`` call on a file opened for
    appending, then fsyncs it; earlier lines are never rewritten, so an epoch costs one line of
    I/O however long the run. A process killed around the write leaves the line whole or
    absent (Linux completes a write to a regular file that it has begun, except that a
    ``SIGKILL`` may cut one that spans a page boundary of the file; a power cut may too).

    :meth:`reset` makes the file hold exactly the given records, by an atomic rewrite and only
    when it differs. The trainer calls it once per fit, before the first epoch, with the
    records restored from the checkpoint (none for a fresh run): lines of epochs after that
    checkpoint, and any line cut as above, are dropped there, and appending continues from a
    file that matches the checkpoint.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def reset(self, records: Sequence[dict[str, Any]]) -> None:
        """Make the file hold ``records`` (no file when there are none and there was none)."""
        text = b"".join(_line(r) for r in records)
        try:
            current: bytes | None = self.path.read_bytes()
        except FileNotFoundError:
            current = None
        if current != text and (current is not None or records):
            atomic_write_bytes(self.path, text)

    def append(self, record: dict[str, Any]) -> None:
        """Add one epoch's line and fsync it."""
        line = memoryview(_line(record))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(self.path, flags, 0o666)  # never appends through a link
        try:
            while line:  # one call writes it all unless the disk fills up (then it raises)
                line = line[os.write(fd, line) :]
            os.fsync(fd)
        finally:
            os.close(fd)


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, allow_nan=False) + "\n").encode()


class TensorBoard:
    """Epoch scalars under ``<out>/tensorboard``; disabled with a warning if unavailable."""

    def __init__(self, folder: Path | None, enabled: bool) -> None:
        self._writer: Any = None
        if not enabled:
            return
        if folder is None:
            logger.warning("tensorboard=True needs an output folder (fit(..., out=...)); skipped.")
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:  # the tensorboard package is optional
            logger.warning("tensorboard logging skipped: %s (pip install tensorboard).", exc)
            return
        self._writer = SummaryWriter(log_dir=str(folder))

    def write(self, record: dict[str, Any]) -> None:
        if self._writer is None:
            return
        for key, value in record.items():
            if key != "epoch" and isinstance(value, int | float):
                self._writer.add_scalar(key, value, record["epoch"])
        self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
