"""Application trainers draw their initial weights from the training seed alone: whatever ran
before (another model, a random draw) does not change the model they return."""

from __future__ import annotations

import torch

from latentkit.apps.colorize import train_colorizer
from latentkit.apps.denoise import train_denoiser
from latentkit.apps.semisup import hide_labels, train_m1_m2, train_m2
from latentkit.nn import NetworkConfig
from latentkit.training import TrainConfig, seeded

TRAIN = TrainConfig(epochs=1, batch_size=8, progress=False, device="cpu", seed=3)
NET = NetworkConfig(kind="mlp", hidden=(16,))


def _weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_seeded_restores_the_global_stream() -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    with seeded(5):
        inside = torch.rand(3)
    assert torch.equal(torch.rand(3), expected)  # the caller's stream is untouched
    with seeded(5):
        assert torch.equal(torch.rand(3), inside)


def test_denoiser_weights_follow_the_train_seed_not_the_global_state() -> None:
    clean = torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(1)
    first = _weights(train_denoiser(clean, 0.2, latent_dim=4, network=NET, train=TRAIN))
    torch.manual_seed(2)  # another global state before the second call
    second = _weights(train_denoiser(clean, 0.2, latent_dim=4, network=NET, train=TRAIN))
    assert _same(first, second)
    other = TRAIN.replace(seed=4)
    third = _weights(train_denoiser(clean, 0.2, latent_dim=4, network=NET, train=other))
    assert not _same(first, third)


def test_colorizer_weights_follow_the_train_seed_not_the_global_state() -> None:
    patches = torch.rand(16, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(1)
    first = _weights(train_colorizer(patches, latent_dim=4, network=NET, train=TRAIN))
    torch.rand(100)  # advance the global stream
    second = _weights(train_colorizer(patches, latent_dim=4, network=NET, train=TRAIN))
    assert _same(first, second)


def test_semi_supervised_weights_follow_the_train_seeds() -> None:
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(40, 6, generator=gen), torch.arange(40) % 2
    y_partial = hide_labels(y, 3, seed=0)
    options = dict(num_classes=2, latent_dim=2, network=NET, likelihood="gaussian", train=TRAIN)
    torch.manual_seed(1)
    first = _weights(train_m2(x, y_partial, **options))
    torch.rand(100)
    assert _same(first, _weights(train_m2(x, y_partial, **options)))
    images = torch.rand(40, 1, 4, 4, generator=gen)
    m1m2 = dict(num_classes=2, m1_latent_dim=2, m1_network=NET, m1_train=TRAIN, train=TRAIN,
                network=NET, latent_dim=2)  # fmt: skip
    torch.manual_seed(2)
    a = train_m1_m2(images, y_partial, **m1m2)
    torch.rand(100)
    b = train_m1_m2(images, y_partial, **m1m2)
    assert _same(_weights(a.m1), _weights(b.m1)) and _same(_weights(a.m2), _weights(b.m2))
