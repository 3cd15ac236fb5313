"""The one evaluation path: eval_mode, batches, batched and evaluate, checked against closed
forms (the linear-Gaussian VAE) and against direct computation."""

from __future__ import annotations

import pytest
import torch

from latentkit.evaluation import batched, batches, eval_mode, evaluate
from latentkit.models.registry import create_model
from tests.models.test_vae_math import linear_gaussian_vae


def test_eval_mode_restores_the_previous_mode_even_on_error():
    model = create_model("vae", (4,), latent_dim=2, network={"hidden": [8], "dropout": 0.5})
    model.train()
    with pytest.raises(RuntimeError), eval_mode(model):
        assert not model.training
        raise RuntimeError("boom")
    assert model.training
    model.eval()
    with eval_mode(model):
        pass
    assert not model.training


def test_batches_cover_every_row_once_with_labels_alongside():
    x, y = torch.arange(10.0)[:, None], torch.arange(10)
    parts = list(batches(x, y, batch_size=4))
    assert [len(xb) for xb, _ in parts] == [4, 4, 2]
    assert torch.equal(torch.cat([yb for _, yb in parts]), y)
    with pytest.raises(ValueError, match="one label per row"):
        list(batches(x, y[:3]))
    with pytest.raises(ValueError, match="batch_size"):
        list(batches(x, batch_size=0))


def test_batched_equals_one_pass_and_returns_plain_tensors():
    model = create_model("vae", (6,), latent_dim=3, likelihood="gaussian")
    x = torch.randn(37, 6)
    with torch.no_grad():
        whole = model.eval().encode(x)
    model.train()
    got = batched(model.encode, x, model=model, batch_size=5)
    assert torch.allclose(got, whole, atol=1e-6)
    assert model.training  # mode restored
    assert not got.requires_grad and not got.is_inference()
    means, stds = batched(
        lambda xb, yb: (model.posterior(xb).mean, model.posterior(xb).std), x, model=model
    )
    assert means.shape == stds.shape == (37, 3) and (stds > 0).all()
    with pytest.raises(ValueError, match="empty"):
        batched(model.encode, x[:0], model=model)


def test_evaluate_matches_the_closed_form_log_likelihood():
    model, b, cov = linear_gaussian_vae()
    exact_dist = torch.distributions.MultivariateNormal(b, covariance_matrix=cov)
    x = exact_dist.sample((40,))
    result = evaluate(model, x, k=7, seed=0, batch_size=16)
    exact = exact_dist.log_prob(x)
    # the encoder is the exact posterior: every importance weight equals p(x), so the ELBO
    # and the IWAE estimate are both log p(x) exactly
    assert torch.allclose(result.per_sample["log_likelihood"].double(), exact, atol=1e-5)
    assert torch.allclose(result.per_sample["elbo"].double(), exact, atol=1e-5)
    assert result.summary["nll_iwae_k7"] == pytest.approx(-float(exact.mean()), abs=1e-5)
    assert result.summary["negative_elbo"] == pytest.approx(-float(exact.mean()), abs=1e-5)
    # squared error against a direct computation; codes are the posterior means
    recon = model.decode(model.encode(x)).detach()
    direct = (recon - x).square().sum(1)
    assert torch.allclose(result.per_sample["squared_error"], direct, atol=1e-8)
    assert torch.allclose(result.codes, model.encode(x).detach(), atol=1e-10)
    assert result.summary["samples"] == 40
    assert result.summary["active_units"] == 2
    assert set(result.per_sample) >= {"reconstruction", "kl", "squared_error"}


def test_evaluate_is_seeded_and_reads_capabilities():
    torch.manual_seed(0)
    ae = create_model("autoencoder", (1, 6, 6), latent_dim=3)
    x = torch.rand(9, 1, 6, 6)
    result = evaluate(ae, x, images=True)
    assert "negative_elbo" not in result.summary and "active_units" not in result.summary
    assert result.per_sample["psnr"].shape == (9,)
    vae = create_model("vae", (1, 6, 6), latent_dim=3)
    a, b = evaluate(vae, x, k=5, seed=3), evaluate(vae, x, k=5, seed=3)
    assert a.summary == b.summary
    assert evaluate(vae, x, k=5, seed=4).summary != a.summary
    partial = evaluate(vae, x, k=5, iwae_points=4)
    assert partial.per_sample["log_likelihood"].shape == (4,)


def test_evaluate_passes_labels_only_to_conditional_models():
    cvae = create_model("conditional_vae", (5,), latent_dim=2, num_classes=3,
                        likelihood="gaussian")  # fmt: skip
    x, y = torch.randn(8, 5), torch.randint(0, 3, (8,))
    result = evaluate(cvae, x, y, k=3)
    assert torch.isfinite(result.per_sample["log_likelihood"]).all()
    vae = create_model("vae", (5,), latent_dim=2, likelihood="gaussian")
    assert evaluate(vae, x, y, k=3).summary["samples"] == 8  # labels ignored, not an error


def test_squared_error_leaves_out_only_the_missing_inputs():
    model = create_model("tabular_vae", (3,), latent_dim=2)  # three numeric columns
    x = torch.randn(9, 3)
    x[::2, 1] = float("nan")
    x[1::3, 0] = float("nan")
    result = evaluate(model, x, k=2, seed=0)
    with torch.no_grad():
        recon = model.eval().decode(model.encode(x))
    observed = ~torch.isnan(x)
    expected = torch.where(observed, recon - x, torch.zeros(())).square().sum(1)
    assert torch.allclose(result.per_sample["squared_error"], expected, atol=1e-6)
    # a diverged model: its NaN reconstructions are not hidden, with or without gaps
    model.decode = lambda code, y=None: torch.full((len(code), 3), float("nan"))
    assert torch.isnan(evaluate(model, x, k=2, seed=0).per_sample["squared_error"]).all()
    vae = create_model("vae", (4,), latent_dim=2, likelihood="gaussian")
    vae.decode = lambda code, y=None: torch.full((len(code), 4), float("nan"))
    result = evaluate(vae, torch.randn(5, 4), k=2, seed=0)
    assert torch.isnan(result.per_sample["squared_error"]).all()
    assert result.summary["squared_error"] != 0
