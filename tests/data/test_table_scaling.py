"""Table loading is linear in the size of the file: 100,000 columns load in seconds.

The loader once checked the header with ``names.count`` and list membership, which is
quadratic in the number of columns: 40,000 columns took 24 s and 100,000 more than 120 s.
Linear code loads these files in a few seconds (most of it in pyarrow's CSV parser); the
subprocess is given 60 s, so only quadratic code fails, whatever the machine's load.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from latentkit.data.tables import load_table
from tests.conftest import REPO

COLUMNS = 100_000

_LOAD = """
import sys
from latentkit.data.tables import load_table
path, n = sys.argv[1], int(sys.argv[2])
data = load_table(path, label=f"c{n - 1}")
assert data.x.shape == (3, n - 1) and data.y.tolist() == [1, 1, 1], data
picked = load_table(path, features=[f"c{i}" for i in range(n - 1, 0, -1)], label="c0")
assert picked.x.shape == (3, n - 1) and picked.meta["columns"][0] == f"c{n - 1}"
print("ok")
"""


def test_a_csv_of_100000_columns_loads_in_linear_time(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    header = ",".join(f"c{i}" for i in range(COLUMNS))
    row = ",".join("1" for _ in range(COLUMNS))
    path.write_text("\n".join([header, row, row, row]) + "\n")
    done = subprocess.run(
        [sys.executable, "-c", _LOAD, str(path), str(COLUMNS)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_rows_longer_than_pyarrows_block_load(tmp_path: Path) -> None:
    # pyarrow parses a CSV in 1 MiB blocks and fails on a row (or a header, as with 200,000
    # columns) longer than a block; the loader once reported that as "the file is empty"
    path = tmp_path / "long.csv"
    path.write_text("a,b\n1,z\n2," + "x" * (3 << 20) + "\n")
    data = load_table(path, features=["a"])
    assert data.x.tolist() == [[1.0], [2.0]]
    header = ",".join(f"c{i}" for i in range(200_000))  # 1.3 MB
    path.write_text(header + "\n" + ",".join(["1"] * 200_000) + "\n")
    assert load_table(path, features=["c7", "c199999"]).x.tolist() == [[1.0, 1.0]]
