"""Run under ``torchrun --nproc_per_node 2``: train the tiny AE, rank 0 saves the weights."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from latentkit.training import TrainConfig, Trainer
from tests.training.tiny import DDP_CONFIG, make_model, tiny_data


def main(weights: str, out: str) -> None:
    torch.set_num_threads(1)
    model = make_model(seed=0)
    device = os.environ.get("LATENTKIT_TEST_DEVICE", "cpu")  # cuda: nccl, one GPU per rank
    history = Trainer(TrainConfig(**{**DDP_CONFIG, "device": device})).fit(
        model, tiny_data(), tiny_data(30, seed=1), out=out
    )
    assert not torch.distributed.is_initialized(), "fit leaves the group it created"
    if os.environ["RANK"] == "0":
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, weights)
        Path(weights).with_suffix(".loss").write_text(repr(history.records[-1]["val_loss"]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
