"""Loading a model folder never runs code and refuses anything malformed, with clear errors."""

from __future__ import annotations

import json
import os
import pickle
import struct

import pytest
import torch

import latentkit
from latentkit import VAE, VAEConfig
from latentkit.errors import CheckpointError
from latentkit.nn import NetworkConfig
from latentkit.safe_tensors import load_tensors


class _Payload:
    """Unpickling this object creates a marker file: proof that code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def saved(tmp_path):
    model = VAE(VAEConfig(input_shape=(6,), latent_dim=2, network=NetworkConfig(hidden=(4,))))
    folder = model.save(tmp_path / "model")
    return model, folder


def write_pickle(path, marker) -> None:
    path.write_bytes(pickle.dumps(_Payload(str(marker))))


def test_pickle_renamed_to_safetensors_is_refused_and_never_runs(saved, tmp_path):
    _, folder = saved
    marker = tmp_path / "PWNED"
    write_pickle(folder / "model.safetensors", marker)
    with pytest.raises(CheckpointError, match="corrupt or not safetensors"):
        latentkit.load(folder)
    assert not marker.exists()


def test_pickle_weights_file_is_refused_with_a_reason(saved, tmp_path):
    _, folder = saved
    marker = tmp_path / "PWNED"
    (folder / "model.safetensors").unlink()
    write_pickle(folder / "pytorch_model.bin", marker)
    with pytest.raises(CheckpointError, match="pickle-based weights are refused"):
        latentkit.load(folder)
    assert not marker.exists()


def test_pickle_in_config_json_is_refused(saved, tmp_path):
    _, folder = saved
    marker = tmp_path / "PWNED"
    write_pickle(folder / "config.json", marker)
    with pytest.raises(CheckpointError, match=r"config\.json"):
        latentkit.load(folder)
    assert not marker.exists()


def edit_config(folder, change) -> None:
    document = json.loads((folder / "config.json").read_text())
    change(document)
    (folder / "config.json").write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["config"].update(evil="x"), "unknown key"),
        (lambda d: d["config"].update(latent_dim="2"), "expected an integer"),
        (lambda d: d["config"].update(latent_dim=-3), "latent_dim must be > 0"),
        (lambda d: d["config"].update(likelihood="pickle"), "must be one of"),
        (lambda d: d["config"]["network"].update(kind="exec"), "must be one of"),
        (lambda d: d.update(model_type="os.system"), "unknown model type"),
        (lambda d: d.update(model_type=["vae"]), "must be a string"),
        (lambda d: d.pop("config"), "missing the key 'config'"),
    ],
)
def test_crafted_configs_are_refused(saved, change, message):
    _, folder = saved
    edit_config(folder, change)
    with pytest.raises(CheckpointError, match=message):
        latentkit.load(folder)


def test_config_that_changes_shapes_is_refused_naming_the_tensor(saved):
    _, folder = saved
    edit_config(folder, lambda d: d["config"].update(latent_dim=3))
    with pytest.raises(CheckpointError, match=r"mis-shaped encoder\.mlp"):
        latentkit.load(folder)


def test_missing_tensor_is_refused(saved):
    model, folder = saved
    from latentkit.safe_tensors import save_tensors

    tensors = dict(model.state_dict())
    tensors.pop(next(iter(tensors)))
    save_tensors(folder / "model.safetensors", tensors)
    with pytest.raises(CheckpointError, match="missing tensors"):
        latentkit.load(folder)


def test_symlink_outside_the_folder_is_refused(saved, tmp_path):
    _, folder = saved
    outside = tmp_path / "elsewhere.json"
    outside.write_text((folder / "config.json").read_text())
    (folder / "config.json").unlink()
    (folder / "config.json").symlink_to(outside)
    with pytest.raises(CheckpointError, match="outside the model folder"):
        latentkit.load(folder)


def test_absurd_header_sizes_are_refused(tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes(struct.pack("<Q", 10**15) + b"{}")
    with pytest.raises(CheckpointError, match="header claims"):
        load_tensors(path)
    header = json.dumps({"w": {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 8]}})
    path.write_bytes(struct.pack("<Q", len(header)) + header.encode() + b"\0" * 8)
    with pytest.raises(CheckpointError, match="needs 4000000000000 bytes"):
        load_tensors(path)
    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})
    path.write_bytes(struct.pack("<Q", len(header)) + header.encode() + b"\0" * 8)
    with pytest.raises(CheckpointError, match="truncated or crafted"):
        load_tensors(path)


def test_truncated_weights_and_missing_folder(saved, tmp_path):
    _, folder = saved
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError):
        latentkit.load(folder)
    with pytest.raises(CheckpointError, match="expected a model folder"):
        latentkit.load(tmp_path / "nowhere")


def test_save_is_atomic_and_leaves_no_temporary_files(saved):
    model, folder = saved
    model.save(folder)  # overwrite in place
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    document = json.loads((folder / "config.json").read_text())
    assert document["model_type"] == "vae"
    assert document["latentkit_version"] == latentkit.__version__
    loaded = latentkit.load(folder)
    assert all(
        torch.equal(a, b)
        for a, b in zip(loaded.state_dict().values(), model.state_dict().values(), strict=True)
    )
