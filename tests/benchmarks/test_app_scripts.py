"""The application benchmarks (colorization, semi-supervised MNIST): each ``--quick`` mode runs,
prints its table and writes nothing; their helper maths is checked against closed forms."""

from __future__ import annotations

import statistics

import numpy as np
import pytest
import torch

from tests.benchmarks._scripts import benchmark_module, check_quick_mode
from tests.conftest import require_data

SCRIPTS = {"colorization.py": "images", "semi_supervised.py": "mnist"}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_quick_mode_prints_a_table_and_writes_nothing(script: str, tmp_path) -> None:
    data = require_data(SCRIPTS[script]).parent
    env = {"LATENTKIT_DATA": str(data), "OMP_NUM_THREADS": "1"}
    check_quick_mode(script, tmp_path, env, args=["--threads", "1"], timeout=120)


def test_error_percent_and_mean_std_match_closed_forms() -> None:
    semi = benchmark_module("semi_supervised")
    truth = np.arange(200) % 10
    predicted = truth.copy()
    predicted[:7] = (predicted[:7] + 1) % 10  # 7 of 200 wrong
    assert semi.error_percent(predicted, truth) == pytest.approx(3.5)
    assert semi.error_percent(torch.from_numpy(truth), torch.from_numpy(truth)) == 0.0
    with pytest.raises(ValueError, match="shapes differ"):
        semi.error_percent(truth[:5], truth)
    # sample std of (1, 2, 3, 4) is sqrt(5/3) = 1.29
    assert semi.mean_std([1.0, 2.0, 3.0, 4.0]) == "2.50 ± 1.29"
    assert statistics.stdev([1.0, 2.0, 3.0, 4.0]) == pytest.approx((5 / 3) ** 0.5)
    assert semi.mean_std([4.2]) == "4.20 ± 0.00"


def test_gray_detection_and_side_by_side_panels() -> None:
    color = benchmark_module("colorization")
    g = torch.rand(1, 8, 12)
    assert color.is_gray(g.expand(3, -1, -1))
    tinted = g.expand(3, -1, -1).clone()
    tinted[0, 3, 4] += 0.1  # one reddish pixel is enough to be a colour image
    assert not color.is_gray(tinted)
    panels = [torch.full((1, 3, 20, 40), v) for v in (0.0, 0.5, 1.0)]
    picture = color.side_by_side(panels, width=16)
    # each panel 16 wide and 8 high (aspect kept), two white 4-pixel gaps between them
    assert picture.shape == (8, 3 * 16 + 2 * 4, 3) and picture.dtype == np.uint8
    assert picture[0, 0, 0] == 0 and picture[0, 20, 0] == 128 and picture[0, -1, 0] == 255


def test_a_cached_m1_is_reused_only_for_the_same_split_and_settings(tmp_path) -> None:
    semi = benchmark_module("semi_supervised")
    args = semi.parse(["--validation", "--m1-cache", str(tmp_path)])
    x = torch.zeros(50, 1, 28, 28)
    (tmp_path / "config.json").write_text("{}")
    full = semi.parse(["--m1-cache", str(tmp_path)])
    (tmp_path / "settings.txt").write_text(semi.m1_settings(x, full))  # an M1 of the full run
    assert semi.m1_settings(x, args) != semi.m1_settings(x, full)
    with pytest.raises(SystemExit, match="this run needs 'validation=True rows=50"):
        semi.train_m1(x, args)
