"""Shared fixtures: deterministic torch, and the shared datasets (fail in CI when missing)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def _shared_data_root() -> Path | None:
    candidates = [os.environ.get("LATENTKIT_DATA"), str(REPO.parent / "shared" / "data")]
    for candidate in candidates:
        if candidate and (Path(candidate) / "mnist").is_dir():
            return Path(candidate)
    return None


def require_data(subfolder: str) -> Path:
    """Path of ``<data root>/<subfolder>``; in CI a missing folder fails the test, else skips."""
    root = _shared_data_root()
    if root is not None and (root / subfolder).exists():
        return root / subfolder
    message = (
        f"shared dataset {subfolder!r} not found: set LATENTKIT_DATA to a folder holding it "
        "(CI sets LATENTKIT_DATA=../shared/data)"
    )
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def data_root() -> Path:
    """The folder holding ``mnist/``, ``fashion-mnist/`` and ``images/``."""
    return require_data("mnist").parent


@pytest.fixture(autouse=True)
def _deterministic_torch() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
