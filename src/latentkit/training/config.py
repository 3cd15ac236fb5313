"""Configuration of the training loop: :class:`TrainConfig` and :class:`CorruptionConfig`.

Both are frozen, typed dataclasses (see :mod:`latentkit.config`): they round-trip through JSON
(the run folder's ``config.json`` and checkpoints hold them) and validate every field in
``__post_init__``, raising :class:`~latentkit.errors.ConfigError` that names the field, the
value and what is allowed.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from latentkit.config import Config, check_choice, check_positive, check_range
from latentkit.data.corruptions import CORRUPTIONS
from latentkit.errors import ConfigError

__all__ = ["MAX_THREADS", "CorruptionConfig", "TrainConfig"]

#: Most threads TrainConfig.num_threads accepts (more than any machine has cores).
MAX_THREADS = 4096

OptimizerName = Literal["adam", "adamw", "sgd"]
SchedulerName = Literal["none", "cosine", "step", "plateau"]
DeviceName = Literal["auto", "cpu", "cuda", "mps"]
AmpMode = Literal["none", "bf16", "fp16"]


@dataclasses.dataclass(frozen=True)
class CorruptionConfig(Config):
    """Input corruption for denoising autoencoders: the encoder sees corrupted ``x``, the
    decoder is asked to reproduce the clean one (``target=x``).

    A fresh corruption is drawn for every batch from the trainer's data generator.
    """

    # a kind registered in latentkit.data.corruptions.CORRUPTIONS (gaussian noise, salt and
    # pepper, pixel and box masks, grayscale; each entry says what its `amount` means). Checked
    # against the registry rather than typed as a Literal, so that the kinds are named once.
    kind: str = "gaussian"
    # noise standard deviation (gaussian) or share of corrupted values (salt_pepper, mask,
    # box_mask); unused by grayscale
    amount: float = 0.1
    # gaussian: clamp corrupted values into [0, 1] (images); off for standardised tables
    clip: bool = True

    def __post_init__(self) -> None:
        check_choice("CorruptionConfig", "kind", self.kind, CORRUPTIONS)
        if CORRUPTIONS[self.kind].fraction:
            check_range("CorruptionConfig", "amount", self.amount, 0.0, 1.0)
        else:
            check_positive("CorruptionConfig", "amount", self.amount, allow_zero=True)


@dataclasses.dataclass(frozen=True)
class TrainConfig(Config):
    """Everything the :class:`~latentkit.training.trainer.Trainer` needs besides the model
    and the data. Defaults train a small model on one machine sensibly."""

    # passes over the training data
    epochs: int = 10
    # samples per optimisation step; under DDP the *global* batch, split across the ranks
    batch_size: int = 128
    # base learning rate (before the schedule and any NaN-recovery reductions)
    lr: float = 1e-3
    # optimiser: Adam (Kingma & Ba 2015), AdamW (Loshchilov & Hutter 2019) or SGD
    optimizer: OptimizerName = "adam"
    # L2 penalty (adam, sgd) or decoupled weight decay (adamw)
    weight_decay: float = 0.0
    # momentum of SGD (ignored by adam and adamw)
    momentum: float = 0.9
    # learning-rate schedule: cosine decay per step to `min_lr`, step decay by `gamma` every
    # `step_size` epochs, or reduce by `gamma` after `plateau_patience` epochs without progress
    scheduler: SchedulerName = "none"
    # epochs between two decays of the "step" schedule
    step_size: int = 10
    # decay factor of the "step" and "plateau" schedules
    gamma: float = 0.1
    # epochs without improvement of the monitored loss before "plateau" decays the lr
    plateau_patience: int = 5
    # floor of the "cosine" schedule
    min_lr: float = 0.0
    # clip the global gradient norm to this value; None disables clipping
    grad_clip: float | None = None
    # seeds the trainer's generators (shuffling, model noise, data transforms)
    seed: int = 0
    # "auto" picks cuda, then mps, then cpu
    device: DeviceName = "auto"
    # mixed precision: autocast to bf16 or fp16 on cuda (on cpu too, where it helps only with
    # bf16 hardware; ignored with a warning on mps); fp16 uses a GradScaler
    amp: AmpMode = "none"
    # wrap the loss computation in torch.compile
    compile: bool = False
    # use the channels-last memory format for 4-D (image) data and the model
    channels_last: bool = False
    # stop after this many epochs without improvement and restore the best weights;
    # None trains all epochs. Monitors the validation loss, or the training loss without val.
    early_stopping_patience: int | None = None
    # write a checkpoint every this many epochs (and always after the last one)
    checkpoint_every: int = 1
    # how many of the newest checkpoints to keep on disk
    keep_checkpoints: int = 2
    # roll-backs after a non-finite loss or gradient before giving up with TrainingError
    max_nan_retries: int = 3
    # multiply the learning rate by this after each roll-back
    nan_lr_factor: float = 0.5
    # steps between two finiteness checks (each costs one host sync); also checked at epoch end
    nan_check_every: int = 100
    # show a tqdm bar per epoch (only on a terminal, only on rank 0)
    progress: bool = True
    # "dynamic": a fresh Bernoulli draw of every batch (x must lie in [0, 1])
    binarize: Literal["none", "dynamic"] = "none"
    # corrupt the encoder input (denoising autoencoder); None trains on clean data
    corruption: CorruptionConfig | None = None
    # torch.set_num_threads during fit (restored afterwards); None keeps the current value
    num_threads: int | None = None
    # log epoch metrics to TensorBoard under <out>/tensorboard (needs the tensorboard package)
    tensorboard: bool = False
    # skip the last, smaller batch of an epoch (always done under DDP, see distributed.py)
    drop_last: bool = False

    def __post_init__(self) -> None:
        owner = "TrainConfig"  # Literal fields are checked by the Config base
        for name in ("epochs", "batch_size", "step_size", "checkpoint_every", "keep_checkpoints"):
            check_positive(owner, name, getattr(self, name))
        check_positive(owner, "nan_check_every", self.nan_check_every)
        check_positive(owner, "plateau_patience", self.plateau_patience)
        check_positive(owner, "lr", self.lr)
        check_positive(owner, "weight_decay", self.weight_decay, allow_zero=True)
        check_positive(owner, "min_lr", self.min_lr, allow_zero=True)
        check_positive(owner, "max_nan_retries", self.max_nan_retries, allow_zero=True)
        check_range(owner, "momentum", self.momentum, 0.0, 1.0)
        check_range(owner, "seed", self.seed, -(2**63), 2**63 - 1)  # what torch can take
        if not 0.0 < self.gamma < 1.0:
            raise ConfigError(f"{owner}.gamma must be in (0, 1), got {self.gamma!r}.")
        if not 0.0 < self.nan_lr_factor < 1.0:
            raise ConfigError(
                f"{owner}.nan_lr_factor must be in (0, 1), got {self.nan_lr_factor!r}."
            )
        if self.min_lr > self.lr:
            raise ConfigError(f"{owner}.min_lr ({self.min_lr}) must not exceed lr ({self.lr}).")
        if self.grad_clip is not None:
            check_positive(owner, "grad_clip", self.grad_clip)
        if self.early_stopping_patience is not None:
            check_positive(owner, "early_stopping_patience", self.early_stopping_patience)
        if self.num_threads is not None:
            check_range(owner, "num_threads", self.num_threads, 1, MAX_THREADS)
        if self.corruption is not None and not isinstance(self.corruption, CorruptionConfig):
            raise ConfigError(
                f"{owner}.corruption must be a CorruptionConfig or None, "
                f"got {type(self.corruption).__name__}."
            )
