"""Scalers (fit on train, JSON round trip), binarization and grayscale."""

from __future__ import annotations

import json

import pytest
import torch

from latentkit.data.transforms import (
    MinMaxScaler,
    Standardizer,
    binarize_dynamic,
    binarize_static,
    binarize_threshold,
    rgb_to_gray,
    scaler_from_dict,
)


def test_minmax_per_feature_and_inverse() -> None:
    train = torch.tensor([[0.0, 10.0, 5.0], [2.0, 30.0, 5.0]])
    scaler = MinMaxScaler().fit(train)
    out = scaler.transform(train)
    assert torch.allclose(out, torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 0.0]]))  # constant -> 0
    new = torch.tensor([[1.0, 50.0, 6.0]])
    assert torch.allclose(scaler.transform(new), torch.tensor([[0.5, 2.0, 1.0]]))
    assert torch.allclose(scaler.inverse_transform(scaler.transform(new)), new)
    ranged = MinMaxScaler(feature_range=(-1.0, 1.0)).fit(train)
    assert torch.allclose(ranged.transform(train)[:, 0], torch.tensor([-1.0, 1.0]))


def test_standardizer_per_channel_on_images() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, 5, 5, generator=gen) * torch.tensor([1.0, 2.0, 5.0]).view(1, 3, 1, 1)
    x = x + torch.tensor([0.0, 1.0, -3.0]).view(1, 3, 1, 1)
    scaler = Standardizer(per="channel").fit(x)
    assert scaler.mean_.shape == (3, 1, 1)
    z = scaler.transform(x)
    assert torch.allclose(z.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(z.std(dim=(0, 2, 3), correction=0), torch.ones(3), atol=1e-5)
    assert torch.allclose(scaler.inverse_transform(z), x, atol=1e-5)


@pytest.mark.parametrize(
    "scaler", [MinMaxScaler(per="global"), Standardizer(), MinMaxScaler((2.0, 3.0), "channel")]
)
def test_state_round_trips_through_json(scaler) -> None:
    x = torch.rand(20, 2, 3, 3, generator=torch.Generator().manual_seed(1))
    scaler.fit(x)
    state = json.loads(json.dumps(scaler.to_dict()))
    again = scaler_from_dict(state)
    assert type(again) is type(scaler) and again.per == scaler.per
    assert torch.equal(again.transform(x), scaler.transform(x))


def test_scaler_errors_are_explicit() -> None:
    with pytest.raises(ValueError, match=r"not fitted: call fit\(train_x\) first"):
        Standardizer().transform(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"fitted on samples of shape \(3,\).*\(2, 4\)"):
        Standardizer().fit(torch.rand(5, 3)).transform(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="unknown scaler type 'robust'"):
        scaler_from_dict({"type": "robust"})
    state = MinMaxScaler().fit(torch.rand(4, 3)).to_dict()
    state["min"] = [0.0]
    with pytest.raises(ValueError, match="min has 1 values, expected 3"):
        scaler_from_dict(state)
    with pytest.raises(ValueError, match="per must be"):
        MinMaxScaler(per="row")  # type: ignore[arg-type]


def test_dynamic_binarization_is_fresh_each_call_and_seeded() -> None:
    x = torch.full((200, 1, 8, 8), 0.3)
    gen = torch.Generator().manual_seed(0)
    a, b = binarize_dynamic(x, generator=gen), binarize_dynamic(x, generator=gen)
    assert set(a.unique().tolist()) == {0.0, 1.0} and not torch.equal(a, b)
    assert abs(float(a.mean()) - 0.3) < 0.02
    again = binarize_dynamic(x, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again, a)
    with pytest.raises(ValueError, match=r"values in \[0, 1\], found \[0, 2\]"):
        binarize_dynamic(torch.tensor([[0.0, 2.0]]))


def test_static_binarization_is_fixed() -> None:
    x = torch.rand(50, 10, generator=torch.Generator().manual_seed(2))
    assert torch.equal(binarize_static(x, seed=4), binarize_static(x, seed=4))
    assert not torch.equal(binarize_static(x, seed=4), binarize_static(x, seed=5))
    assert binarize_threshold(torch.tensor([0.2, 0.6])).tolist() == [0.0, 1.0]


def test_rgb_to_gray_uses_bt601() -> None:
    x = torch.zeros(2, 3, 4, 4)
    x[0, 0] = 1.0  # pure red
    x[1] = 1.0  # white
    gray = rgb_to_gray(x)
    assert gray.shape == (2, 1, 4, 4)
    assert torch.allclose(gray[0], torch.full((1, 4, 4), 0.299))
    assert torch.allclose(gray[1], torch.ones(1, 4, 4))
    one = torch.rand(1, 1, 2, 2)
    assert rgb_to_gray(one) is one
    with pytest.raises(ValueError, match=r"expects \(N, 3, H, W\)"):
        rgb_to_gray(torch.zeros(1, 4, 2, 2))
