"""beta-TCVAE and FactorVAE: the total correlation estimators against closed forms, the
objectives' algebra, the trainer's auxiliary step, and both from the command line."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import torch

import latentkit
from latentkit.distributions.aggregate import pairwise_log_density, total_correlation
from latentkit.errors import ConfigError
from latentkit.models.factor_vae import FactorVAE, permute_dims
from latentkit.models.registry import create_model
from latentkit.training import TrainConfig, Trainer


def gaussian_tc(cov: torch.Tensor) -> float:
    """Closed form: TC of N(0, cov) = 0.5 * (sum log diag(cov) - log det cov)."""
    return 0.5 * (torch.log(torch.diagonal(cov)).sum() - torch.logdet(cov)).item()


def correlated(n: int, cov: torch.Tensor, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, len(cov), generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov).T


COV = torch.tensor([[1.0, 0.8, 0.0], [0.8, 1.0, 0.3], [0.0, 0.3, 1.0]], dtype=torch.float64)


def test_mws_total_correlation_matches_the_gaussian_closed_form():
    # posteriors N(mu_n, s2 I) with mu_n ~ N(0, COV): q(z) ~ N(0, COV + s2 I) for large N
    n, s2 = 3000, 0.2  # wide enough posteriors that the mixture of 3000 is near its limit
    mu = correlated(n, COV, 0)
    log_var = torch.full_like(mu, math.log(s2))
    z = mu + math.sqrt(s2) * torch.randn(mu.shape, generator=torch.Generator().manual_seed(1),
                                         dtype=torch.float64)  # fmt: skip
    estimate = total_correlation(z, mu, log_var).mean().item()
    exact = gaussian_tc(COV + s2 * torch.eye(3, dtype=torch.float64))
    assert exact == pytest.approx(0.3536, abs=1e-3)
    assert estimate == pytest.approx(exact, abs=0.04)
    independent = correlated(n, torch.eye(3, dtype=torch.float64), 2)
    zero = total_correlation(independent, independent, log_var).mean().item()
    assert abs(zero) < 0.04


def test_mws_is_the_mixture_density_by_brute_force():
    g = torch.Generator().manual_seed(3)
    mean, log_var = torch.randn(5, 2, generator=g), 0.3 * torch.randn(5, 2, generator=g)
    z = torch.randn(5, 2, generator=g)
    n = 40  # a batch of 5 from a dataset of 40
    mixture = []
    for i in range(5):  # log (1 / (N M)) sum_j q(z_i | x_j), jointly and per dimension
        q = torch.distributions.Normal(mean, (0.5 * log_var).exp())
        per_dim = q.log_prob(z[i])  # (5, 2)
        joint = torch.logsumexp(per_dim.sum(1), 0) - math.log(n * 5)
        dims = torch.logsumexp(per_dim, 0) - math.log(n * 5)
        mixture.append(joint - dims.sum())
    assert torch.allclose(total_correlation(z, mean, log_var, n), torch.stack(mixture), atol=1e-5)
    assert pairwise_log_density(z, mean, log_var).shape == (5, 5, 2)


def test_beta_tcvae_loss_adds_the_tc_with_its_weight():
    fields = {"latent_dim": 3, "network": {"kind": "mlp", "hidden": [16]}, "beta": 2.0}
    plain = create_model("vae", (1, 8, 8), seed=0, **fields)
    tcvae = create_model("vae", (1, 8, 8), seed=0, tc_weight=6.0, tc_dataset_size=100, **fields)
    x = torch.rand(7, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    a = plain.loss(x, generator=torch.Generator().manual_seed(4))
    b = tcvae.loss(x, generator=torch.Generator().manual_seed(4))
    tc = b.terms["total_correlation"]
    assert tc.shape == (7,)
    assert b.loss.item() == pytest.approx(a.loss.item() + (6.0 - 2.0) * tc.mean().item(), rel=1e-5)
    same = create_model("vae", (1, 8, 8), seed=0, tc_weight=2.0, **fields)  # tc_weight = beta
    assert same.loss(x, generator=torch.Generator().manual_seed(4)).loss.item() == pytest.approx(
        a.loss.item()
    )
    with pytest.raises(ConfigError, match="tc_weight"):
        create_model("vae", (1, 8, 8), tc_weight=6.0, objective="iwae")


def test_permute_dims_keeps_each_column_and_breaks_the_dependence():
    z = correlated(2000, COV, 5).float()
    p = permute_dims(z, torch.Generator().manual_seed(0))
    for d in range(3):
        assert torch.equal(torch.sort(p[:, d]).values, torch.sort(z[:, d]).values)
    assert abs(torch.corrcoef(p.T)[0, 1]) < 0.1 < 0.7 < torch.corrcoef(z.T)[0, 1]


def test_factor_vae_discriminator_estimates_the_gaussian_tc():
    # the density-ratio trick: D trained on q(z) against prod_d q(z_d) gives logit_0 - logit_1
    # ~ log q(z) / prod q(z_d), whose mean is the TC; Monte Carlo check on a known Gaussian
    model = create_model("factor_vae", (4,), seed=0, latent_dim=3, discriminator_hidden=[64, 64])
    opt = torch.optim.Adam(model.discriminator.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(1)
    for step in range(600):
        z = correlated(512, COV, 100 + step).float()
        shuffled = permute_dims(z, g)
        logits = model.discriminator(torch.cat([z, shuffled]))
        labels = torch.cat([torch.zeros(512), torch.ones(512)]).long()
        loss = torch.nn.functional.cross_entropy(logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    z = correlated(20000, COV, 7).float()
    with torch.no_grad():
        logits = model.discriminator(z)
    estimate = (logits[:, 0] - logits[:, 1]).mean().item()
    assert estimate == pytest.approx(gaussian_tc(COV), abs=0.12)  # 0.551 nats


def test_trainer_steps_the_discriminator_with_its_own_optimiser(tmp_path):
    model = create_model("factor_vae", (1, 8, 8), seed=0, latent_dim=3,
                         network={"kind": "mlp", "hidden": [32]}, discriminator_hidden=[16],
                         discriminator_lr=1e-2)  # fmt: skip
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    x = torch.rand(64, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    history = Trainer(TrainConfig(epochs=2, batch_size=16, lr=1e-3, progress=False)).fit(
        model, x, out=tmp_path / "run"
    )
    assert history["train_total_correlation"][-1] is not None
    for name, p in model.named_parameters():  # every network moved, D by its own step
        assert not torch.equal(p, before[name]), name
    loaded = latentkit.load(tmp_path / "run")
    assert torch.equal(loaded.discriminator[0].weight, model.discriminator[0].weight)
    # the main optimiser holds the VAE's parameters only
    main = torch.optim.Adam([p for p in model.parameters()])
    assert sum(len(g["params"]) for g in main.param_groups) == len(list(model.parameters()))


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "latentkit", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_both_objectives_train_from_the_command_line(tmp_path):
    common = ["--data", "digits", "--epochs", "1", "--network", "mlp", "--hidden", "32"]
    done = cli("train", "--model", "factor_vae", *common, "--out", tmp_path / "fvae", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert type(latentkit.load(tmp_path / "fvae")) is FactorVAE
    config = {"model": "vae", "model_config": {"latent_dim": 4, "tc_weight": 6.0}}
    (tmp_path / "tc.json").write_text(json.dumps(config))
    done = cli("train", "--config", tmp_path / "tc.json", *common, "--out", tmp_path / "tc",
               cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert latentkit.load(tmp_path / "tc").config.tc_weight == 6.0
    lines = (tmp_path / "tc" / "metrics.jsonl").read_text().splitlines()
    assert "train_total_correlation" in json.loads(lines[-1])
