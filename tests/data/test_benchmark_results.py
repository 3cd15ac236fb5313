"""benchmarks/_results.py (used by the data loading benchmark): sections replaced in place."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("_results", REPO / "benchmarks" / "_results.py")
assert _spec is not None and _spec.loader is not None
_results = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_results)
machine_info, markdown_table, update_results = (
    _results.machine_info,
    _results.markdown_table,
    _results.update_results,
)


def test_markdown_table_aligns_numbers() -> None:
    table = markdown_table(["name", "rate"], [["a", 1234.5], ["b", 0.123456]])
    assert table.splitlines() == ["| name | rate |", "|---|---:|", "| a | 1,234 |", "| b | 0.123 |"]


def test_sections_are_replaced_or_appended(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    update_results("Speed", "cmd one", "| t |", path=path)
    update_results("Quality", "cmd two", "| q |", notes="a note", path=path)
    update_results("Speed", "cmd three", "| t2 |", path=path)
    text = path.read_text()
    assert text.count("## Speed") == 1 and text.count("## Quality") == 1
    assert "cmd one" not in text and "cmd three" in text and "| t2 |" in text
    assert text.index("## Speed") < text.index("## Quality")  # replaced in place
    assert "a note" in text and sorted(p.name for p in tmp_path.iterdir()) == ["RESULTS.md"]
    assert {"cpu", "cores", "torch", "torch threads", "python", "date"} <= set(machine_info())
