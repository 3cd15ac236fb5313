"""M2's optional classifier regularisers: consistency under input noise, entropy minimisation."""

from __future__ import annotations

import math

import pytest
import torch

from latentkit.errors import ConfigError
from latentkit.models.semi_supervised import SemiSupervisedVAE, SemiSupervisedVAEConfig
from latentkit.nn import NetworkConfig

BASE = {"input_shape": (4,), "latent_dim": 2, "num_classes": 3, "alpha": 0.5}


def _m2(**fields) -> SemiSupervisedVAE:
    torch.manual_seed(0)  # the same weights for every variant
    return SemiSupervisedVAE(
        SemiSupervisedVAEConfig(**BASE, network=NetworkConfig(hidden=(8,)), **fields)
    )


def test_consistency_penalty_is_the_kl_between_clean_and_noisy_predictions() -> None:
    model = _m2(consistency=1.0, consistency_noise=0.3)
    x = torch.rand(5, 4, generator=torch.Generator().manual_seed(1))
    log_qy = torch.log_softmax(model.class_logits(x), dim=1).detach().requires_grad_()
    penalty = model.consistency_penalty(x, log_qy, torch.Generator().manual_seed(2))
    eps = torch.randn(5, 4, generator=torch.Generator().manual_seed(2))
    noisy_logits = model.class_logits(x + 0.3 * eps).tolist()
    clean = log_qy.detach().exp().tolist()
    for i, (clean_row, noisy_row) in enumerate(zip(clean, noisy_logits, strict=True)):
        log_norm = math.log(sum(math.exp(v) for v in noisy_row))
        expected = sum(
            p * (math.log(p) - (v - log_norm)) for p, v in zip(clean_row, noisy_row, strict=True)
        )
        assert float(penalty[i].detach()) == pytest.approx(expected, abs=1e-5)
    assert float(penalty.detach().min()) >= 0.0
    no_noise = _m2(consistency=1.0, consistency_noise=0.0)
    zero = no_noise.consistency_penalty(x, log_qy, None).detach()
    assert torch.allclose(zero, torch.zeros(5), atol=1e-6)
    penalty.sum().backward()  # the clean prediction is a fixed target
    assert log_qy.grad is None and all(p.grad is not None for p in model.classifier.parameters())


@torch.no_grad()
def test_regularisers_add_their_weighted_terms_to_the_loss() -> None:
    x = torch.rand(6, 4, generator=torch.Generator().manual_seed(3))
    y = torch.tensor([0, -1, 2, -1, -1, 1])
    unlabelled = (y < 0).float()
    plain = _m2()
    g = torch.Generator().manual_seed(4)
    ref = plain.loss(x, y=y, generator=g).loss
    log_qy = torch.log_softmax(plain.class_logits(x), dim=1)
    penalty = plain.consistency_penalty(x, log_qy, g)  # the draws that follow the bound's
    entropy = -(log_qy.exp() * log_qy).sum(1)

    both = _m2(consistency=2.0, entropy_weight=0.7)
    out = both.loss(x, y=y, generator=torch.Generator().manual_seed(4))
    expected = ref + (2.0 * penalty + 0.7 * entropy * unlabelled).mean()
    assert float(out.loss) == pytest.approx(float(expected), abs=1e-5)
    assert torch.allclose(out.terms["consistency"], penalty, atol=1e-6)
    entropy_only = _m2(entropy_weight=1.0)
    loss = entropy_only.loss(x, y=y, generator=torch.Generator().manual_seed(4)).loss
    assert float(loss) == pytest.approx(float(ref + (entropy * unlabelled).mean()), abs=1e-5)


@pytest.mark.parametrize("field", ["consistency", "consistency_noise", "entropy_weight"])
def test_negative_regulariser_weights_are_refused(field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        SemiSupervisedVAEConfig(**BASE, **{field: -1.0})


def test_label_bounds_are_minus_the_labelled_bound_for_every_label() -> None:
    model = _m2()
    x = torch.rand(5, 4, generator=torch.Generator().manual_seed(5))
    bounds = model.label_bounds(x, samples=3, generator=torch.Generator().manual_seed(6))
    assert bounds.shape == (5, 3)
    g = torch.Generator().manual_seed(6)
    x_rep, y_rep = x.repeat(3, 1), torch.arange(3).repeat_interleave(5)  # rows (label, i)
    draws = [model.labelled_bound(x_rep, y_rep, None, g)[0].detach() for _ in range(3)]
    expected = -torch.stack(draws).mean(0).view(3, 5).T
    assert torch.allclose(bounds, expected, atol=1e-5)
    with pytest.raises(ValueError, match="samples must be >= 1"):
        model.label_bounds(x, samples=0)
