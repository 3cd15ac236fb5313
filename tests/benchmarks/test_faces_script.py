"""benchmarks/faces.py: its ``--quick`` mode runs and writes nothing; its measures are checked
against hand computations."""

from __future__ import annotations

import pytest
import torch

from tests.benchmarks._scripts import benchmark_module, check_quick_mode
from tests.conftest import require_data


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["gray", "color"])
def test_quick_mode_prints_a_table_and_writes_nothing(tmp_path, variant: str) -> None:
    data = require_data("faces").parent
    env = {"LATENTKIT_DATA": str(data), "OMP_NUM_THREADS": "1"}
    args = ["--threads", "1", "--variant", variant]
    check_quick_mode("faces.py", tmp_path, env, args=args, timeout=180)


def test_shares_accuracies_and_distances_match_hand_computations() -> None:
    faces = benchmark_module("faces")
    assert faces.share(torch.tensor([True, False, False, True])) == 50.0
    truth = torch.tensor([0, 0, 0, 1])
    # recall of class 0: 2/3, of class 1: 1/1 -> balanced 83.3%
    assert faces.balanced_accuracy(torch.tensor([0, 1, 0, 1]), truth) == pytest.approx(250 / 3)
    a, b = torch.zeros(2, 1, 2, 2), torch.zeros(2, 1, 2, 2)
    b[0] += 0.5  # every pixel differs by 0.5
    b[1, 0, 0, 0] = 1.0  # one of four pixels differs by 1 -> sqrt(1/4)
    torch.testing.assert_close(faces.rmse(a, b), torch.tensor([0.5, 0.5]))
    # pairs are always of two different images: identical copies never give a zero distance
    x = torch.arange(5.0)[:, None].expand(5, 4)
    assert bool((faces.pair_rmse(x, 200, seed=0) >= 1.0).all())


def test_reidentification_finds_each_own_original() -> None:
    faces = benchmark_module("faces")
    originals = torch.eye(4).reshape(4, 1, 2, 2)
    close = originals + 0.1  # each edit nearest its own original
    assert faces.reidentified(close, originals).tolist() == [True] * 4
    swapped = originals[[1, 0, 2, 3]]  # the first two edits look like each other's original
    assert faces.reidentified(swapped, originals).tolist() == [False, False, True, True]


def test_verdict_reads_the_rows() -> None:
    faces = benchmark_module("faces")
    up = [["original", 10.0, 0.0, 100.0], ["reconstruction (s = 0)", 8.0, 0.09, 40.0],
          ["edit s = +2", 50.0, 0.1, 30.0]]  # fmt: skip
    down = [["original", 80.0, 0.0, 100.0], ["reconstruction (s = 0)", 30.0, 0.09, 40.0],
            ["edit s = -2", 1.0, 0.1, 30.0]]  # fmt: skip
    text = faces.verdict(up, down, different=0.22, kl=16.5, judge=87.0)
    assert text.startswith("**Does the edit work? Yes")
    assert "8.0% of their reconstructions, 50.0% after adding the vector at s = +2" in text
    assert "from 30.0% (reconstructions) to 1.0%" in text and "KL 16.5 nats" in text
    assert "87.0% accurate" in text
    # less than double the reconstructions' share: no
    up[-1][1] = 15.0
    assert faces.verdict(up, down, 0.22, 16.5, 87.0).startswith("**Does the edit work? No")
    # far from its original (more than half the distance between two faces): no
    up[-1][1], up[-1][2] = 50.0, 0.12
    assert faces.verdict(up, down, 0.22, 16.5, 87.0).startswith("**Does the edit work? No")


def test_judge_learns_a_separable_toy_task() -> None:
    faces = benchmark_module("faces")
    g = torch.Generator().manual_seed(0)
    x = torch.rand(256, 1, 64, 64, generator=g) * 0.2
    y = (torch.arange(256) % 2).long()
    x[y == 1, :, 40:56, 16:48] += 0.8  # a bright "mouth" bar on the positives
    judge = faces.train_judge(x, y, epochs=3, seed=0, batch_size=32)
    assert faces.share(faces.judged_smiling(judge, x) == y.bool()) > 95.0
