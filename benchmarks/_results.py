"""Shared helpers of the benchmark scripts: machine facts, Markdown tables, RESULTS.md updates.

Each script owns one ``## <section>`` of ``benchmarks/RESULTS.md``; :func:`update_results`
replaces that section (or appends it) and leaves the others alone. The read-modify-write is
done under an exclusive lock on the benchmarks folder and the file is replaced atomically, so
scripts run side by side never lose each other's sections or leave a half-written file.

Scripts run as ``python benchmarks/<name>.py``, so they import this module as a sibling
(``from _results import ...``) after putting this folder on ``sys.path``.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import os
import platform
import re
from collections.abc import Sequence
from pathlib import Path

import torch

from latentkit._io import atomic_write_bytes

__all__ = ["RESULTS", "machine_info", "markdown_table", "print_table", "update_results"]

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

_HEADER = (
    "# Benchmark results\n\n"
    "Written by the scripts in `benchmarks/`; each section says the command that produced it.\n"
    "Numbers depend on the machine described in each section.\n"
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine_info() -> dict[str, str]:
    """Facts that make a timing comparable: CPU, cores, versions, threads, load, date."""
    return {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "torch": torch.__version__,
        "torch threads": str(torch.get_num_threads()),
        "python": platform.python_version(),
        "load average (1 min)": f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "?",
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub Markdown table; numbers right-aligned, floats with 3 significant digits+."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
        return str(value)

    body = [[cell(v) for v in row] for row in rows]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows) if rows else False
        for i in range(len(headers))
    ]
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if n else "---" for n in numeric) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def print_table(title: str, table_markdown: str) -> None:
    """Show a table on the terminal (benchmark scripts are programs, not library code)."""
    print(f"\n{title}\n{table_markdown}\n", flush=True)


def _section(section: str, command: str, table_markdown: str, notes: str) -> str:
    info = machine_info()
    machine = ", ".join(f"{k}: {v}" for k, v in info.items())
    parts = [f"## {section}", "", f"Command: `{command}`", "", f"Machine: {machine}", ""]
    parts += [table_markdown.strip(), ""]
    if notes:
        parts += [notes.strip(), ""]
    return "\n".join(parts)


def update_results(
    section: str, command: str, table_markdown: str, notes: str = "", path: Path = RESULTS
) -> Path:
    """Replace (or append) the ``## <section>`` block of RESULTS.md atomically.

    Parameters
    ----------
    section : str
        Section title, unique per script (e.g. ``"Data loading"``).
    command : str
        The command line that reproduces the numbers.
    table_markdown : str
        The results, usually from :func:`markdown_table`.
    notes : str
        Free text shown under the table (what was measured, caveats).
    path : Path
        The results file (tests pass a temporary one).

    Returns
    -------
    Path
        The file written.
    """
    block = _section(section, command, table_markdown, notes)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = os.open(path.parent, os.O_RDONLY)  # lock the folder: no lock file left behind
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        text = path.read_text(encoding="utf-8") if path.exists() else _HEADER
        pattern = re.compile(rf"^## {re.escape(section)}[ \t]*\n.*?(?=^## |\Z)", re.M | re.S)
        if pattern.search(text):
            text = pattern.sub(lambda _: block + "\n", text, count=1)
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        atomic_write_bytes(path, (text.rstrip("\n") + "\n").encode("utf-8"))
    finally:
        os.close(folder)  # releases the lock
    return path
