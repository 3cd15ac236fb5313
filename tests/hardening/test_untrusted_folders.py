"""Untrusted model folders and checkpoints: refused with a clear error, no code runs, no absurd
allocation. Complements tests/models/test_persistence.py (pickles, symlinks, crafted configs,
absurd safetensors headers) with sizes announced by the config, oversized and deeply nested
JSON, path-like names, and the checkpoints ``--resume`` reads."""

from __future__ import annotations

import json
import pickle
import resource
import shutil
import struct
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import latentkit
from latentkit.config import MAX_JSON_BYTES
from latentkit.errors import CheckpointError, LatentkitError
from latentkit.models.registry import create_model
from latentkit.safe_tensors import load_tensors
from latentkit.training import TrainConfig, Trainer
from latentkit.training import checkpoint as ckpt

CONFIG = TrainConfig(epochs=2, batch_size=16, lr=1e-2, device="cpu", progress=False)


class Payload:
    """Unpickling this creates the marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def model():
    torch.manual_seed(0)
    return create_model("ae", (6,), latent_dim=2, network={"hidden": [8]}, reconstruction="mse")


def data() -> torch.Tensor:
    return torch.rand(32, 6, generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("trusted") / "run"
    Trainer(CONFIG.replace(keep_checkpoints=2)).fit(model(), data(), out=out)
    return out


@pytest.fixture
def copy(run, tmp_path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(run, target)
    return target


def edit(path: Path, change) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


# -- model folders --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"network": {"hidden": [10**12]}}, "mis-shaped"),
        ({"network": {"hidden": [20000, 20000]}}, "missing tensors"),  # 3 GB before the fix
        ({"input_shape": [10**12]}, "mis-shaped"),
        ({"latent_dim": 2**70}, "cannot build"),
    ],
)
def test_sizes_announced_by_the_config_are_checked_before_allocating(copy, change, message):
    edit(copy / "config.json", lambda d: d["config"].update(change))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with pytest.raises(CheckpointError, match=message):
        latentkit.load(copy)
    # shapes on the meta device only: the memory high-water mark does not move by a GB
    # (measured by memory, not by a clock, so a busy machine cannot fail it)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 2**20


@pytest.mark.parametrize("model_type", ["../../x", "/etc/passwd", "latentkit.models.vae:VAE",
                                        "os.system", "", "vae/../ae"])  # fmt: skip
def test_path_like_model_types_are_unknown_names(copy, model_type):
    edit(copy / "config.json", lambda d: d.update(model_type=model_type))
    with pytest.raises(CheckpointError, match="unknown model type"):
        latentkit.load(copy)


def test_oversized_config_is_refused_before_parsing(copy):
    edit(copy / "config.json", lambda d: d["extra"].update(pad="x" * MAX_JSON_BYTES))
    with pytest.raises(CheckpointError, match=f"more than {MAX_JSON_BYTES} bytes"):
        latentkit.load(copy)


@pytest.mark.parametrize("file", ["config.json", "checkpoints/epoch-000002.json"])
def test_deeply_nested_json_is_refused(copy, file):
    (copy / file).write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(CheckpointError, match="nested too deeply"):
        if file == "config.json":
            latentkit.load(copy)
        else:
            ckpt.load_checkpoint(copy / file)


def test_deeply_nested_safetensors_header_is_refused(tmp_path):
    header = b"[" * 100_000 + b"]" * 100_000
    (tmp_path / "w.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_tensors(tmp_path / "w.safetensors")


# -- checkpoints read by --resume -----------------------------------------------------------


def test_pickled_checkpoint_never_runs_and_resume_uses_the_previous_one(copy, tmp_path):
    marker = tmp_path / "PWNED"
    newest = copy / "checkpoints" / "epoch-000002.safetensors"
    newest.write_bytes(pickle.dumps(Payload(marker)))
    (copy / "checkpoints" / "extra.pt").write_bytes(pickle.dumps(Payload(marker)))
    found = ckpt.latest_checkpoint(copy / "checkpoints")
    assert found is not None and found.epoch == 1
    Trainer(CONFIG).fit(model(), data(), out=copy, resume=True)
    assert not marker.exists()
    assert latentkit.load(copy).latent_dim == 2


@pytest.mark.parametrize("name", ["../model.safetensors", "/etc/hostname", "sub/x.safetensors"])
def test_checkpoint_naming_a_file_elsewhere_is_refused(copy, name):
    path = copy / "checkpoints" / "epoch-000002.json"
    edit(path, lambda d: d.update(tensors_file=name))
    with pytest.raises(CheckpointError, match="a file name beside it"):
        ckpt.load_checkpoint(path)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
META_KEYS = ["format", "version", "epoch", "global_step", "state", "optimizer", "grad_scaler",
             "history", "train_config", "model_type", "model_config", "tensors_sha256"]  # fmt: skip


@settings(max_examples=30, deadline=5000, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])  # fmt: skip
@given(key=st.sampled_from(META_KEYS), inner=st.sampled_from(["", "epoch", "plateau", "state"]),
       value=JSON)  # fmt: skip
def test_resume_from_a_tampered_checkpoint_json(run, tmp_path, key, inner, value):
    target = tmp_path / "fuzz"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(run, target)
    path = target / "checkpoints" / "epoch-000002.json"

    def change(document):
        if inner and isinstance(document.get(key), dict):
            document[key][inner] = value
        else:
            document[key] = value

    edit(path, change)
    try:  # resumes (perhaps from the older checkpoint), or refuses in our words
        Trainer(CONFIG.replace(epochs=3)).fit(model(), data(), out=target, resume=True)
    except LatentkitError as exc:
        assert str(exc)
    else:
        assert latentkit.load(target).latent_dim == 2
