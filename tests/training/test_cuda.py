"""The CUDA paths of the trainer (run where a GPU is present).

They are skipped on machines without CUDA (CI has none); on a GPU machine run
``pytest -m cuda``. The mixed-precision logic itself is also tested on the CPU
(``test_trainer.py``), so these tests check what only a GPU can show: device placement,
CUDA generators, autocast on CUDA kernels, the fused optimizers there, and ``nccl``.
"""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from latentkit.training import TrainConfig, Trainer
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

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]
GPU = dict(device="cuda", progress=False, batch_size=16)


def assert_close(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k].cpu(), b[k].cpu(), rtol=1e-5, atol=1e-6)


def test_auto_device_trains_on_cuda_and_is_seeded():
    config = TrainConfig(epochs=2, binarize="dynamic", **{**GPU, "device": "auto"})
    runs = []
    for _ in range(2):
        model = make_model(variational=True)
        history = Trainer(config).fit(model, tiny_data(), tiny_data(20, seed=1))
        assert next(model.parameters()).device.type == "cuda"
        assert all(r["train_loss"] is not None for r in history.records)
        runs.append(weights(model))
    assert_close(*runs)


@pytest.mark.parametrize("amp", ["none", "bf16", "fp16"])
def test_cuda_run_resumes_to_the_same_weights(tmp_path, amp):
    config = TrainConfig(epochs=3, binarize="dynamic", amp=amp, grad_clip=5.0, **GPU)
    full = make_model(variational=True)
    dtypes: set[torch.dtype] = set()
    full.dec[2].register_forward_hook(lambda m, i, out: dtypes.add(out.dtype))
    history = Trainer(config).fit(full, tiny_data(), out=tmp_path / "a")
    expected = {"none": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[amp]
    assert dtypes == {expected}  # autocast reached the CUDA layers
    losses = [r["train_loss"] for r in history.records]
    assert losses[-1] < losses[0]
    meta = ckpt.latest_checkpoint(tmp_path / "a" / "checkpoints").meta
    assert (meta["grad_scaler"] is not None) == (amp == "fp16")
    if amp == "fp16":  # overflowing steps were skipped: the resume restores a scaler state
        assert meta["grad_scaler"]["scale"] < 2.0**16
    with pytest.raises(Interrupt):
        Trainer(config, callbacks=[StopAfter(1)]).fit(
            make_model(variational=True), tiny_data(), out=tmp_path / "b"
        )
    resumed = make_model(variational=True, seed=5)
    Trainer(config).fit(resumed, tiny_data(), out=tmp_path / "b", resume=True)
    assert_close(weights(full), weights(resumed))


def test_nan_guard_rolls_back_on_cuda(caplog):
    config = TrainConfig(epochs=2, nan_check_every=2, **GPU)
    model = make_model(nan_at_call=3)
    history = Trainer(config).fit(model, tiny_data())
    assert history.nan_rollbacks == 1 and "epoch 1, step 3" in caplog.text
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="nccl needs two GPUs")
@pytest.mark.skipif(NO_TORCHRUN, reason="torchrun not installed")
def test_two_nccl_processes_match_one_process(tmp_path):
    done = run_ddp_worker(tmp_path, "cuda", timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    model = make_model(seed=0)
    Trainer(TrainConfig(**{**DDP_CONFIG, "device": "cuda"})).fit(
        model, tiny_data(), tiny_data(30, seed=1)
    )
    ddp = load_file(tmp_path / "ddp.safetensors")
    for k, v in model.state_dict().items():
        torch.testing.assert_close(ddp[k], v.cpu(), rtol=1e-4, atol=1e-5)
