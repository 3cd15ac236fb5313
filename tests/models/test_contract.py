"""The declared model contract: every registered model implements what its ``capabilities``
say, and nothing the flags deny is silently assumed by callers."""

from __future__ import annotations

import inspect
import pathlib
import re

import pytest
import torch

from latentkit.distributions import LIKELIHOODS, Posterior
from latentkit.errors import DataError
from latentkit.models.base import AbstractGenerativeModel, AbstractModel, Capabilities
from latentkit.models.registry import MODELS, create_model, get_model_class
from tests.models.test_model_suite import batch, make


@pytest.mark.parametrize("model_type", list(MODELS))
def test_every_model_implements_what_it_declares(model_type):
    cls = get_model_class(model_type)
    caps = cls.capabilities
    assert isinstance(caps, Capabilities)
    model = make(model_type, (1, 8, 8))
    x, y = batch(model)
    assert model.needs_labels is caps.conditional
    # generative models are exactly the subclasses of AbstractGenerativeModel
    assert caps.generative is issubclass(cls, AbstractGenerativeModel)
    if caps.generative:
        q = model.posterior(x, y)
        assert isinstance(q, Posterior)
        assert q.mean.shape == (6, model.latent_dim)
        shape = model.input_shape  # (1, 8, 8); models of mixed tables: their columns
        assert model.sample(2, y=1 if caps.conditional else None).shape == (2, *shape)
    if caps.likelihood_bound:
        log_w = model.log_importance_weights(x, 3, y=y)
        assert log_w.shape == (3, 6) and torch.isfinite(log_w).all()
    if caps.gaussian_posterior:
        assert model.posterior(x, y).kl_per_dim().shape == (6, model.latent_dim)
    if caps.classifier:
        assert model.predict(x).shape == (6,)
        assert model.class_logits(x).shape[0] == 6
    if caps.decoder_likelihood:
        params = model.decoder_params(model.encode(x, y), y)
        assert model.likelihood.log_prob(params, x).shape == (6,)
    if caps.auxiliary_step:
        auxiliary = model.auxiliary_parameters()
        assert auxiliary and all(isinstance(p, torch.nn.Parameter) for p in auxiliary)
        optimizer = model.auxiliary_optimizer()
        model.zero_grad()
        loss = model.auxiliary_loss(x, y=y, generator=torch.Generator().manual_seed(0))
        assert loss.shape == () and torch.isfinite(loss)
        loss.backward()
        touched = {id(p) for p in model.parameters() if p.grad is not None}
        assert touched == {id(p) for p in auxiliary}  # the codes are inputs, not trained
        optimizer.step()
    if caps.missing_values:  # NaN entries are gaps: finite per-sample losses all the same
        assert torch.isnan(x).any()
        out = model.loss(x, y=y)
        assert all(torch.isfinite(t).all() for t in out.per_sample().values())
    if caps.tabular:  # one likelihood per column, 0 for a missing value
        params = model.decoder_params(model.encode(x))
        per_column = model.likelihood.log_prob_columns(params, x)
        assert per_column.shape == x.shape
        assert (per_column[torch.isnan(x)] == 0).all()
    if caps.conditional and not caps.classifier:  # M2 infers missing labels itself
        with pytest.raises(ValueError, match="labels"):
            model.loss(x)


def test_capabilities_of_the_family():
    expected = {
        "autoencoder": Capabilities(),
        "vae": Capabilities(True, True, True, False, False, True),
        "conditional_vae": Capabilities(True, True, True, True, False, True),
        "semi_supervised_vae": Capabilities(True, True, True, True, True, True),
        "hierarchical_vae": Capabilities(True, True, True),
        "discrete_vae": Capabilities(True, True),
        "sequence_vae": Capabilities(True, True, True, sequence=True),
        "factor_vae": Capabilities(True, True, True, decoder_likelihood=True, auxiliary_step=True),
        "tabular_vae": Capabilities(True, True, True, missing_values=True, tabular=True),
    }
    assert {m: get_model_class(m).capabilities for m in MODELS} == expected


def test_generative_models_must_implement_log_importance_weights():
    abstract = AbstractGenerativeModel.__abstractmethods__
    assert {"log_importance_weights", "posterior", "sample"} <= abstract
    assert {"encode", "decode", "loss"} <= AbstractModel.__abstractmethods__


@pytest.mark.parametrize("name", list(LIKELIHOODS))
def test_data_range_is_the_likelihoods_declared_support(name):
    model = create_model("vae", (4,), likelihood=name, latent_dim=2)
    assert model.data_range == LIKELIHOODS[name].support
    bounded = name in ("bernoulli", "continuous_bernoulli")
    assert (model.data_range == (0.0, 1.0)) is bounded


def test_autoencoder_data_range_follows_its_reconstruction_loss():
    assert create_model("ae", (4,), reconstruction="bce").data_range == (0.0, 1.0)
    assert create_model("ae", (4,), reconstruction="mse").data_range is None


def test_trainer_refuses_data_outside_the_declared_support():
    from latentkit.training import TrainConfig, Trainer

    model = create_model("vae", (4,), latent_dim=2)  # bernoulli: support (0, 1)
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        Trainer(TrainConfig(epochs=1, progress=False)).fit(model, torch.randn(8, 4) * 3)


def test_metadata_is_declared_and_filled_by_load(tmp_path):
    import latentkit

    model = create_model("vae", (4,), latent_dim=2)
    assert model.metadata == {}
    model.save(tmp_path / "m", extra={"note": "hi"})
    assert latentkit.load(tmp_path / "m").metadata == {"note": "hi"}


def test_no_caller_probes_models_with_hasattr_or_model_type():
    """Library code reads capabilities: no hasattr(model, ...) and no model_type comparisons."""
    import latentkit

    root = pathlib.Path(inspect.getfile(latentkit)).parent
    pattern = re.compile(r"hasattr\((self\.)?model\b|model_type\s*[!=]=|getattr\((self\.)?model\b")
    offenders = [
        f"{path.relative_to(root)}:{i}"
        for path in root.rglob("*.py")
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


@pytest.mark.parametrize("model_type", list(MODELS))
def test_inference_outputs_carry_no_graph(model_type):
    model = make(model_type, (1, 8, 8))
    x, y = batch(model)
    outputs = [model.encode(x, y), model.reconstruct(x, y)]
    outputs.append(model.decode(outputs[0], y))
    if model.capabilities.generative:
        outputs.append(model.sample(2, y=1 if model.capabilities.conditional else None))
    for out in outputs:
        assert not out.requires_grad and out.grad_fn is None
        out.numpy()  # what users do first; fails on a tensor that requires grad
    assert model.loss(x, y=y).loss.requires_grad  # training still has its graph
