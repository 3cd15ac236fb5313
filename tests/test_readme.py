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


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def _needs_faces(block: str) -> bool:
    return 'load("faces"' in block


def test_readme_python_snippets_run(tmp_path, monkeypatch):
    blocks = [b for b in _python_blocks() if not _needs_faces(b)]
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["codes"].shape == (1438, 2)
    assert namespace["walk"].shape == (8, 1, 1, 8, 8)
    assert namespace["digits"].shape == (4, 1, 28, 28)  # the pretrained-models section
    assert os.path.exists(tmp_path / "runs" / "readme-vae" / "model.safetensors")
    metrics = namespace["metrics"]  # the molecules section
    assert (metrics["validity"], metrics["unique@2"], metrics["novelty"]) == (0.75, 0.5, 0.5)


def test_readme_faces_snippet_runs(tmp_path, monkeypatch):
    """The latent-arithmetic snippet, on the shared faces (fails in CI when they are missing)."""
    from tests.conftest import require_data

    monkeypatch.setenv("LATENTKIT_DATA", str(require_data("faces").parent))
    monkeypatch.chdir(tmp_path)
    blocks = [b for b in _python_blocks() if _needs_faces(b)]
    assert len(blocks) == 1
    namespace: dict = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    assert namespace["smile"].shape == (64,)
    assert namespace["edits"].shape == (3, 4, 1, 64, 64)
