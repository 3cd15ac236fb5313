"""Likelihoods: log densities against torch.distributions, hand derivations and integrals."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Bernoulli, ContinuousBernoulli, Independent, Normal

from latentkit.distributions import (
    LIKELIHOODS,
    BernoulliLikelihood,
    ContinuousBernoulliLikelihood,
    GaussianLikelihood,
    LearnedScaleGaussianLikelihood,
    OptimalSigmaGaussianLikelihood,
    build_likelihood,
)
from latentkit.errors import ConfigError

SHAPE = (2, 3, 5)
# logits near 0 (lambda ~ 0.5, around the series thresholds) and of large magnitude
LOGITS = [0.0, 1e-6, -1e-4, 0.01, -0.0999, 0.1001, -0.3, 0.4999, -0.5001, 2.0, -7.0, 15.0, -20.0]


def _data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(4, *SHAPE, generator=g) * 3, torch.rand(4, *SHAPE, generator=g)


def test_bernoulli_matches_torch_including_extreme_logits() -> None:
    logits, _ = _data()
    logits[0, 0, 0, :3] = torch.tensor([-80.0, 80.0, 0.0])
    x = torch.bernoulli(torch.full_like(logits, 0.5))
    expected = Independent(Bernoulli(logits=logits), 3).log_prob(x)
    torch.testing.assert_close(BernoulliLikelihood().log_prob(logits, x), expected)
    torch.testing.assert_close(BernoulliLikelihood().mean(logits), torch.sigmoid(logits))


def test_gaussian_fixed_scale_matches_torch() -> None:
    mean, x = _data()
    likelihood = GaussianLikelihood(scale=0.3)
    expected = Independent(Normal(mean, 0.3), 3).log_prob(x)
    torch.testing.assert_close(likelihood.log_prob(mean, x), expected)
    assert likelihood.mean(mean) is mean


@pytest.mark.parametrize("per_dimension", [False, True])
def test_learned_scale_gaussian_matches_torch(per_dimension: bool) -> None:
    likelihood = build_likelihood("learned_gaussian", SHAPE, per_dimension=per_dimension)
    assert likelihood.raw_log_scale.shape == (SHAPE if per_dimension else ())
    with torch.no_grad():
        likelihood.raw_log_scale.copy_(torch.empty_like(likelihood.raw_log_scale).uniform_(-2, 1))
    mean, x = _data()
    scale = likelihood.raw_log_scale.exp().expand_as(mean)
    expected = Independent(Normal(mean, scale), 3).log_prob(x)
    torch.testing.assert_close(likelihood.log_prob(mean, x), expected)
    likelihood.log_prob(mean, x).sum().backward()
    assert likelihood.raw_log_scale.grad is not None


def test_learned_scale_is_clamped() -> None:
    likelihood = LearnedScaleGaussianLikelihood()
    with torch.no_grad():
        likelihood.raw_log_scale.fill_(-50.0)
    assert likelihood.log_scale.item() == -6.0
    mean, x = _data()
    assert torch.isfinite(likelihood.log_prob(mean, x)).all()


def test_optimal_sigma_is_root_mse_and_log_prob_matches_hand_derivation() -> None:
    likelihood = OptimalSigmaGaussianLikelihood()
    mean, x = _data()
    mean.requires_grad_(True)
    log_prob = likelihood.log_prob(mean, x)
    mse = (x - mean).detach().square().mean()
    assert likelihood.log_sigma.exp().item() == pytest.approx(mse.sqrt().item(), rel=1e-5)
    # with sigma^2 = MSE the squared errors sum to N * M * sigma^2, so the batch mean of
    # log p is -M/2 (1 + log(2 pi) + log MSE), M = elements per sample
    m = math.prod(SHAPE)
    hand = -0.5 * m * (1 + math.log(2 * math.pi) + math.log(mse.item()))
    assert log_prob.mean().item() == pytest.approx(hand, rel=1e-5)
    per_sample = -0.5 * ((x - mean) ** 2).flatten(1).sum(1) / mse - 0.5 * m * (
        math.log(2 * math.pi) + mse.log()
    )
    torch.testing.assert_close(log_prob, per_sample)
    log_prob.sum().backward()  # sigma is detached: d/dmean = (x - mean) / MSE
    torch.testing.assert_close(mean.grad, (x - mean).detach() / mse)


def test_optimal_sigma_floor_running_value_and_eval_mode() -> None:
    likelihood = OptimalSigmaGaussianLikelihood(min_log_sigma=-4.0)
    x = torch.rand(3, 4)
    likelihood.log_prob(x, x)  # perfect reconstruction: sigma floored
    assert likelihood.log_sigma.item() == -4.0
    likelihood.log_prob(x + 1.0, x)  # MSE 1: log sigma 0, folded in with momentum 0.1
    assert likelihood.log_sigma.item() == pytest.approx(-3.6)
    likelihood.eval()
    mean = x + 0.5 * torch.randn(3, 4)
    whole = likelihood.log_prob(mean, x)
    torch.testing.assert_close(whole[:1], likelihood.log_prob(mean[:1], x[:1]))
    torch.testing.assert_close(whole, Independent(Normal(mean, math.exp(-3.6)), 1).log_prob(x))
    assert likelihood.log_sigma.item() == pytest.approx(-3.6)  # eval does not update


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_continuous_bernoulli_matches_torch(dtype: torch.dtype) -> None:
    logits = torch.tensor(LOGITS, dtype=dtype).repeat(3, 1)  # (3, L)
    x = torch.tensor([0.0, 0.37, 1.0], dtype=dtype)[:, None].expand_as(logits)
    ours = ContinuousBernoulliLikelihood()
    reference = ContinuousBernoulli(logits=logits.double())
    expected = reference.log_prob(x.double())
    per_element = torch.stack(
        [ours.log_prob(logits[:, i : i + 1], x[:, i : i + 1]) for i in range(len(LOGITS))], 1
    )
    tol = 1e-5 if dtype == torch.float32 else 1e-9
    torch.testing.assert_close(per_element.double(), expected, atol=tol, rtol=tol)
    torch.testing.assert_close(ours.mean(logits).double(), reference.mean, atol=tol, rtol=tol)


def _integrate(logit: float, f) -> float:  # type: ignore[no-untyped-def]
    """Trapezoid rule of ``f(x) * exp(-bce(logit, x))`` over [0, 1] on a fine grid."""
    x = torch.linspace(0, 1, 400_001, dtype=torch.float64)
    eta = torch.full_like(x, logit)
    unnormalised = torch.exp(
        -torch.nn.functional.binary_cross_entropy_with_logits(eta, x, reduction="none")
    )
    return torch.trapezoid(f(x) * unnormalised, x).item()


@pytest.mark.parametrize("logit", [-100.0, -30.0, -3.0, -0.2, 0.0, 1e-3, 0.7, 5.0, 50.0])
def test_continuous_bernoulli_normaliser_and_mean_by_integration(logit: float) -> None:
    ours = ContinuousBernoulliLikelihood()
    eta = torch.tensor([[logit]])  # float32, as models use it
    mass = _integrate(logit, torch.ones_like)
    first_moment = _integrate(logit, lambda x: x)
    assert ours.log_normalizer(eta).item() == pytest.approx(-math.log(mass), rel=1e-5, abs=1e-6)
    assert ours.mean(eta).item() == pytest.approx(first_moment / mass, rel=1e-4, abs=1e-6)


def test_continuous_bernoulli_gradients_are_finite_near_half_and_extremes() -> None:
    eta = torch.tensor([[0.0, 1e-7, -0.5, 0.5, 1.0, -1.0, 60.0, -200.0]], requires_grad=True)
    x = torch.full_like(eta, 0.4)
    ours = ContinuousBernoulliLikelihood()
    (ours.log_prob(eta, x).sum() + ours.mean(eta).sum()).backward()
    assert torch.isfinite(eta.grad).all()
    # at eta = 0: d log C = 1/eta - 1/sinh(eta) -> 0, d(-bce) = x - 1/2, d mean = 1/12
    assert eta.grad[0, 0].item() == pytest.approx(0.4 - 0.5 + 1 / 12, abs=1e-5)


def test_continuous_bernoulli_is_continuous_across_series_thresholds() -> None:
    ours = ContinuousBernoulliLikelihood()
    for t in (0.1, 0.5):
        eta = torch.tensor([[t - 1e-4, t + 1e-4]], dtype=torch.float64)
        assert abs(ours.log_normalizer(eta).diff().item()) < 1e-4
        assert abs(ours.mean(eta).diff().item()) < 1e-4


@pytest.mark.parametrize("name", sorted(LIKELIHOODS))
def test_samples_shape_reproducible_and_mean(name: str) -> None:
    likelihood = build_likelihood(name, (6,), scale=0.2)
    params = torch.tensor([-30.0, -2.0, -0.3, 0.0, 0.8, 25.0]).repeat(20_000, 1)
    if name == "optimal_gaussian":
        likelihood.log_prob(params, params + 0.2)  # sets sigma = 0.2
    sample = likelihood.sample(params, torch.Generator().manual_seed(0))
    assert sample.shape == params.shape and not sample.requires_grad
    assert torch.equal(sample, likelihood.sample(params, torch.Generator().manual_seed(0)))
    atol = 0.03 if name == "learned_gaussian" else 0.01  # scale 1: 4 standard errors
    torch.testing.assert_close(sample.mean(0), likelihood.mean(params)[0], atol=atol, rtol=0)
    if "gaussian" in name and name != "learned_gaussian":
        assert sample.std(0).mean().item() == pytest.approx(0.2, rel=0.02)
    if "bernoulli" in name:
        assert sample.min() >= 0 and sample.max() <= 1


def test_shapes_must_match() -> None:
    for name in LIKELIHOODS:
        with pytest.raises(ValueError, match="same shape"):
            build_likelihood(name, (3,)).log_prob(torch.zeros(2, 3), torch.zeros(2, 4))


def test_build_likelihood_registry() -> None:
    assert set(LIKELIHOODS) == {
        "bernoulli",
        "gaussian",
        "learned_gaussian",
        "optimal_gaussian",
        "continuous_bernoulli",
    }
    for name, cls in LIKELIHOODS.items():
        assert type(build_likelihood(name, SHAPE)) is cls and cls.name == name
    assert build_likelihood("gaussian", SHAPE, scale=0.1).scale == 0.1
    with pytest.raises(ConfigError, match="bernoulli, gaussian"):
        build_likelihood("poisson", SHAPE)
    with pytest.raises(ConfigError, match="scale"):
        build_likelihood("gaussian", SHAPE, scale=0.0)
