"""The patch-based image apps (denoise, colorize, inpaint) train through one helper,
``apps.patchwise.train_on_patches``; the residual denoiser uses the trainer's cosine schedule."""

from __future__ import annotations

import pytest
import torch

from latentkit._seeding import build_seeded
from latentkit.apps.colorize import train_colorizer
from latentkit.apps.denoise import cosine_lr, train_denoiser, train_residual_denoiser
from latentkit.apps.inpaint import inpaint, train_inpainter
from latentkit.apps.patchwise import train_on_patches
from latentkit.models.autoencoder import Autoencoder, AutoencoderConfig
from latentkit.nn import NetworkConfig, ResidualDenoiser, ResidualDenoiserConfig
from latentkit.training import TrainConfig
from latentkit.training.config import CorruptionConfig
from latentkit.training.schedules import schedule_factor

TRAIN = TrainConfig(epochs=1, batch_size=8, progress=False, device="cpu", seed=3)
NET = NetworkConfig(kind="mlp", hidden=(16,))


def _weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def _patches(channels: int) -> torch.Tensor:
    return torch.rand(16, channels, 8, 8, generator=torch.Generator().manual_seed(0))


def test_equal_seeds_give_equal_weights_and_training_moves_them() -> None:
    patches = _patches(1)
    corruption = CorruptionConfig(kind="gaussian", amount=0.2)
    torch.manual_seed(0)
    before = torch.rand(3)
    torch.manual_seed(0)
    model = train_on_patches(patches, corruption, latent_dim=4, network=NET, train=TRAIN)
    assert torch.equal(torch.rand(3), before)  # the global stream is not used
    assert not model.training and model.input_shape == (1, 8, 8)
    trained = _weights(model)
    again = train_on_patches(patches, corruption, latent_dim=4, network=NET, train=TRAIN)
    assert _same(trained, _weights(again))
    config = AutoencoderConfig(input_shape=(1, 8, 8), latent_dim=4, network=NET)
    initial = _weights(build_seeded(lambda: Autoencoder(config), TRAIN.seed))
    assert not _same(trained, initial)  # one epoch (two steps) changed the weights
    other = train_on_patches(
        patches, corruption, latent_dim=4, network=NET, train=TRAIN.replace(seed=4)
    )
    assert not _same(trained, _weights(other))


@pytest.mark.parametrize(
    ("train_app", "channels", "corruption"),
    [
        (lambda x, **kw: train_denoiser(x, 0.2, **kw), 1,
         CorruptionConfig(kind="gaussian", amount=0.2, clip=True)),
        (train_colorizer, 3, CorruptionConfig(kind="grayscale")),
        (train_inpainter, 1, CorruptionConfig(kind="mask", amount=0.5)),
        (lambda x, **kw: train_inpainter(x, kind="box_mask", amount=0.25, **kw), 1,
         CorruptionConfig(kind="box_mask", amount=0.25)),
    ],
    ids=["denoiser", "colorizer", "inpainter", "box-inpainter"],
)  # fmt: skip
def test_each_app_trains_through_the_shared_helper(train_app, channels, corruption) -> None:
    patches = _patches(channels)
    app = train_app(patches, latent_dim=4, network=NET, train=TRAIN)
    shared = train_on_patches(patches, corruption, latent_dim=4, network=NET, train=TRAIN)
    assert isinstance(app, Autoencoder) and not app.training
    assert app.config == shared.config
    assert _same(_weights(app), _weights(shared))


def test_train_inpainter_feeds_inpaint_and_refuses_other_corruptions() -> None:
    images = _patches(1)
    model = train_inpainter(images, latent_dim=4, network=NET, train=TRAIN)
    missing = torch.zeros_like(images, dtype=torch.bool)
    missing[..., 2:5, 2:5] = True
    filled = inpaint(model, images, missing)
    assert torch.equal(filled[~missing], images[~missing])
    with pytest.raises(ValueError, match="kind must be one of"):
        train_inpainter(images, kind="gaussian", train=TRAIN)


def test_cosine_lr_is_a_deprecated_alias_of_the_trainer_schedule() -> None:
    schedule = TrainConfig(lr=1e-3, min_lr=1e-5, scheduler="cosine")
    for step in (0, 10, 50, 99, 100):
        with pytest.warns(DeprecationWarning, match="schedule_factor"):
            value = cosine_lr(step, 100, 1e-3, 1e-5)
        assert value == pytest.approx(1e-3 * schedule_factor(schedule, 0, step, 100))


def test_residual_denoiser_weights_follow_the_seed_and_its_schedule_is_the_trainers() -> None:
    patches = _patches(1)
    config = ResidualDenoiserConfig(depth=2, width=4)
    rates: list[float] = []
    torch.manual_seed(0)
    model = train_residual_denoiser(patches, config=config, steps=4, batch_size=4, seed=5)
    torch.rand(10)  # another global state
    again = train_residual_denoiser(patches, config=config, steps=4, batch_size=4, seed=5)
    assert _same(_weights(model), _weights(again))
    initial = _weights(build_seeded(lambda: ResidualDenoiser(config), 5))
    assert not _same(_weights(model), initial)

    original = torch.optim.Adam.step

    def record(self, *args, **kwargs):
        rates.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.optim.Adam, "step", record)
        train_residual_denoiser(patches, config=config, steps=4, batch_size=4, lr=1e-2,
                                final_lr=1e-4)  # fmt: skip
    schedule = TrainConfig(lr=1e-2, min_lr=1e-4, scheduler="cosine")
    assert rates == pytest.approx([1e-2 * schedule_factor(schedule, 0, s, 4) for s in range(4)])
    with pytest.raises(ValueError, match="final_lr"):
        train_residual_denoiser(patches, config=config, steps=1, lr=1e-3, final_lr=1e-2)
