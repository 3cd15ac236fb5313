"""The scripts in examples/ run as documented (with small settings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CASES = {
    "vae_digits.py": (["--epochs", "3", "--out", "run"], "test NLL"),
    "anomaly_table.py": ([], "IsolationForest"),
    "denoise_mnist.py": (["--epochs", "1", "--out", "d.png"], "(denoised)"),
}


def test_every_example_is_covered():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs(name, tmp_path):
    args, expected = CASES[name]
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=tmp_path,
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
