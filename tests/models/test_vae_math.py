"""Model-specific maths: closed-form likelihood, IWAE >= ELBO, M2 enumeration, schedules."""

from __future__ import annotations

import math

import pytest
import torch

from latentkit import (
    VAE,
    ConditionalVAE,
    ConditionalVAEConfig,
    SemiSupervisedVAE,
    SemiSupervisedVAEConfig,
    VAEConfig,
)
from latentkit.errors import ConfigError
from latentkit.evaluation import active_units, elbo, kl_per_dimension, log_likelihood
from latentkit.evaluation.likelihood import _default_max_rows
from latentkit.models import schedules
from latentkit.nn import NetworkConfig

LINEAR = NetworkConfig(hidden=())


def linear_gaussian_vae(sigma: float = 0.5) -> tuple[VAE, torch.Tensor, torch.Tensor]:
    """A linear-Gaussian VAE (probabilistic PCA) whose encoder is the exact posterior.

    x = W z + b + sigma * eps with orthogonal columns in W, so the posterior
    N(S W^T (x - b) / sigma^2, S) with S = (I + W^T W / sigma^2)^-1 is diagonal and exact,
    and p(x) = N(b, W W^T + sigma^2 I) in closed form.
    """
    torch.manual_seed(0)
    d, latent = 5, 2
    model = VAE(
        VAEConfig(
            input_shape=(d,),
            latent_dim=latent,
            network=LINEAR,
            likelihood="gaussian",
            likelihood_scale=sigma,
        )
    ).double()
    q, _ = torch.linalg.qr(torch.randn(d, d, dtype=torch.float64))
    w = q[:, :latent] * torch.tensor([2.0, 0.7], dtype=torch.float64)  # (D, L)
    b = torch.randn(d, dtype=torch.float64)
    s = 1.0 / (1.0 + (w * w).sum(0) / sigma**2)  # (L,) diagonal posterior variance
    with torch.no_grad():
        model.decoder.mlp.out.weight.copy_(w)
        model.decoder.mlp.out.bias.copy_(b)
        enc = model.encoder.mlp.out
        enc.weight.zero_()
        enc.weight[:latent] = (s[:, None] * w.T) / sigma**2
        enc.bias[:latent] = -(s[:, None] * w.T / sigma**2) @ b
        enc.bias[latent:] = torch.log(s)
    cov = w @ w.T + sigma**2 * torch.eye(d, dtype=torch.float64)
    return model, b, cov


def test_log_likelihood_matches_closed_form_for_linear_gaussian():
    model, b, cov = linear_gaussian_vae()
    exact_dist = torch.distributions.MultivariateNormal(b, covariance_matrix=cov)
    x = exact_dist.sample((64,))
    exact = exact_dist.log_prob(x)
    g = torch.Generator().manual_seed(0)
    # the encoder is the exact posterior: every importance weight equals p(x)
    for k in (1, 7):
        estimate = log_likelihood(model, x, k=k, batch_size=16, max_rows=20, generator=g)
        assert torch.allclose(estimate.double(), exact, atol=1e-6), (estimate - exact).abs().max()
    assert torch.allclose(elbo(model, x, samples=3, generator=g).double(), exact, atol=1e-6)


def _perturbed_linear_gaussian_vae():
    """The linear-Gaussian VAE with its decoder scaled by 1.2, so that the encoder is no longer
    the exact posterior and the importance weights vary; and the exact ``log p(x)``."""
    model, b, _ = linear_gaussian_vae()
    with torch.no_grad():
        model.decoder.mlp.out.weight.mul_(1.2)
    w = model.decoder.mlp.out.weight.detach()
    sigma = model.config.likelihood_scale
    cov = w @ w.T + sigma**2 * torch.eye(len(b), dtype=torch.float64)
    return model, torch.distributions.MultivariateNormal(b, covariance_matrix=cov)


def test_log_likelihood_chunking_does_not_change_the_estimate():
    assert _default_max_rows(torch.device("cpu")) == 2048
    assert _default_max_rows(torch.device("cuda")) > _default_max_rows(torch.device("cpu"))
    model, exact = _perturbed_linear_gaussian_vae()
    x = exact.sample((10,))
    # the default (chunks of 10 x 204 rows) and tiny chunks (10 x 3 rows) agree with the
    # closed form and with each other: the streaming log-sum-exp over chunks is exact (if only
    # the last chunk counted, the error would be about log(2000 / 204) = 2.3 nats)
    estimates = []
    for max_rows in (None, 30):
        g = torch.Generator().manual_seed(0)
        estimate = log_likelihood(model, x, k=2000, batch_size=10, max_rows=max_rows, generator=g)
        assert (estimate.double() - exact.log_prob(x)).abs().max() < 0.15, max_rows
        estimates.append(estimate)
    assert (estimates[0] - estimates[1]).abs().mean() < 0.06  # Monte Carlo noise only
    with pytest.raises(ValueError, match="max_rows"):
        log_likelihood(model, x, k=5, max_rows=0)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_log_likelihood_on_cuda_matches_the_closed_form_and_is_seeded():
    model, exact = _perturbed_linear_gaussian_vae()
    model.to("cuda")
    x = exact.sample((32,))  # on the CPU: moved to the GPU batch by batch

    def estimate(seed: int) -> torch.Tensor:
        g = torch.Generator(device="cuda").manual_seed(seed)
        return log_likelihood(model, x, k=2000, batch_size=16, generator=g)

    first = estimate(0)
    assert first.device.type == "cpu"
    assert (first.double() - exact.log_prob(x)).abs().max() < 0.15
    assert torch.equal(first, estimate(0))
    assert not torch.equal(first, estimate(1))


def test_iwae_bound_is_above_elbo_and_grows_with_k():
    torch.manual_seed(0)
    model = VAE(VAEConfig(input_shape=(1, 8, 8), latent_dim=4, network=NetworkConfig(hidden=(32,))))
    x = (torch.rand(200, 1, 8, 8, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    g = torch.Generator().manual_seed(2)
    lower = elbo(model, x, samples=50, generator=g).mean()
    bounds = [log_likelihood(model, x, k=k, generator=g).mean() for k in (1, 10, 100)]
    one_sample = log_likelihood(model, x.repeat(20, 1, 1, 1), k=1, generator=g).mean()
    assert abs(one_sample - lower) < 0.5  # k = 1 is an unbiased ELBO estimate
    assert lower < bounds[1] < bounds[2]
    assert bounds[2] - lower > 1.0  # a clear gap for an untrained model


def test_iwae_objective_equals_logmeanexp_of_weights():
    torch.manual_seed(0)
    model = VAE(
        VAEConfig(
            input_shape=(6,),
            latent_dim=3,
            network=NetworkConfig(hidden=(8,)),
            objective="iwae",
            iwae_samples=5,
        )
    )
    x = torch.rand(4, 6)
    out = model.loss(x, generator=torch.Generator().manual_seed(3))
    log_w = model.log_importance_weights(x, 5, generator=torch.Generator().manual_seed(3))
    expected = -(torch.logsumexp(log_w, 0) - math.log(5)).mean()
    assert torch.allclose(out.loss, expected, atol=1e-5)


def near_deterministic(model: torch.nn.Module) -> None:
    """Push the encoder's log-variance to its floor so that z equals the posterior mean."""
    last = model.encoder.mlp.out
    with torch.no_grad():
        half = last.out_features // 2
        last.weight[half:] = 0
        last.bias[half:] = -60.0


def test_m2_unlabelled_loss_equals_enumeration_over_labels():
    torch.manual_seed(0)
    classes = 3
    model = SemiSupervisedVAE(
        SemiSupervisedVAEConfig(
            input_shape=(6,),
            latent_dim=2,
            num_classes=classes,
            network=NetworkConfig(hidden=(8,)),
            alpha=0.7,
        )
    )
    near_deterministic(model)
    x = torch.rand(5, 6)
    unlabelled = model.loss(x, y=torch.full((5,), -1)).loss
    qy = torch.softmax(model.class_logits(x), dim=1)  # (N, classes)
    explicit = torch.zeros(5)
    for c in range(classes):
        bound, _, _ = model.labelled_bound(x, torch.full((5,), c), None, None)
        explicit += qy[:, c] * bound
    explicit += (qy * qy.log()).sum(1)  # minus the entropy
    assert torch.allclose(unlabelled, explicit.mean(), atol=1e-4)
    # labelled rows: their own bound plus alpha times the classification loss
    y = torch.tensor([0, 1, 2, 0, 1])
    labelled = model.loss(x, y=y).loss
    own, _, _ = model.labelled_bound(x, y, None, None)
    ce = torch.nn.functional.cross_entropy(model.class_logits(x), y, reduction="none")
    assert torch.allclose(labelled, (own + 0.7 * ce).mean(), atol=1e-4)


def test_conditional_vae_samples_depend_on_label():
    torch.manual_seed(0)
    model = ConditionalVAE(
        ConditionalVAEConfig(
            input_shape=(6,), latent_dim=2, num_classes=4, network=NetworkConfig(hidden=(8,))
        )
    )
    a = model.sample(3, generator=torch.Generator().manual_seed(0), y=1)
    b = model.sample(3, generator=torch.Generator().manual_seed(0), y=2)
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 4\)"):
        model.sample(2, y=7)
    with pytest.raises(ValueError, match="needs labels"):
        model.loss(torch.rand(2, 6))


def test_kl_warmup_beta_capacity_and_free_bits():
    assert schedules.linear_warmup(0, 100) == 0.0
    assert schedules.linear_warmup(50, 100, final=4.0) == 2.0
    assert schedules.linear_warmup(None, 100, final=4.0) == 4.0
    assert schedules.capacity(25, 20.0, 100) == 5.0
    assert schedules.cyclical_warmup(150, 100, ratio=0.5) == 1.0
    assert schedules.cyclical_warmup(125, 100, ratio=0.5) == 0.5
    torch.manual_seed(0)
    x = torch.rand(8, 6)
    base = {"input_shape": [6], "latent_dim": 3, "network": {"hidden": [8]}}
    plain = VAE(VAEConfig.from_dict(base))
    state = plain.state_dict()

    def loss_of(**fields):
        model = VAE(VAEConfig.from_dict({**base, **fields}))
        model.load_state_dict(state)
        return model.loss(
            x, generator=torch.Generator().manual_seed(0), step=fields.pop("_step", 10)
        )

    ref = loss_of()
    assert torch.allclose(ref.loss, ref.reconstruction.mean() + ref.kl.mean())
    beta4 = loss_of(beta=4.0)
    assert torch.allclose(beta4.loss, ref.reconstruction.mean() + 4 * ref.kl.mean())
    warm = loss_of(warmup_steps=40)  # step 10 of 40: weight 0.25
    assert torch.allclose(warm.loss, ref.reconstruction.mean() + 0.25 * ref.kl.mean())
    cap = loss_of(capacity_max=8.0, capacity_steps=20, capacity_gamma=3.0)  # C = 4 at step 10
    assert torch.allclose(cap.loss, ref.reconstruction.mean() + 3.0 * (ref.kl.mean() - 4.0).abs())
    fb = loss_of(free_bits=5.0)  # every dimension below 5 nats: counts as 5
    assert torch.allclose(fb.loss, ref.reconstruction.mean() + torch.tensor(15.0))
    with pytest.raises(ConfigError, match="capacity_max or free_bits"):
        VAEConfig.from_dict({**base, "free_bits": 1.0, "capacity_max": 2.0})


def test_mc_kl_for_learned_prior_is_unbiased_against_enumeration():
    torch.manual_seed(0)
    model = VAE(
        VAEConfig(
            input_shape=(6,),
            latent_dim=2,
            network=NetworkConfig(hidden=(8,)),
            prior="mog",
            prior_components=3,
        )
    )
    x = torch.rand(4, 6)
    q = model.posterior(x)
    z = q.rsample(torch.Generator().manual_seed(0), sample_shape=(20000,))  # (S, N, L)
    mc = (q.log_prob(z) - model.prior.log_prob(z)).mean(0)
    single = torch.stack([model.kl_divergence(q, zi) for zi in z[:2000]]).mean(0)
    assert torch.allclose(single, mc, atol=0.1)
    assert (mc > 0).all()


def test_diagnostics_count_active_units():
    torch.manual_seed(0)
    model = VAE(VAEConfig(input_shape=(6,), latent_dim=4, network=NetworkConfig(hidden=())))
    with torch.no_grad():  # only dimension 0 of the posterior mean depends on x
        model.encoder.mlp.out.weight.zero_()
        model.encoder.mlp.out.weight[0, 0] = 3.0
        model.encoder.mlp.out.bias.zero_()
    x = torch.rand(500, 6)
    assert active_units(model, x) == 1
    kl = kl_per_dimension(model, x)
    assert kl.shape == (4,)
    assert kl[0] > 0.1 and torch.allclose(kl[1:], torch.zeros(3), atol=1e-6)
    with pytest.raises(TypeError, match="VAE family"):
        from latentkit import Autoencoder, AutoencoderConfig

        log_likelihood(Autoencoder(AutoencoderConfig(input_shape=(6,))), x)
