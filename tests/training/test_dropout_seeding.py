"""Draws from torch's global generator inside the loop (dropout masks) follow the training
seed: the trainer runs each epoch under ``latentkit._seeding.seeded`` with a seed derived from
``(TrainConfig.seed, "global", epoch, rank)``. Two runs with the same seed are identical
whatever the caller's random state, a resumed run draws what the uninterrupted one drew, and
the caller's global stream is left as it was."""

from __future__ import annotations

import pytest
import torch

from latentkit.models.registry import create_model
from latentkit.training import TrainConfig, Trainer
from tests.training.tiny import Interrupt, StopAfter

CONFIG = TrainConfig(epochs=3, batch_size=16, lr=1e-2, device="cpu", progress=False, seed=7)


def dropout_model(model_type: str = "ae"):
    return create_model(model_type, (6,), latent_dim=2, seed=0,
                        network={"hidden": [32, 32], "dropout": 0.5})  # fmt: skip


def data() -> torch.Tensor:
    return torch.rand(48, 6, generator=torch.Generator().manual_seed(0))


def weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("model_type", ["ae", "vae"])
def test_same_seed_same_weights_whatever_the_global_state(model_type):
    runs = []
    for caller_seed in (1, 2):
        torch.manual_seed(caller_seed)  # the caller's stream differs between the two runs
        net = dropout_model(model_type)
        Trainer(CONFIG).fit(net, data())
        runs.append(weights(net))
    assert same(runs[0], runs[1])


def test_dropout_draws_follow_the_training_seed():
    runs = []
    for seed in (7, 8):
        net = dropout_model()
        Trainer(CONFIG.replace(seed=seed, epochs=1)).fit(net, data())
        runs.append(weights(net))
    assert not same(runs[0], runs[1])


def test_fit_leaves_the_global_stream_untouched(tmp_path):
    net = dropout_model()
    torch.manual_seed(3)
    expected = torch.rand(4)
    torch.manual_seed(3)
    Trainer(CONFIG).fit(net, data(), out=tmp_path / "run")
    assert torch.equal(torch.rand(4), expected)
    torch.manual_seed(3)
    Trainer(CONFIG.replace(epochs=4)).fit(net, data(), out=tmp_path / "run", resume=True)
    assert torch.equal(torch.rand(4), expected)  # a resume does not set it either


def test_interrupted_and_resumed_equals_uninterrupted(tmp_path):
    torch.manual_seed(11)
    full = dropout_model()
    Trainer(CONFIG).fit(full, data(), out=tmp_path / "a")

    torch.manual_seed(12)  # another caller state for the interrupted run ...
    part = dropout_model()
    with pytest.raises(Interrupt):
        Trainer(CONFIG, callbacks=[StopAfter(1)]).fit(part, data(), out=tmp_path / "b")
    torch.manual_seed(13)  # ... and for the resumed one
    resumed = dropout_model()
    Trainer(CONFIG).fit(resumed, data(), out=tmp_path / "b", resume=True)
    assert same(weights(full), weights(resumed))


def test_the_model_really_draws_dropout_masks():
    net = dropout_model().train()
    x = data()[:4]
    assert not torch.equal(net.encode(x), net.encode(x))  # training mode: masks differ


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_dropout_follows_the_seed_and_leaves_the_cuda_stream():
    config = CONFIG.replace(device="cuda")
    runs = []
    for caller_seed in (1, 2):
        torch.manual_seed(caller_seed)  # seeds the CUDA generators too
        net = dropout_model()
        Trainer(config).fit(net, data())
        runs.append({k: v.cpu() for k, v in weights(net).items()})
    for key in runs[0]:  # CUDA kernels may differ in the last bits, never in the masks
        torch.testing.assert_close(runs[0][key], runs[1][key], rtol=1e-5, atol=1e-6)
    torch.manual_seed(3)
    expected = torch.rand(4, device="cuda")
    torch.manual_seed(3)
    Trainer(config).fit(dropout_model(), data())
    assert torch.equal(torch.rand(4, device="cuda"), expected)


def test_seeded_on_the_cpu_is_the_plain_helper():
    from latentkit._seeding import seeded

    with seeded(5):
        plain = torch.rand(3)
    with seeded(5, torch.device("cpu")):
        assert torch.equal(torch.rand(3), plain)
