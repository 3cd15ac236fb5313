"""Priors: log densities against torch / explicit enumeration, sampling, registry."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from latentkit.distributions import (
    PRIORS,
    DiagonalGaussian,
    MixtureOfGaussiansPrior,
    StandardNormalPrior,
    VampPrior,
    build_prior,
)
from latentkit.errors import ConfigError


class _TinyModel(nn.Module):
    """An encoder plus a VampPrior that uses it, as a VAE would wire them."""

    def __init__(self, shape: tuple[int, ...], latent_dim: int, k: int) -> None:
        super().__init__()
        self.encoder = nn.Linear(math.prod(shape), 2 * latent_dim)
        self.prior = VampPrior(latent_dim, shape, k)
        self.prior.set_posterior_fn(self.posterior)

    def posterior(self, x: torch.Tensor) -> DiagonalGaussian:
        mean, log_var = self.encoder(x.flatten(1)).chunk(2, dim=-1)
        return DiagonalGaussian(mean, log_var)


def test_standard_normal() -> None:
    prior = StandardNormalPrior(3)
    z = torch.randn(5, 2, 3)
    expected = Independent(Normal(torch.zeros(3), torch.ones(3)), 1).log_prob(z)
    torch.testing.assert_close(prior.log_prob(z), expected)
    assert prior.analytic_kl and not MixtureOfGaussiansPrior(3).analytic_kl
    assert list(prior.state_dict()) == []
    assert prior.to(torch.float64).sample(2).dtype == torch.float64


@pytest.mark.parametrize("name", ["normal", "mog", "vamp"])
def test_sample_shape_reproducibility_and_temperature(name: str) -> None:
    torch.manual_seed(0)
    model = _TinyModel((1, 4, 4), 3, 5)
    prior = model.prior if name == "vamp" else build_prior(name, 3, (1, 4, 4), n_components=1)
    if name == "mog":  # one component at the origin with unit variance
        nn.init.zeros_(prior.means)
    if name == "vamp":  # every pseudo-input maps to N(0, I)
        nn.init.zeros_(model.encoder.weight)
        nn.init.zeros_(model.encoder.bias)
    samples = prior.sample(4, torch.Generator().manual_seed(1))
    assert samples.shape == (4, 3) and not samples.requires_grad
    assert torch.equal(samples, prior.sample(4, torch.Generator().manual_seed(1)))
    assert not torch.equal(samples, prior.sample(4, torch.Generator().manual_seed(2)))
    for temperature in (0.5, 1.0, 2.0):
        z = prior.sample(20_000, torch.Generator().manual_seed(0), temperature=temperature)
        assert z.std().item() == pytest.approx(temperature, rel=0.03)
    with pytest.raises(ValueError, match="temperature"):
        prior.sample(2, temperature=-1.0)


def _randomised_mog(k: int = 4, d: int = 3) -> MixtureOfGaussiansPrior:
    prior = MixtureOfGaussiansPrior(d, k)
    with torch.no_grad():
        prior.log_vars.normal_(0, 0.5)
        prior.logits.normal_()
    return prior


def test_mog_log_prob_matches_mixture_same_family() -> None:
    prior = _randomised_mog()
    reference = MixtureSameFamily(
        Categorical(logits=prior.logits),
        Independent(Normal(prior.means, (0.5 * prior.log_vars).exp()), 1),
    )
    z = torch.randn(6, 2, 3) * 2
    torch.testing.assert_close(prior.log_prob(z), reference.log_prob(z))
    prior.log_prob(z).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in prior.parameters())


def test_mog_samples_follow_the_weights() -> None:
    prior = _randomised_mog()
    z = prior.sample(50_000, torch.Generator().manual_seed(0))
    weights = prior.logits.softmax(0).detach()
    torch.testing.assert_close(z.mean(0), weights @ prior.means.detach(), atol=0.03, rtol=0)


def test_vamp_log_prob_matches_enumeration_over_components() -> None:
    model = _TinyModel((1, 4, 4), 3, 5)
    prior = model.prior
    z = torch.randn(7, 2, 3)
    per_k = []
    for k in range(5):
        u = prior.pseudo_inputs[k : k + 1]
        mean, log_var = model.encoder(u.flatten(1)).chunk(2, dim=-1)
        per_k.append(Independent(Normal(mean[0], (0.5 * log_var[0]).exp()), 1).log_prob(z))
    expected = torch.logsumexp(torch.stack(per_k, -1), -1) - math.log(5)
    torch.testing.assert_close(prior.log_prob(z), expected)
    prior.log_prob(z).sum().backward()
    assert prior.pseudo_raw.grad is not None and model.encoder.weight.grad is not None


def test_vamp_does_not_duplicate_the_encoder() -> None:
    model = _TinyModel((1, 4, 4), 3, 5)
    assert list(model.prior.state_dict()) == ["pseudo_raw"]
    assert set(model.state_dict()) == {"encoder.weight", "encoder.bias", "prior.pseudo_raw"}
    assert len(list(model.parameters())) == 3


def test_vamp_pseudo_inputs_in_data_range() -> None:
    images = VampPrior(2, (1, 4, 4), 6)
    assert images.pseudo_inputs.shape == (6, 1, 4, 4)
    assert images.squash and images.pseudo_inputs.min() >= 0 and images.pseudo_inputs.max() <= 1
    table = VampPrior(2, (8,), 6)
    assert not table.squash and table.pseudo_inputs.min() < 0


def test_vamp_without_posterior_says_what_to_do() -> None:
    with pytest.raises(RuntimeError, match="set_posterior_fn"):
        VampPrior(2, (4,), 3).log_prob(torch.zeros(1, 2))


def test_vamp_zero_temperature_gives_component_means() -> None:
    model = _TinyModel((4,), 2, 3)
    z = model.prior.sample(10, torch.Generator().manual_seed(0), temperature=0.0)
    means = model.prior.components().mean.detach()
    assert all((means == row).all(-1).any() for row in z)


def test_build_prior_registry() -> None:
    assert set(PRIORS) == {"normal", "mog", "vamp"}
    assert isinstance(build_prior("normal", 4, (3,)), StandardNormalPrior)
    assert build_prior("mog", 4, (3,), n_components=7).means.shape == (7, 4)
    assert build_prior("vamp", 4, (1, 2, 2), n_components=3).pseudo_raw.shape == (3, 1, 2, 2)
    with pytest.raises(ConfigError, match="normal, mog, vamp"):
        build_prior("flow", 4, (3,))
    with pytest.raises(ConfigError, match="n_components"):
        build_prior("mog", 4, (3,), n_components=0)
    with pytest.raises(ConfigError, match="latent_dim"):
        build_prior("normal", 0, (3,))
