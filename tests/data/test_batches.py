"""InMemoryBatches: every row once per epoch, labels aligned, shards that add up."""

from __future__ import annotations

import pytest
import torch

from latentkit.data.batches import InMemoryBatches


def test_shuffled_epoch_covers_every_row_once() -> None:
    x = torch.arange(103, dtype=torch.float32)[:, None].repeat(1, 3)  # row i holds i
    y = torch.arange(103)
    batches = InMemoryBatches([x, y], 10, shuffle=True, generator=torch.Generator().manual_seed(0))
    assert len(batches) == 11
    xs, ys = zip(*batches, strict=True)
    rows = torch.cat(xs)[:, 0].long()
    assert torch.equal(rows, torch.cat(ys))  # labels travel with their rows
    assert sorted(rows.tolist()) == list(range(103)) and rows.tolist() != list(range(103))
    second = torch.cat([b[1] for b in batches])
    assert not torch.equal(second, torch.cat(ys))  # a new order each epoch


def test_drop_last_and_none_passthrough() -> None:
    x = torch.zeros(25, 2)
    batches = InMemoryBatches([x, None], 10, drop_last=True)
    assert len(batches) == 2
    assert [(len(b[0]), b[1]) for b in batches] == [(10, None), (10, None)]


def test_shards_split_each_global_batch() -> None:
    x = torch.arange(40)
    order = torch.Generator().manual_seed(3)
    whole = [b[0] for b in InMemoryBatches([x], 8, shuffle=True, generator=order)]
    parts = [
        [
            b[0]
            for b in InMemoryBatches(
                [x], 8, shuffle=True, shard=(rank, 2), generator=torch.Generator().manual_seed(3)
            )
        ]
        for rank in range(2)
    ]
    for step, batch in enumerate(whole):
        assert torch.equal(torch.cat([parts[0][step], parts[1][step]]), batch)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="share their first dimension"):
        InMemoryBatches([torch.zeros(3), torch.zeros(4)], 2)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        InMemoryBatches([torch.zeros(3)], 0)
