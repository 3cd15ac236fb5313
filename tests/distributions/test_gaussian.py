"""DiagonalGaussian: sampling, log density, analytic KL against torch and Monte Carlo."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import Independent, Normal, kl_divergence

from latentkit.distributions import (
    LOG_VAR_MAX,
    LOG_VAR_MIN,
    DiagonalGaussian,
    MixtureOfGaussiansPrior,
    StandardNormalPrior,
)


def _q(n: int = 4, d: int = 3, seed: int = 1) -> DiagonalGaussian:
    g = torch.Generator().manual_seed(seed)
    return DiagonalGaussian(torch.randn(n, d, generator=g), 0.5 * torch.randn(n, d, generator=g))


def _torch(q: DiagonalGaussian) -> Independent:
    return Independent(Normal(q.mean, q.std), 1)


def test_shapes_and_moments() -> None:
    q = _q()
    torch.testing.assert_close(q.var, q.log_var.exp())
    torch.testing.assert_close(q.std, q.var.sqrt())
    assert q.rsample().shape == (4, 3)
    assert q.rsample(sample_shape=(7, 2)).shape == (7, 2, 4, 3)
    z = q.sample(torch.Generator().manual_seed(0), (20000,))
    torch.testing.assert_close(z.mean(0), q.mean, atol=0.05, rtol=0)
    torch.testing.assert_close(z.std(0), q.std, atol=0.05, rtol=0.02)


def test_generator_reproducible() -> None:
    q = _q()
    a = q.rsample(torch.Generator().manual_seed(3), (5,))
    b = q.rsample(torch.Generator().manual_seed(3), (5,))
    c = q.rsample(torch.Generator().manual_seed(4), (5,))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_rsample_is_differentiable_and_sample_is_not() -> None:
    mean = torch.zeros(2, 3, requires_grad=True)
    log_var = torch.zeros(2, 3, requires_grad=True)
    q = DiagonalGaussian(mean, log_var)
    q.rsample(torch.Generator().manual_seed(0)).sum().backward()
    assert mean.grad is not None and log_var.grad is not None and log_var.grad.abs().sum() > 0
    assert not q.sample().requires_grad


def test_log_prob_matches_torch() -> None:
    q = _q()
    z = q.sample(torch.Generator().manual_seed(0), (6,))  # (6, 4, 3)
    torch.testing.assert_close(q.log_prob(z), _torch(q).log_prob(z))
    assert q.log_prob(z).shape == (6, 4)


def test_entropy_matches_torch() -> None:
    q = _q()
    torch.testing.assert_close(q.entropy(), _torch(q).entropy())


def test_kl_to_standard_normal_matches_torch_and_prior_object() -> None:
    q = _q()
    std = Independent(Normal(torch.zeros(4, 3), torch.ones(4, 3)), 1)
    torch.testing.assert_close(q.kl(), kl_divergence(_torch(q), std))
    torch.testing.assert_close(q.kl(StandardNormalPrior(3)), q.kl())
    torch.testing.assert_close(q.kl_per_dim().sum(-1), q.kl())
    per_dim = kl_divergence(Normal(q.mean, q.std), Normal(0.0, 1.0))
    torch.testing.assert_close(q.kl_per_dim(), per_dim)


def test_kl_matches_monte_carlo() -> None:
    q = _q()
    z = q.sample(torch.Generator().manual_seed(0), (200_000,))  # (S, N, D)
    monte_carlo = (q.log_prob(z) - StandardNormalPrior(3).log_prob(z)).mean(0)
    torch.testing.assert_close(q.kl(), monte_carlo, atol=0.03, rtol=0.02)


def test_kl_between_two_gaussians_matches_torch() -> None:
    q, p = _q(seed=1), _q(seed=2)
    torch.testing.assert_close(q.kl(p), kl_divergence(_torch(q), _torch(p)))
    torch.testing.assert_close(q.kl(q), torch.zeros(4), atol=1e-6, rtol=0)
    broadcast = DiagonalGaussian(torch.zeros(1, 3), torch.zeros(1, 3))
    torch.testing.assert_close(q.kl(broadcast), q.kl())


def test_kl_to_mixture_asks_for_monte_carlo() -> None:
    with pytest.raises(TypeError, match="Monte Carlo"):
        _q().kl(MixtureOfGaussiansPrior(3))


def test_kl_to_prior_of_wrong_size() -> None:
    with pytest.raises(ValueError, match="latent_dim"):
        _q().kl(StandardNormalPrior(5))


def test_log_var_is_clamped() -> None:
    q = DiagonalGaussian(torch.zeros(1, 2), torch.tensor([[-1000.0, 1000.0]]))
    assert q.log_var.tolist() == [[LOG_VAR_MIN, LOG_VAR_MAX]]
    assert torch.isfinite(q.kl()).all() and torch.isfinite(q.log_prob(torch.ones(1, 2))).all()


def test_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="same shape"):
        DiagonalGaussian(torch.zeros(2, 3), torch.zeros(2, 4))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cpu_generator_draws_for_cuda_tensors() -> None:
    q = _q()
    on_gpu = DiagonalGaussian(q.mean.cuda(), q.log_var.cuda())
    a = on_gpu.rsample(torch.Generator().manual_seed(0), (3,))
    b = q.rsample(torch.Generator().manual_seed(0), (3,))
    assert a.device.type == "cuda"
    torch.testing.assert_close(a.cpu(), b)
    cuda_gen = torch.Generator(device="cuda").manual_seed(0)
    assert on_gpu.rsample(cuda_gen).device.type == "cuda"
