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
    check_quick_mode("molecules.py", tmp_path, {"LATENTKIT_DATA": str(data)}, timeout=300)


def test_batches_cover_every_row_once_with_similar_lengths() -> None:
    batches = benchmark_module("molecules").batches
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(1, 40, (1000,), generator=g)
    ids = (torch.arange(40) < lengths[:, None]).long()
    out = batches(ids, 10, g)
    assert sorted(torch.cat(out).tolist()) == list(range(1000))
    spread = sum(int(lengths[b].max() - lengths[b].min()) for b in out) / len(out)
    assert spread < 5  # random batches of 10 would spread over ~30 lengths
