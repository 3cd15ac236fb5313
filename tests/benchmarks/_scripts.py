"""Running benchmark scripts from tests: their ``--quick`` mode in a subprocess, and importing
one as a module to check its helpers."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from tests.conftest import REPO

BENCHMARKS = REPO / "benchmarks"


def check_quick_mode(
    script: str,
    tmp_path: Path,
    env: dict[str, str],
    *,
    args: Sequence[str] = (),
    timeout: float = 180,
) -> str:
    """Run ``benchmarks/<script> --quick`` (results and figures pointed under ``tmp_path``),
    assert that it succeeds, prints a Markdown table and writes neither; return its output."""
    results, figures = tmp_path / "RESULTS.md", tmp_path / "figures"
    command = [sys.executable, str(BENCHMARKS / script), "--quick", *args,
               "--results", str(results), "--figures", str(figures)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **env})  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "|---" in done.stdout  # a Markdown table was printed
    assert not results.exists() and not figures.exists()
    return done.stdout


def benchmark_module(name: str) -> ModuleType:
    """Import ``benchmarks/<name>.py`` (scripts import their siblings by bare name)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))
