"""Exceptions raised by latentkit.

Every message names what was expected, what was found and how to fix it. Each class also
derives from the builtin a caller would naturally catch (``ValueError`` or ``OSError``), so
``except ValueError`` keeps working for code written against plain Python conventions.
The command line turns any :class:`LatentkitError` into one line and exit status 2.
"""

from __future__ import annotations

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "DownloadError",
    "LatentkitError",
    "TrainingError",
]


class LatentkitError(Exception):
    """Base class of every error latentkit raises on purpose."""


class DataError(LatentkitError, ValueError):
    """A dataset, file or array is missing, malformed or holds values we cannot use."""


class DownloadError(DataError):
    """A dataset could not be fetched or failed its checksum."""


class ConfigError(LatentkitError, ValueError):
    """A configuration (dataclass, JSON file or CLI flag) is invalid."""


class CheckpointError(LatentkitError, ValueError):
    """A saved model or checkpoint folder is missing, corrupt or untrusted."""


class TrainingError(LatentkitError, RuntimeError):
    """Training cannot continue (for example, repeated non-finite losses)."""
