"""The README's Python snippets run as shown (STYLE.md: a snippet that is shown is tested)."""

from __future__ import annotations

import os
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_opens_with_the_two_commands():
    text = README.read_text()
    quickstart = text.split("## Quickstart", 1)[1].split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in quickstart.splitlines()[1:] if line.strip()]
    assert commands == ["make demo", "make test"]


def test_readme_python_snippets_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["codes"].shape == (1438, 2)
    assert namespace["walk"].shape == (8, 1, 1, 8, 8)
    assert os.path.exists(tmp_path / "runs" / "readme-vae" / "model.safetensors")
    metrics = namespace["metrics"]  # the molecules section
    assert (metrics["validity"], metrics["unique@2"], metrics["novelty"]) == (0.75, 0.5, 0.5)
