"""``benchmarks/molecules.py --quick`` runs on the shared MOSES files, prints its tables and
writes nothing; its length-bucketed batches cover every row once."""

from __future__ import annotations

import pytest
import torch

from tests.benchmarks._scripts import benchmark_module, check_quick_mode
from tests.conftest import require_data


@pytest.mark.slow
def test_quick_mode_prints_a_table_and_writes_nothing(tmp_path) -> None:
    pytest.importorskip("rdkit")
    pytest.importorskip("selfies")
    data = require_data("smiles").parent
    pytest.importorskip("fcd")
    out = check_quick_mode("molecules.py", tmp_path, {"LATENTKIT_DATA": str(data)}, timeout=300)
    header = next(line for line in out.splitlines() if line.startswith("| model | validity"))
    assert header.rstrip().endswith("| FCD/Test |")  # measured on the quick run's samples
    row = next(line for line in out.splitlines() if line.startswith("| MOSES VAE |"))
    assert row.rstrip().endswith("| 0.099 |")


def test_batches_cover_every_row_once_with_similar_lengths() -> None:
    batches = benchmark_module("molecules").batches
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(1, 40, (1000,), generator=g)
    ids = (torch.arange(40) < lengths[:, None]).long()
    out = batches(ids, 10, g)
    assert sorted(torch.cat(out).tolist()) == list(range(1000))
    spread = sum(int(lengths[b].max() - lengths[b].min()) for b in out) / len(out)
    assert spread < 5  # random batches of 10 would spread over ~30 lengths


EARLIER_SECTION = """# Benchmark results

## Molecule generation (MOSES, sequence VAE: SMILES vs SELFIES)

Command: `python benchmarks/molecules.py --minutes 20 --threads 1`

Machine: cpu: X, cores: 2, load average (1 min): 3.86, date: 2026-12-03 17:21 UTC

| model | validity | unique@1000 | unique@10000 | novelty | IntDiv | test recon. | test KL (nats) | active units | steps | epochs | train min |
|---|---:|---:|---|---:|---:|---|---|---|---|---|---|
| latentkit sequence_vae (SMILES) | 0.5 | 1 | - | 0.995 | 0.852 | 0 | 5.21 | 56 | 1250 | 0.64 | 20 |
| latentkit sequence_vae (SELFIES) | 1 | 1 | 0.9999 | 0.999 | 0.879 | 0 | 5.61 | 56 | 1884 | 0.964 | 20 |
| MOSES VAE | 0.977 | 1 | 0.998 | 0.695 | 0.856 | - | - | - | - | - | - |

| model | QED predictor R² (held out) | best QED of the 20 starts | best QED found | molecule | novel | valid distinct decoded | best QED, 10k training molecules |
|---|---:|---:|---:|---|---:|---:|---:|
| SMILES | 0.141 | 0.947 | 0.948 | `CCO` | True | 90 | 0.948 |
| SELFIES | -0.0757 | 0.947 | 0.945 | `CCN` | True | 203 | 0.948 |

## Another section

| latentkit sequence_vae (SELFIES) | 0 |
"""  # noqa: E501


def test_a_one_kind_run_keeps_the_other_kinds_rows_marked_with_their_run(tmp_path) -> None:
    module = benchmark_module("molecules")
    path = tmp_path / "RESULTS.md"
    assert module.earlier_rows(path, ["smiles"]) == ([], [], "")  # no file yet
    path.write_text(EARLIER_SECTION)
    assert module.earlier_rows(path, ["smiles", "selfies"]) == ([], [], "")
    rows, opt_rows, source = module.earlier_rows(path, ["smiles"])
    # only the SELFIES rows of this section (not MOSES', not another section's), as numbers
    assert rows == [
        ["latentkit sequence_vae (SELFIES) (earlier run)", 1, 1, 0.9999, 0.999, 0.879, 0,
         5.61, 56, 1884, 0.964, 20]
    ]  # fmt: skip
    assert opt_rows == [["SELFIES (earlier run)", -0.0757, 0.947, 0.945, "`CCN`", True, 203,
                         0.948]]  # fmt: skip
    assert source == (
        "measured by `python benchmarks/molecules.py --minutes 20 --threads 1` on "
        "2026-12-03 17:21 UTC (load average 3.86), carried over unchanged."
    )
    # written again into a later section, the rows keep their label and their source
    later = EARLIER_SECTION.replace("(SELFIES) |", "(SELFIES) (earlier run) |").replace(
        "| 0.964 | 20 |", f"| 0.964 | 20 |\n\nEarlier-run rows: {source}"
    )
    run = "Command: `python benchmarks/molecules.py --"
    path.write_text(later.replace(f"{run}minutes 20", f"{run}kinds smiles --minutes 45"))
    assert "--kinds smiles" in path.read_text()
    rows2, _, source2 = module.earlier_rows(path, ["smiles"])
    assert rows2 == rows and source2 == source


def test_target_clause_says_met_or_not_met_per_target() -> None:
    clause = benchmark_module("molecules").target_clause
    assert clause("selfies", 1.0, 0.9999, 0.999) == (
        "SELFIES: validity 1.000 (target >= 1: met), unique@10k 0.9999 (target >= 0.99: met), "
        "novelty 0.999 (target >= 0.8: met)"
    )
    text = clause("smiles", 0.5, "-", 0.995)
    assert "validity 0.500 (target >= 0.95: not met)" in text
    assert (
        "unique@10k not measured (fewer valid samples than 10k) (target >= 0.99: not met)" in text
    )


def test_main_writes_a_one_kind_run_with_the_earlier_rows_of_the_other(
    tmp_path, monkeypatch
) -> None:
    pytest.importorskip("rdkit")
    module = benchmark_module("molecules")
    path = tmp_path / "RESULTS.md"
    path.write_text(EARLIER_SECTION)
    monkeypatch.setattr(module, "read_strings", lambda *_: ["CCO", "c1ccccc1O", "CC(=O)N"])
    measured = {"kind": "smiles", "validity": 0.97, "unique@1000": 1.0, "unique@10000": 0.999,
                "novelty": 0.9, "int_div": 0.85, "test_recon": 0.1, "test_kl": 9.0,
                "active_units": 20, "steps": 9000, "epochs": 4.6, "minutes": 45.0,
                "cpu_minutes": 40.0,
                "by_temperature": {0.8: {"validity": 0.99, "unique@10000": 0.98, "novelty": 0.7,
                                         "int_div": 0.84}},
                "qed_r2": 0.5, "qed_start_best": 0.9, "qed_found": 0.93,
                "qed_found_smiles": "CCCO", "qed_candidates": 50}  # fmt: skip
    monkeypatch.setattr(module, "run_kind", lambda *_: measured)
    assert module.main(["--kinds", "smiles", "--results", str(path)]) == 0
    text = path.read_text()
    section = text.split("## Molecule generation")[1].split("## Another section")[0]
    assert "Command: `python benchmarks/molecules.py " in section
    assert "| latentkit sequence_vae (SMILES) | 0.97 | 1 | 0.999 | 0.9 |" in section
    assert "| latentkit sequence_vae (SELFIES) (earlier run) | 1 | 1 | 1 | 0.999 |" in section
    assert "| 45 | 40 |" in section  # wall and CPU minutes
    assert "| 0.964 | 20 | - |" in section  # the earlier row lacks the CPU minutes
    assert "| 0.8 | SMILES | 0.99 | 0.98 | 0.7 | 0.84 |" in section  # sampling temperature
    assert "| SELFIES (earlier run) | -0.0757 |" in section
    assert "| latentkit sequence_vae (SMILES) | 0.5 |" not in section  # replaced
    assert "SMILES: validity 0.970 (target >= 0.95: met)" in section
    assert "SELFIES: validity 1.000 (target >= 1: met)" in section
    assert "Earlier-run rows: measured by `python benchmarks/molecules.py --minutes 20" in section
    assert "## Another section\n\n| latentkit sequence_vae (SELFIES) | 0 |" in text  # untouched
