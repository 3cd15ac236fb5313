"""The training loop: determinism, resume, NaN guard, early stopping, files, DDP."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
from safetensors.torch import load_file

from latentkit.errors import CheckpointError, ConfigError, TrainingError
from latentkit.safe_tensors import validate_header
from latentkit.training import Callback, CorruptionConfig, TrainConfig, Trainer
from latentkit.training import checkpoint as ckpt
from tests.training.tiny import (
    DDP_CONFIG,
    NO_TORCHRUN,
    Interrupt,
    StopAfter,
    make_model,
    run_ddp_worker,
    tiny_data,
    weights,
)

FAST = dict(device="cpu", progress=False, batch_size=16)


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


class Recorder(Callback):
    def __init__(self) -> None:
        self.weights: dict[int, dict[str, torch.Tensor]] = {}

    def on_epoch_end(self, epoch, record, model):
        self.weights[epoch] = weights(model)


def test_same_seed_same_weights_and_other_seed_differs():
    config = TrainConfig(epochs=2, binarize="dynamic", **FAST)
    runs = []
    for seed in (0, 0, 1):
        model = make_model(variational=True)
        Trainer(config.replace(seed=seed)).fit(model, tiny_data())
        runs.append(weights(model))
    assert_same(runs[0], runs[1])
    assert not torch.equal(runs[0]["dec.2.weight"], runs[2]["dec.2.weight"])


@pytest.mark.parametrize("scheduler", ["cosine", "plateau"])
def test_interrupted_run_resumes_to_identical_weights(tmp_path, scheduler):
    config = TrainConfig(epochs=3, scheduler=scheduler, binarize="dynamic", grad_clip=5.0,
                         early_stopping_patience=5, **FAST)  # fmt: skip
    full = make_model(variational=True)
    expected = Trainer(config).fit(full, tiny_data(), tiny_data(20, seed=1), out=tmp_path / "a")

    part = make_model(variational=True)
    with pytest.raises(Interrupt):
        Trainer(config, callbacks=[StopAfter(1)]).fit(
            part, tiny_data(), tiny_data(20, seed=1), out=tmp_path / "b"
        )
    resumed_model = make_model(variational=True, seed=123)  # different init: all comes from disk
    resumed = Trainer(config).fit(
        resumed_model, tiny_data(), tiny_data(20, seed=1), out=tmp_path / "b", resume=True
    )
    assert_same(weights(full), weights(resumed_model))
    drop = {"seconds", "samples_per_second"}
    strip = [{k: v for k, v in r.items() if k not in drop} for r in resumed.records]
    assert strip == [{k: v for k, v in r.items() if k not in drop} for r in expected.records]
    lines = (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]


def test_resume_without_checkpoint_starts_afresh_and_refuses_other_model(tmp_path):
    config = TrainConfig(epochs=1, **FAST)
    Trainer(config).fit(make_model(), tiny_data(), out=tmp_path, resume=True)
    with pytest.raises(CheckpointError, match="same model config"):
        Trainer(config.replace(epochs=2)).fit(
            make_model(hidden=8), tiny_data(), out=tmp_path, resume=True
        )


def test_corrupt_newest_checkpoint_is_skipped(tmp_path):
    config = TrainConfig(epochs=2, keep_checkpoints=3, **FAST)
    Trainer(config).fit(make_model(), tiny_data(), out=tmp_path)
    newest = tmp_path / "checkpoints" / "epoch-000002.safetensors"
    newest.write_bytes(newest.read_bytes()[:-7] + b"garbage")
    found = ckpt.latest_checkpoint(tmp_path / "checkpoints")
    assert found is not None and found.epoch == 1


def test_nan_guard_rolls_back_and_recovers(tmp_path, caplog):
    config = TrainConfig(epochs=2, nan_check_every=2, **FAST)
    model = make_model(nan_at_call=3)  # the third training step produces a NaN loss
    history = Trainer(config).fit(model, tiny_data(), out=tmp_path)
    assert history.nan_rollbacks == 1
    assert "epoch 1, step 3" in caplog.text
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())
    assert history.records[-1]["lr"] == pytest.approx(config.lr * config.nan_lr_factor)
    assert all(r["train_loss"] is not None for r in history.records)


def test_nan_guard_gives_up_on_a_hopeless_learning_rate(tmp_path):
    config = TrainConfig(epochs=3, optimizer="sgd", lr=1e12, max_nan_retries=2,
                         nan_check_every=1, **FAST)  # fmt: skip
    with pytest.raises(TrainingError, match=r"epoch \d+, step \d+"):
        Trainer(config).fit(make_model(), tiny_data(), out=tmp_path)
    for path in (tmp_path / "checkpoints").glob("*.safetensors"):  # none is non-finite
        assert all(torch.isfinite(t).all() for t in load_file(path).values())


def test_non_finite_checkpoint_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="not finite"):
        ckpt.save_checkpoint(tmp_path, 1, {"model.w": torch.tensor([1.0, float("nan")])}, {})
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_amp_runs_in_mixed_precision_and_resumes_identically(tmp_path, amp):
    """The mixed-precision path (autocast; for fp16 a GradScaler whose state is checkpointed)
    runs on the CPU too, so it is tested here, not only on CUDA."""
    config = TrainConfig(epochs=3, binarize="dynamic", amp=amp, **FAST)
    dtypes: set[torch.dtype] = set()
    reference = make_model(variational=True)
    reference.dec[2].register_forward_hook(lambda m, i, out: dtypes.add(out.dtype))
    history = Trainer(config).fit(reference, tiny_data(), out=tmp_path / "a")
    assert dtypes == {torch.bfloat16 if amp == "bf16" else torch.float16}
    assert all(v.dtype == torch.float32 for v in reference.state_dict().values())
    fp32 = Trainer(config.replace(amp="none")).fit(make_model(variational=True), tiny_data())
    losses = [r["train_loss"] for r in history.records]
    assert losses[-1] < losses[0]
    assert losses[-1] == pytest.approx(fp32.records[-1]["train_loss"], rel=0.05)
    meta = ckpt.latest_checkpoint(tmp_path / "a" / "checkpoints").meta
    assert (meta["grad_scaler"] is not None) == (amp == "fp16")
    if amp == "fp16":  # overflowing steps were skipped and the scale backed off: the resume
        assert meta["grad_scaler"]["scale"] < 2.0**16  # below has a scaler state to restore

    with pytest.raises(Interrupt):
        Trainer(config, callbacks=[StopAfter(1)]).fit(
            make_model(variational=True), tiny_data(), out=tmp_path / "b"
        )
    resumed = make_model(variational=True, seed=5)
    Trainer(config).fit(resumed, tiny_data(), out=tmp_path / "b", resume=True)
    assert_same(weights(reference), weights(resumed))


def test_early_stopping_restores_the_best_weights():
    train = tiny_data()
    train.x = torch.full_like(train.x, 3.0)  # learn to output 3 ...
    val = tiny_data(16)
    val.x = torch.zeros_like(val.x)  # ... so the loss on zeros only grows after a while
    recorder = Recorder()
    config = TrainConfig(epochs=30, lr=3e-2, early_stopping_patience=2, **FAST)
    model = make_model()
    history = Trainer(config, callbacks=[recorder]).fit(model, train, val)
    assert history.stopped_early and len(history) < 30
    losses = history["val_loss"]
    assert history.best_epoch == 1 + losses.index(min(losses))
    assert history.best_epoch < len(history)
    assert_same(weights(model), recorder.weights[history.best_epoch])


def test_metrics_file_has_one_line_per_epoch(tmp_path):
    config = TrainConfig(epochs=3, **FAST)
    Trainer(config).fit(
        make_model(variational=True), tiny_data(), tiny_data(8, seed=2), out=tmp_path
    )
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3]
    for r in records:
        for key in ("lr", "seconds", "samples_per_second", "train_loss", "train_reconstruction",
                    "train_kl", "val_loss", "val_reconstruction", "val_kl", "step"):  # fmt: skip
            assert isinstance(r[key], float | int), key
    document = json.loads((tmp_path / "config.json").read_text())
    assert document["model_type"] == "tiny"
    assert TrainConfig.from_dict(document["extra"]["train_config"]) == config


def test_checkpoints_are_safetensors_and_json_only(tmp_path, monkeypatch):
    config = TrainConfig(epochs=2, **FAST)
    Trainer(config).fit(make_model(), tiny_data(), out=tmp_path)
    files = list((tmp_path / "checkpoints").iterdir())
    assert files and {f.suffix for f in files} == {".json", ".safetensors"}
    for f in files:
        assert not f.read_bytes().startswith(b"\x80")  # no pickle protocol header
        if f.suffix == ".safetensors":
            names = validate_header(f)
            assert names["rng.torch_cpu"]["dtype"] == "U8"
            assert any(k.startswith("optim.") for k in names)
        else:
            json.loads(f.read_text())

    def refuse(*args, **kwargs):
        raise AssertionError("resume must not unpickle")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    Trainer(config.replace(epochs=3)).fit(make_model(), tiny_data(), out=tmp_path, resume=True)


def test_optimizer_state_round_trips_through_safetensors_layout():
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.loss(tiny_data().x).loss.backward()
    opt.step()
    tensors, structure = ckpt.flatten_optimizer(opt.state_dict())
    json.dumps(structure)
    restored = ckpt.unflatten_optimizer(tensors, structure)
    fresh = torch.optim.Adam(model.parameters(), lr=5.0)
    fresh.load_state_dict(restored)
    assert fresh.param_groups[0]["lr"] == 1e-3
    for p in model.parameters():
        assert torch.equal(fresh.state[p]["exp_avg_sq"], opt.state[p]["exp_avg_sq"])


def test_denoising_corruption_trains_with_clean_targets():
    from latentkit.training.batching import transform_batch

    x = torch.rand(4, 8)
    for kind in ("gaussian", "salt_pepper", "mask"):
        noisy, target = transform_batch(x, binarize=False, corruption=CorruptionConfig(kind, 0.5),
                                        generator=torch.Generator().manual_seed(0))  # fmt: skip
        assert target is x and not torch.equal(noisy, x)
        assert noisy.min() >= 0 and noisy.max() <= 1
    config = TrainConfig(epochs=1, corruption=CorruptionConfig("mask", 0.3), **FAST)
    Trainer(config).fit(make_model(), tiny_data())


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="optimizer"):
        TrainConfig(optimizer="adagrad")
    with pytest.raises(ConfigError, match="nan_lr_factor"):
        TrainConfig(nan_lr_factor=1.5)
    with pytest.raises(ConfigError, match="unknown key"):
        TrainConfig.from_dict({"epoch": 3})
    config = TrainConfig(corruption=CorruptionConfig("salt_pepper", 0.1), scheduler="step")
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@pytest.mark.skipif(NO_TORCHRUN, reason="torchrun not installed")
def test_two_gloo_processes_match_one_process(tmp_path):
    done = run_ddp_worker(tmp_path, "cpu", timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]

    model = make_model(seed=0)
    history = Trainer(TrainConfig(**DDP_CONFIG)).fit(model, tiny_data(), tiny_data(30, seed=1))
    ddp = load_file(tmp_path / "ddp.safetensors")
    for k, v in model.state_dict().items():
        torch.testing.assert_close(ddp[k], v, rtol=1e-5, atol=1e-6)
    ddp_val = float((tmp_path / "ddp.loss").read_text())
    assert ddp_val == pytest.approx(history.records[-1]["val_loss"], rel=1e-5)
    assert (tmp_path / "run" / "metrics.jsonl").read_text().count("\n") == DDP_CONFIG["epochs"]


def _vae(seed: int = 0):
    from latentkit.models.vae import VAE, VAEConfig
    from latentkit.nn import NetworkConfig

    torch.manual_seed(seed)
    network = NetworkConfig(hidden=(16,))
    return VAE(VAEConfig(input_shape=(8,), latent_dim=2, network=network, warmup_steps=6))


def test_latentkit_vae_resumes_to_identical_weights_and_is_seeded(tmp_path):
    config = TrainConfig(epochs=3, binarize="dynamic", scheduler="step", step_size=1, **FAST)
    full = _vae()
    Trainer(config).fit(full, tiny_data(), tiny_data(16, seed=1), out=tmp_path / "a")
    again = _vae()
    Trainer(config).fit(again, tiny_data(), tiny_data(16, seed=1))
    assert_same(weights(full), weights(again))

    with pytest.raises(Interrupt):
        Trainer(config, callbacks=[StopAfter(1)]).fit(
            _vae(), tiny_data(), tiny_data(16, seed=1), out=tmp_path / "b"
        )
    resumed = _vae(seed=7)
    Trainer(config).fit(
        resumed, tiny_data(), tiny_data(16, seed=1), out=tmp_path / "b", resume=True
    )
    assert_same(weights(full), weights(resumed))

    import latentkit

    loaded = latentkit.load(tmp_path / "b")
    assert_same(weights(full), weights(loaded))


class LinesAtEpochEnd(Callback):
    """Reads metrics.jsonl (and its inode) after each epoch, as a watcher of the run would."""

    def __init__(self, path) -> None:
        self.path = path
        self.seen: list[tuple[bytes, int]] = []

    def on_epoch_end(self, epoch, record, model):
        self.seen.append((self.path.read_bytes(), self.path.stat().st_ino))


def test_metrics_file_is_appended_one_line_per_epoch(tmp_path):
    watcher = LinesAtEpochEnd(tmp_path / "metrics.jsonl")
    history = Trainer(TrainConfig(epochs=4, **FAST), callbacks=[watcher]).fit(
        make_model(), tiny_data(), out=tmp_path
    )
    contents = [content for content, _ in watcher.seen]
    for epoch, content in enumerate(contents, start=1):
        assert content.count(b"\n") == epoch and content.endswith(b"\n")
        if epoch > 1:
            assert content.startswith(contents[epoch - 2])  # earlier lines byte-identical
    assert len({inode for _, inode in watcher.seen}) == 1  # the same file: never replaced
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == history.records


def test_resume_makes_the_metrics_file_match_the_checkpoint(tmp_path):
    """Lines appended after the last checkpoint (and a line cut by a crash) are dropped on
    resume, so the file ends as that of an uninterrupted run."""
    config = TrainConfig(epochs=4, checkpoint_every=2, **FAST)
    with pytest.raises(Interrupt):
        Trainer(config, callbacks=[StopAfter(3)]).fit(make_model(), tiny_data(), out=tmp_path)
    path = tmp_path / "metrics.jsonl"
    assert [json.loads(line)["epoch"] for line in path.read_text().splitlines()] == [1, 2, 3]
    with path.open("ab") as fh:
        fh.write(b'{"epoch": 4, "step": 1')  # a torn last line
    first_two = b"".join(path.read_bytes().splitlines(keepends=True)[:2])

    watcher = LinesAtEpochEnd(path)
    history = Trainer(config, callbacks=[watcher]).fit(
        make_model(), tiny_data(), out=tmp_path, resume=True
    )
    assert [r["epoch"] for r in history.records] == [1, 2, 3, 4]
    assert [json.loads(line) for line in path.read_text().splitlines()] == history.records
    assert watcher.seen[0][0].startswith(first_two) and watcher.seen[0][0].count(b"\n") == 3
    assert watcher.seen[0][1] == watcher.seen[1][1]  # rewritten once at the start, then appended


def test_training_and_validation_share_one_loss_path(monkeypatch):
    """Both call LossModule.forward and get the model's LossOutput; training passes the global
    step, validation step=None in eval mode; the epoch means carry no sample-count key."""
    from latentkit.models.base import LossOutput
    from latentkit.training import distributed
    from latentkit.training.metrics import EpochMetrics

    calls: list[tuple[int | None, bool, bool]] = []
    forward = distributed.LossModule.forward

    def recording(self, x, y=None, target=None, step=None, generator=None):
        out = forward(self, x, y, target, step, generator)
        calls.append((step, self.model.training, isinstance(out, LossOutput)))
        return out

    added: list[object] = []
    add = EpochMetrics.add
    monkeypatch.setattr(distributed.LossModule, "forward", recording)
    monkeypatch.setattr(
        EpochMetrics, "add", lambda self, out, n: (added.append(out), add(self, out, n))
    )
    history = Trainer(TrainConfig(epochs=2, **FAST)).fit(
        make_model(variational=True), tiny_data(), tiny_data(20, seed=1)
    )
    train_calls = [c for c in calls if c[0] is not None]
    val_calls = [c for c in calls if c[0] is None]
    assert [c[0] for c in train_calls] == list(range(8))  # 64 samples / 16, two epochs
    assert all(training for _, training, _ in train_calls)
    assert len(val_calls) == 2 * 2 and not any(training for _, training, _ in val_calls)
    assert all(is_output for *_, is_output in calls)
    assert len(added) == len(calls) and all(isinstance(o, LossOutput) for o in added)
    assert all(not key.startswith("_") for r in history.records for key in r)


def test_epoch_means_return_the_sample_count_separately():
    from latentkit.models.base import LossOutput
    from latentkit.training.distributed import DistInfo
    from latentkit.training.metrics import EpochMetrics

    metrics = EpochMetrics()
    metrics.add(LossOutput(torch.tensor(2.0), torch.tensor([1.0, 3.0])), 2)
    metrics.add(LossOutput(torch.tensor(5.0), torch.tensor([5.0])), 1)
    means, count = metrics.means("val", DistInfo(), torch.device("cpu"))
    assert count == 3 and isinstance(count, int)
    assert means == {"val_loss": pytest.approx(3.0), "val_reconstruction": pytest.approx(3.0)}


def test_data_outside_the_likelihood_range_is_refused_before_training(tmp_path):
    from latentkit.errors import DataError
    from latentkit.training.setup import check_training_data

    vae = _vae()
    x = tiny_data().x * 3  # the Bernoulli likelihood needs [0, 1]
    with pytest.raises(DataError, match=r"train values lie in \[.*\] but .* needs \[0, 1\]"):
        check_training_data(vae, x, None, "train", binarize=False)
    with pytest.raises(DataError, match=r"binarize='dynamic' needs val values in \[0, 1\]"):
        check_training_data(make_model(), x, None, "val", binarize=True)
    with pytest.raises(DataError, match="likelihood needs"):
        Trainer(TrainConfig(epochs=1, **FAST)).fit(vae, x, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_precision_picks_the_autocast_dtype_and_scaler(caplog):
    from latentkit.training.precision import Precision

    cpu = torch.device("cpu")
    assert Precision("none", cpu).dtype is None and Precision("none", cpu).scaler is None
    bf16 = Precision("bf16", cpu)
    assert bf16.dtype == torch.bfloat16 and bf16.scaler is None
    assert "slower than float32" in caplog.text
    assert Precision("fp16", cpu).scaler is not None
    other = Precision("bf16", torch.device("meta"))  # no autocast there: float32, with a warning
    assert other.dtype is None and "training in float32 on meta" in caplog.text
    with bf16.autocast():
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
