"""M1+M2 feature scaling: one scale for all of M1's code units, so collapsed units stay small."""

from __future__ import annotations

import pytest
import torch

from latentkit.apps.semisup import M1M2, code_scale, hide_labels, train_m1_m2
from latentkit.data.dataset import Dataset
from latentkit.datasets import load
from latentkit.nn import NetworkConfig
from latentkit.training.config import TrainConfig


def test_code_scale_is_the_root_mean_unit_variance() -> None:
    g = torch.Generator().manual_seed(0)
    z = torch.randn(200_000, 3, generator=g)
    codes = torch.stack([2.0 * z[:, 0], z[:, 1], torch.full_like(z[:, 2], 0.3)], dim=1)
    # unit variances 4, 1, 0: sqrt((4 + 1 + 0) / 3)
    assert float(code_scale(codes)) == pytest.approx((5 / 3) ** 0.5, rel=0.01)


def test_a_collapsed_unit_is_not_blown_up_to_the_scale_of_the_active_ones() -> None:
    g = torch.Generator().manual_seed(1)
    active = torch.randn(5000, 4, generator=g)  # posterior means of active units: var ~ 1
    collapsed = 0.01 * torch.randn(5000, 4, generator=g)  # units on the prior: near constant
    codes = torch.cat([active, collapsed], dim=1)
    scaled = codes / code_scale(codes)
    assert scaled[:, 4:].std(0).max() < 0.05  # per-unit standardisation would make it 1
    assert scaled[:, :4].std(0).min() > 1.0
    with pytest.raises(ValueError, match="expected codes"):
        code_scale(torch.zeros(1, 3))


def _m1_m2_on_digits(**options) -> tuple[M1M2, Dataset]:
    """M1+M2 trained on the digits training split with 10 labels; and the test split."""
    train, test = load("digits", "train"), load("digits", "test")
    y_partial = hide_labels(train.y, 10, seed=0)
    fast = TrainConfig(epochs=10, batch_size=64, lr=2e-3, progress=False, seed=0)
    torch.manual_seed(0)
    model = train_m1_m2(
        train.x, y_partial, num_classes=10, m1_latent_dim=16,
        m1_network=NetworkConfig(hidden=(128,)), m1_train=fast, latent_dim=8,
        network=NetworkConfig(hidden=(128,)), train=fast.replace(epochs=20), **options,
    )  # fmt: skip
    return model, test


def test_m1_m2_uses_one_scale_and_classifies_digits() -> None:
    model, test = _m1_m2_on_digits()
    assert isinstance(model, M1M2) and model.scale.ndim == 0
    assert model.features(test.x[:5]).shape == (5, 16)
    accuracy = (model.predict(test.x) == test.y).float().mean().item()
    assert accuracy > 0.5, accuracy


def test_sampled_codes_vary_between_epochs_and_predict_from_the_means() -> None:
    from latentkit.apps.semisup import _SampledInputM2, posterior_moments, train_m2
    from latentkit.models.semi_supervised import SemiSupervisedVAE
    from latentkit.models.vae import VAE, VAEConfig

    g = torch.Generator().manual_seed(2)
    mean, std = torch.randn(64, 4, generator=g), 0.5 + torch.rand(64, 4, generator=g)
    y = hide_labels(torch.arange(64) % 2, 4, seed=0)
    seen: list[torch.Tensor] = []
    original = SemiSupervisedVAE.loss

    def record(self, x, **kwargs):  # the rows M2's bound sees
        seen.append(x.detach().clone())
        return original(self, x, **kwargs)

    fast = TrainConfig(epochs=2, batch_size=128, progress=False, seed=0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SemiSupervisedVAE, "loss", record)
        m2 = train_m2(
            mean, y, num_classes=2, latent_dim=2, network=NetworkConfig(hidden=(16,)),
            likelihood="gaussian", train=fast, x_std=std, labelled_fraction=0.5,
        )  # fmt: skip
    assert type(m2) is SemiSupervisedVAE and not isinstance(m2, _SampledInputM2)
    assert m2.input_shape == (4,)
    first, second = seen  # one batch per epoch (all rows), shuffled: compare sorted rows
    assert first.shape == second.shape and first.shape[1:] == (4,)
    assert not torch.allclose(first.sort(0).values, second.sort(0).values)
    assert not any(torch.isclose(s[:, None], mean[None]).all(-1).any() for s in seen)
    assert torch.equal(m2.predict(mean), m2.predict(mean))
    with pytest.raises(ValueError, match="x_std"):
        train_m2(mean, y, num_classes=2, x_std=std[:, :2])

    vae = VAE(VAEConfig(input_shape=(4,), latent_dim=3, likelihood="gaussian"))
    means, stds = posterior_moments(vae, mean)
    assert means.shape == stds.shape == (64, 3) and bool((stds > 0).all())


def test_m1_m2_with_sampled_codes_classifies_digits() -> None:
    model, test = _m1_m2_on_digits(sample_codes=True)
    predicted = model.predict(test.x)
    assert torch.equal(predicted, model.predict(test.x))  # the means: deterministic
    accuracy = (predicted == test.y).float().mean().item()
    assert accuracy > 0.5, accuracy


def test_train_m2_passes_the_classifier_regularisers_to_its_model() -> None:
    from latentkit.apps.semisup import train_m2

    g = torch.Generator().manual_seed(3)
    x, y = torch.randn(40, 3, generator=g), hide_labels(torch.arange(40) % 2, 3, seed=0)
    fast = TrainConfig(epochs=1, batch_size=64, progress=False, seed=0)
    m2 = train_m2(
        x, y, num_classes=2, latent_dim=2, network=NetworkConfig(hidden=(8,)),
        likelihood="gaussian", train=fast, consistency=3.0, consistency_noise=0.2,
        entropy_weight=0.5,
    )  # fmt: skip
    config = m2.config
    assert (config.consistency, config.consistency_noise, config.entropy_weight) == (3.0, 0.2, 0.5)
