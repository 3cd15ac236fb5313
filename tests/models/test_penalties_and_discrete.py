"""Autoencoder penalties and discrete latents against direct computations."""

from __future__ import annotations

import math

import pytest
import torch

from latentkit import Autoencoder, AutoencoderConfig, DiscreteVAE, DiscreteVAEConfig
from latentkit.models.discrete import DiscretePosterior
from latentkit.models.schedules import exponential_temperature
from latentkit.nn import NetworkConfig

NET = NetworkConfig(hidden=(7,), activation="tanh")


def autoencoder(**fields) -> Autoencoder:
    torch.manual_seed(0)
    return Autoencoder(AutoencoderConfig(input_shape=(5,), latent_dim=3, network=NET, **fields))


def test_contractive_penalty_equals_the_jacobian_frobenius_norm():
    model = autoencoder(contractive_weight=1.0)
    x = torch.rand(4, 5)
    terms = model.loss(x).terms["contractive"]
    for i in range(4):
        jac = torch.autograd.functional.jacobian(lambda v: model.encoder(v[None])[0], x[i])
        assert terms[i].item() == pytest.approx(jac.square().sum().item(), rel=1e-5)


def test_projected_contractive_penalty_is_unbiased():
    exact = autoencoder(contractive_weight=1.0).loss(
        torch.rand(4, 5, generator=torch.Generator().manual_seed(1))
    )
    model = autoencoder(contractive_weight=1.0, contractive_projections=4000)
    x = torch.rand(4, 5, generator=torch.Generator().manual_seed(1))
    estimate = model.loss(x, generator=torch.Generator().manual_seed(0)).terms["contractive"]
    assert torch.allclose(estimate, exact.terms["contractive"], rtol=0.1)


def test_sparsity_penalties_and_total_loss():
    x = torch.rand(6, 5)
    l1 = autoencoder(sparsity="l1", sparsity_weight=0.5)
    out = l1.loss(x)
    code = l1.encode(x)
    assert torch.allclose(out.terms["sparsity"], code.abs().sum(1))
    assert torch.allclose(out.loss, (out.reconstruction + 0.5 * code.abs().sum(1)).mean())
    kl = autoencoder(sparsity="kl", sparsity_target=0.1)
    rho_hat = torch.sigmoid(kl.encode(x)).mean(0)
    expected = (0.1 * torch.log(0.1 / rho_hat) + 0.9 * torch.log(0.9 / (1 - rho_hat))).sum()
    assert torch.allclose(kl.loss(x).terms["sparsity"], expected.expand(6))


def test_overcomplete_autoencoder_and_mse_reconstruction():
    torch.manual_seed(0)
    model = Autoencoder(AutoencoderConfig(input_shape=(5,), latent_dim=20, network=NET,
                                          reconstruction="mse"))  # fmt: skip
    x = torch.randn(3, 5)
    out = model.loss(x)
    assert model.encode(x).shape == (3, 20)
    assert torch.allclose(out.reconstruction, (model.reconstruct(x) - x).square().sum(1))


def test_categorical_kl_and_log_prob_match_torch():
    logits = torch.randn(4, 3, 5)  # (N, groups, categories)
    q = DiscretePosterior(logits, "categorical")
    cat = torch.distributions.Categorical(logits=logits)
    uniform = torch.distributions.Categorical(logits=torch.zeros(4, 3, 5))
    expected = torch.distributions.kl_divergence(cat, uniform).sum(-1)
    assert torch.allclose(q.kl(), expected, atol=1e-5)
    z = q.sample(torch.Generator().manual_seed(0))  # one-hot (N, 15)
    index = z.view(4, 3, 5).argmax(-1)
    assert torch.allclose(q.log_prob(z), cat.log_prob(index).sum(-1), atol=1e-5)


def test_bernoulli_latents_kl_matches_torch():
    logits = torch.randn(4, 6)
    q = DiscretePosterior(logits, "bernoulli")
    expected = torch.distributions.kl_divergence(
        torch.distributions.Bernoulli(logits=logits),
        torch.distributions.Bernoulli(probs=0.5 * torch.ones(4, 6)),
    ).sum(-1)
    assert torch.allclose(q.kl(), expected, atol=1e-5)


def test_gumbel_softmax_relaxation_and_annealing():
    logits = torch.log(torch.tensor([[[0.7, 0.2, 0.1]]])).expand(20000, 1, 3).contiguous()
    q = DiscretePosterior(logits, "categorical")
    hard = q.rsample(0.1, True, torch.Generator().manual_seed(0))  # straight-through one-hot
    assert torch.allclose(hard, hard.round(), atol=1e-6)  # one-hot up to float rounding
    # at low temperature the relaxed samples pick categories with the posterior probabilities
    freq = hard.mean(0)
    assert torch.allclose(freq, torch.tensor([0.7, 0.2, 0.1]), atol=0.02)
    soft = q.rsample(5.0, False, torch.Generator().manual_seed(0))
    assert soft.max() < 1.0 and torch.allclose(soft.sum(1), torch.ones(20000))
    assert exponential_temperature(0, 1.0, 0.5, 1e-3) == 1.0
    assert exponential_temperature(10_000, 1.0, 0.5, 1e-3) == 0.5
    assert exponential_temperature(100, 1.0, 0.5, 1e-3) == pytest.approx(math.exp(-0.1))
    model = DiscreteVAE(DiscreteVAEConfig(input_shape=(6,), groups=2, categories=3,
                                          network=NetworkConfig(hidden=(8,))))  # fmt: skip
    probabilities = model.encode(torch.rand(5, 6))
    assert probabilities.shape == (5, 6)
    assert torch.allclose(probabilities.view(5, 2, 3).sum(-1), torch.ones(5, 2))
