"""The heterogeneous-likelihood VAE: the per-column likelihoods and the masked ELBO against a
hand computation on a tiny table, the encoder's view of gaps, and its sampling."""

from __future__ import annotations

import math

import pytest
import torch

from latentkit.distributions.mixed import MixedLikelihood, encoder_features
from latentkit.errors import ConfigError
from latentkit.models.registry import create_model

KINDS = ("numeric", "binary", "categorical")
LEVELS = (1, 2, 3)
NAN = float("nan")


def test_log_prob_sums_the_observed_columns_by_hand() -> None:
    likelihood = MixedLikelihood(KINDS, LEVELS)
    assert likelihood.n_params == 2 + 1 + 3
    row = [0.5, math.log(2.0), 0.3, 0.0, math.log(2.0), math.log(3.0)]
    params = torch.tensor([row, row], dtype=torch.float64)
    x = torch.tensor([[1.5, 1.0, 2.0], [NAN, 0.0, NAN]], dtype=torch.float64)
    gaussian = -0.5 * 0.5**2 - math.log(2.0) - 0.5 * math.log(2 * math.pi)  # z = (1.5-0.5)/2
    sigmoid = 1 / (1 + math.exp(-0.3))
    full = gaussian + math.log(sigmoid) + math.log(3 / 6)  # softmax of (1, 2, 3) at level 2
    gappy = math.log(1 - sigmoid)  # only the binary 0 is observed
    got = likelihood.log_prob(params, x)
    assert got.tolist() == pytest.approx([full, gappy], rel=1e-12)
    per_column = likelihood.log_prob_columns(params, x)
    assert per_column[1].tolist() == pytest.approx([0.0, math.log(1 - sigmoid), 0.0])
    assert likelihood.mean(params)[0].tolist() == [0.5, 1.0, 2.0]  # mean, mode, mode


def test_encoder_sees_values_one_hot_levels_and_the_mask() -> None:
    x = torch.tensor([[0.75, 1.0, 2.0], [NAN, 0.0, NAN], [0.0, NAN, 0.0]])
    features = encoder_features(x, KINDS, LEVELS)
    assert features.tolist() == [
        [0.75, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0],
        [0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0],
    ]  # a missing number reads 0 like an observed 0: only the mask tells them apart


def _model(**extra):
    torch.manual_seed(0)
    return create_model("tabular_vae", (3,), kinds=list(KINDS), levels=list(LEVELS), latent_dim=2,
                        network={"hidden": [8]}, **extra).double()  # fmt: skip


def test_masked_elbo_is_the_hand_computed_one() -> None:
    model = _model()
    x = torch.tensor([[1.5, 1.0, 2.0], [NAN, 0.0, NAN], [-0.2, NAN, 0.0]], dtype=torch.float64)
    out = model.loss(x, generator=torch.Generator().manual_seed(3))
    q = model.posterior(x)
    mean, var = q.mean, q.std**2
    eps = torch.randn(mean.shape, generator=torch.Generator().manual_seed(3), dtype=mean.dtype)
    z = mean + q.std * eps
    params = model.decoder_params(z)
    recon = torch.zeros(3, dtype=torch.float64)
    for n in range(3):  # every observed entry, by hand
        for j, kind in enumerate(KINDS):
            value = x[n, j]
            if torch.isnan(value):
                continue
            p = model.likelihood._slice(params[n : n + 1], j)[0]
            if kind == "numeric":
                sd = torch.exp(p[1])
                recon[n] -= -0.5 * ((value - p[0]) / sd) ** 2 - p[1] - 0.5 * math.log(2 * math.pi)
            elif kind == "binary":
                prob = torch.sigmoid(p[0])
                recon[n] -= torch.log(prob if value == 1 else 1 - prob)
            else:
                recon[n] -= torch.log_softmax(p, 0)[int(value)]
    kl = 0.5 * (mean**2 + var - 1 - torch.log(var)).sum(1)
    assert out.reconstruction.tolist() == pytest.approx(recon.tolist(), rel=1e-10)
    assert out.kl.tolist() == pytest.approx(kl.tolist(), rel=1e-10)
    assert out.loss.item() == pytest.approx((recon + kl).mean().item(), rel=1e-10)


def test_iwae_bound_is_at_least_the_elbo_on_average() -> None:
    model = _model()
    x = torch.tensor([[1.5, 1.0, 2.0], [NAN, 0.0, NAN]], dtype=torch.float64).repeat(200, 1)
    log_w = model.log_importance_weights(x, 20, generator=torch.Generator().manual_seed(0))
    iwae = torch.logsumexp(log_w, 0) - math.log(20)
    assert iwae.mean() >= log_w.mean()


def test_samples_are_valid_codes() -> None:
    model = _model()
    rows = model.sample(500, generator=torch.Generator().manual_seed(0))
    assert rows.shape == (500, 3) and not torch.isnan(rows).any()
    assert set(rows[:, 1].tolist()) <= {0.0, 1.0}
    assert set(rows[:, 2].tolist()) == {0.0, 1.0, 2.0}
    again = model.sample(500, generator=torch.Generator().manual_seed(0))
    assert torch.equal(rows, again)


def test_config_is_checked() -> None:
    with pytest.raises(ConfigError, match="tables, not images"):
        create_model("tabular_vae", (1, 8, 8))
    with pytest.raises(ConfigError, match="one entry per column"):
        create_model("tabular_vae", (3,), kinds=["numeric"], levels=[1])
    with pytest.raises(ConfigError, match="binary column cannot have 3 levels"):
        create_model("tabular_vae", (1,), kinds=["binary"], levels=[3])
    assert create_model("tabular_vae", (4,)).likelihood.kinds == ("numeric",) * 4


def test_total_correlation_weight_adds_the_tc_term_as_for_the_vae() -> None:
    fields = {"kinds": list(KINDS), "levels": list(LEVELS), "latent_dim": 2}
    x = torch.tensor([[1.5, 1.0, 2.0], [NAN, 0.0, NAN], [0.2, NAN, 1.0]])
    plain = create_model("tabular_vae", (3,), seed=0, **fields)
    tc = create_model("tabular_vae", (3,), seed=0, tc_weight=6.0, **fields)
    out = tc.loss(x, generator=torch.Generator().manual_seed(0))
    base = plain.loss(x, generator=torch.Generator().manual_seed(0))
    total_correlation = out.terms["total_correlation"]
    assert total_correlation.shape == (3,)
    torch.testing.assert_close(out.loss, base.loss + 5.0 * total_correlation.mean())
    with pytest.raises(ConfigError, match=r"tc_weight \(beta-TCVAE\) works with the ELBO"):
        create_model("tabular_vae", (3,), tc_weight=6.0, objective="iwae", **fields)
