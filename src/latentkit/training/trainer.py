"""The training loop: :class:`Trainer` and the :class:`History` it returns.

``Trainer(TrainConfig(...)).fit(model, train, val, out="runs/vae")`` trains any model that
implements the contract of :mod:`latentkit.models.base` (``model.loss`` returning a
``LossOutput`` with per-sample terms). The run folder ``out`` receives::

    config.json         the model config (``model_type``, ...) with the train config in "extra"
    model.safetensors   the final weights (the best ones with early stopping)
    metrics.jsonl       one JSON object per epoch: epoch, step, lr, seconds,
                        samples_per_second, train_<term> and val_<term> (means per sample)
    checkpoints/        safetensors + JSON checkpoints (see :mod:`.checkpoint`)
    .lock               locked while a process trains in the folder (see :mod:`.lock`)

This module owns the loop only: per epoch, shuffle, step through the batches (learning rate,
loss, backward, NaN check), validate, then record, checkpoint, early-stop and call the
callbacks. What the loop calls lives beside it:

- :mod:`.setup`: the device, the optimizer, the data tensors and the data checks;
- :mod:`.batching`: batches on the device, binarization and corruptions, per-epoch generators;
- :mod:`.precision`: autocast, the GradScaler and the backward / clip / step sequence;
- :mod:`.distributed`: DDP and :class:`~.distributed.LossModule`, the one loss path of
  training and validation (both get a ``LossOutput``);
- :mod:`.metrics`: per-epoch means without per-step syncs; :mod:`.guard`: the NaN guard;
- :mod:`.schedules`: learning-rate schedules; :mod:`.state` and :mod:`.checkpoint`: the loop
  state, checkpoints and the model folder; :mod:`.verify`: every tensor and number of a
  checkpoint checked against the run before a resume uses it; :mod:`.callbacks`: hooks,
  ``metrics.jsonl`` (appended one line per epoch), TensorBoard and the progress bar.

Speed: the dataset moves to the device once; batches are gathered there; metrics are summed
on the device and read once per epoch; the NaN guard syncs once per ``nan_check_every``
steps; the optimizers use PyTorch's fused kernels; gradients are released with
``zero_grad(set_to_none=True)``; optional ``torch.compile`` (of the loss module; models whose
``loss`` branches on ``step`` may recompile), channels-last and mixed precision (``amp``).
Models that declare ``capabilities.auxiliary_step`` (FactorVAE's discriminator) train a
second network: its parameters (``model.auxiliary_parameters()``) are left out of the main
optimiser, and after every main step the trainer takes one step of
``model.auxiliary_loss(x)`` with ``model.auxiliary_optimizer()`` on the same batch (under
autocast, without a gradient scaler; not under DDP; the auxiliary optimiser's moments are not
checkpointed, so a resumed run restarts them).

Validation runs under ``torch.inference_mode`` with ``step=None`` (the model's full
objective, so warm-up does not move the monitored loss). ``step=`` passed to ``model.loss``
during training is the global optimisation step.

Resuming (``resume=True``) loads the newest valid checkpoint and continues; because the
trainer's random streams are re-derived from the seed at every epoch (:mod:`.batching`; also
torch's global generators, which dropout draws from: each epoch runs under
:func:`latentkit._seeding.seeded`, so ``fit`` leaves the caller's global stream as it was) and
the optimizer, schedule, guard and early-stopping state are all in the checkpoint, an
interrupted and resumed run ends with exactly the weights of an uninterrupted one (on the
CPU; CUDA kernels may themselves be non-deterministic).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from latentkit.data.dataset import Dataset
from latentkit.errors import ConfigError, DataError, TrainingError
from latentkit.models.base import AbstractModel, LossOutput
from latentkit.training import distributed
from latentkit.training.batching import (
    DeviceBatches,
    epoch_generator,
    epoch_seed,
    place,
    transform_batch,
)
from latentkit.training.callbacks import Callback, MetricsFile, ProgressBar, TensorBoard
from latentkit.training.config import TrainConfig
from latentkit.training.guard import NanGuard
from latentkit.training.lock import lock_run_folder
from latentkit.training.metrics import EpochMetrics
from latentkit.training.precision import Precision
from latentkit.training.schedules import plateau_update, schedule_factor
from latentkit.training.setup import (
    as_tensors,
    build_optimizer,
    check_training_data,
    resolve_device,
    seeded,
)
from latentkit.training.state import LoopState, RunFolder

__all__ = ["History", "Trainer"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class History:
    """What a :meth:`Trainer.fit` call did.

    Attributes
    ----------
    records : list of dict
        One per epoch, as in ``metrics.jsonl`` (including epochs before a resume).
    best_epoch : int or None
        1-based epoch of the lowest monitored loss (validation loss, else training loss).
    stopped_early : bool
        True when early stopping ended training.
    nan_rollbacks : int
        Roll-backs performed by the NaN guard.
    out : Path or None
        The run folder.
    """

    records: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    nan_rollbacks: int = 0
    out: Path | None = None

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, key: str) -> list[Any]:
        """The column ``key`` (e.g. ``"val_loss"``) over the epochs, None where absent."""
        return [r.get(key) for r in self.records]


class Trainer:
    """Trains latentkit models: see the module docstring for what it writes and guarantees.

    Parameters
    ----------
    config : TrainConfig, optional
        Training settings (defaults: ``TrainConfig()``).
    callbacks : sequence of Callback
        Hooks called around the loop (see :class:`~latentkit.training.callbacks.Callback`).

    Examples
    --------
    >>> trainer = Trainer(TrainConfig(epochs=20, batch_size=256, binarize="dynamic"))
    >>> history = trainer.fit(vae, train, val, out="runs/vae")  # doctest: +SKIP
    """

    def __init__(
        self, config: TrainConfig | None = None, *, callbacks: Sequence[Callback] = ()
    ) -> None:
        if config is not None and not isinstance(config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}.")
        self.config = config or TrainConfig()
        self.callbacks = list(callbacks)

    def fit(
        self,
        model: AbstractModel,
        train: Dataset | Tensor,
        val: Dataset | Tensor | None = None,
        *,
        out: str | Path | None = None,
        resume: bool = False,
    ) -> History:
        """Train ``model`` in place and return the :class:`History`.

        Parameters
        ----------
        model : AbstractModel
            Moved to the training device; holds the trained (or best) weights afterwards.
        train : Dataset or Tensor of shape (N, *input_shape)
            Training data (with labels ``y`` for models with ``needs_labels``).
        val : Dataset or Tensor of shape (M, *input_shape), optional
            Validation data, evaluated after every epoch.
        out : str or Path, optional
            Run folder for config, weights, metrics and checkpoints (written by rank 0 only,
            which holds its lock, ``out/.lock``, for the whole call: see :mod:`.lock`).
        resume : bool
            Continue from the newest valid checkpoint in ``out/checkpoints`` (starts afresh,
            with a warning, when there is none).

        Raises
        ------
        TrainingError
            When another process is training in ``out``, the NaN guard runs out of retries,
            or an epoch ends without one step of this call having survived the guard (all
            rolled back: the weights would be unchanged).
        CheckpointError
            When ``resume`` finds a checkpoint of a different model or one that does not fit
            this run, or when an entry of ``out`` is a symbolic link.
        DataError
            When the data does not fit the model.
        """
        if resume and out is None:
            raise ConfigError("resume=True needs the run folder: pass out=<folder>.")
        info = distributed.detect()
        device = resolve_device(self.config.device, info)
        created = distributed.setup(info, device)
        threads = torch.get_num_threads()
        if self.config.num_threads is not None:
            torch.set_num_threads(self.config.num_threads)
        try:
            run = _Run(self.config, self.callbacks, model, train, val, out, info, device)
            writer = out is not None and info.is_main  # rank 0 writes the run folder: locks it
            with lock_run_folder(out) if writer else contextlib.nullcontext():
                if resume:
                    run.load_latest()
                return run.train()
        finally:
            torch.set_num_threads(threads)
            distributed.teardown(created)


class _Run:
    """One call of ``fit``: the model, the data, the optimizer and the loop state."""

    def __init__(
        self,
        config: TrainConfig,
        callbacks: list[Callback],
        model: AbstractModel,
        train: Dataset | Tensor,
        val: Dataset | Tensor | None,
        out: str | Path | None,
        info: distributed.DistInfo,
        device: torch.device,
    ) -> None:
        self.cfg, self.callbacks, self.model = config, callbacks, model
        self.info, self.device = info, device
        binarize = config.binarize == "dynamic"
        x, y = as_tensors(train, "train")
        check_training_data(model, x, y, "train", binarize=binarize)
        self.val = None
        if val is not None:
            vx, vy = as_tensors(val, "val")
            check_training_data(model, vx, vy, "val", binarize=binarize)
            self.val = (place(vx, device), place(vy, device))
        self.x, self.y = place(x, device), place(y, device)
        if config.batch_size % info.world_size:
            raise ConfigError(
                f"TrainConfig.batch_size ({config.batch_size}) must be divisible by the "
                f"world size ({info.world_size}): it is the global batch."
            )
        self.drop_last = config.drop_last or info.enabled
        if self.drop_last and len(x) < config.batch_size:
            raise DataError(
                f"train has {len(x)} samples, fewer than one batch of {config.batch_size} "
                "(drop_last is on); lower TrainConfig.batch_size."
            )
        self.channels_last = config.channels_last and x.ndim == 4
        model.to(device)
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        self.precision = Precision(config.amp, device)
        self.loss_module = distributed.LossModule(model)  # validation calls it as it is
        self.loss_fn: Any = distributed.wrap(self.loss_module, info, device)  # training
        if config.compile:
            self.loss_fn = torch.compile(self.loss_fn)
        auxiliary = model.auxiliary_parameters() if model.capabilities.auxiliary_step else []
        if auxiliary and info.enabled:
            raise ConfigError(
                f"{type(model).__name__} trains an auxiliary network with its own optimiser, "
                "which distributed training does not synchronise; train it in one process."
            )
        skip = {id(p) for p in auxiliary}
        self.params = [p for p in model.parameters() if p.requires_grad and id(p) not in skip]
        self.optimizer = build_optimizer(config, self.params, device)
        self.auxiliary = model.auxiliary_optimizer() if auxiliary else None
        self.state = LoopState()
        self.records: list[dict[str, Any]] = []
        self.best_weights: dict[str, Tensor] | None = None
        self.resumed_generators: dict[str, Tensor] = {}
        self.guard = NanGuard(device, info)
        self.out = Path(out) if out is not None else None
        self.folder = None  # checkpoints and the model folder: read by every rank on resume
        if self.out is not None:
            scaler = self.precision.scaler
            self.folder = RunFolder(self.out, model, self.optimizer, scaler, config)
        writer = info.is_main and self.out is not None  # rank 0 writes the files
        self.metrics = MetricsFile(self.out / "metrics.jsonl") if writer else None
        self.board: TensorBoard | None = None  # made in train(): nothing is written before
        self.bar = ProgressBar(config.progress and info.is_main, config.epochs)

    def _generators(self, epoch: int) -> dict[str, torch.Generator]:
        """The random streams of ``epoch``: shuffling (same on every rank), model noise and
        data transforms (per rank). After a resume, rank 0's first call takes the saved
        states."""
        seed, rank, cpu = self.cfg.seed, self.info.rank, torch.device("cpu")
        gens = {
            "shuffle": epoch_generator(seed, "shuffle", epoch, 0, cpu),
            "noise": epoch_generator(seed, "noise", epoch, rank, self.device),
            "data": epoch_generator(seed, "data", epoch, rank, self.device),
        }
        resumed, self.resumed_generators = self.resumed_generators, {}
        if self.info.is_main:
            for name, rng in resumed.items():
                gens[name].set_state(rng)
        return gens

    def _loss(
        self, loss_fn: Any, xb: Tensor, yb: Tensor | None, step: int | None,
        data_gen: torch.Generator, noise_gen: torch.Generator,
    ) -> LossOutput:  # fmt: skip
        """The one loss path of training and validation: the batch transforms (binarization,
        corruption), then the :class:`~.distributed.LossModule` (``loss_fn``: wrapped by DDP or
        torch.compile for training, as it is for validation) under autocast."""
        binarize, corruption = self.cfg.binarize == "dynamic", self.cfg.corruption
        x_in, target = transform_batch(
            xb, binarize=binarize, corruption=corruption, generator=data_gen
        )
        if self.channels_last:
            x_in = x_in.contiguous(memory_format=torch.channels_last)
        with self.precision.autocast():
            return loss_fn(x_in, yb, target, step, noise_gen)

    # -- the loop ----------------------------------------------------------------------
    def train(self) -> History:
        cfg, s = self.cfg, self.state
        if self.metrics is not None:  # once: the file matches the (restored) records
            self.metrics.reset(self.records)
        writer = self.info.is_main and self.out is not None
        board = self.out / "tensorboard" if writer and self.out else None
        self.board = TensorBoard(board, cfg.tensorboard and self.info.is_main)
        for callback in self.callbacks:
            callback.on_fit_start(self.model, cfg)
        first_step = s.global_step
        for epoch in range(s.epoch, cfg.epochs):
            if s.stopped:
                break
            start = time.perf_counter()
            # dropout draws from the global generators: seeded per epoch, the caller's restored
            with seeded(epoch_seed(cfg.seed, "global", epoch, self.info.rank), self.device):
                train, samples, lr = self._train_epoch(epoch, self._generators(epoch))
            if s.global_step == first_step:  # every step of the run so far was rolled back
                self._no_progress(epoch)
            train_seconds = time.perf_counter() - start  # metrics.means synced the device
            val = self._validate()
            s.epoch = epoch + 1
            record: dict[str, Any] = {"epoch": s.epoch, "step": s.global_step, "lr": lr,
                "seconds": time.perf_counter() - start,  # training and validation
                "samples_per_second": samples / train_seconds, **train, **val}  # fmt: skip
            self._update_monitor(record.get("val_loss" if self.val else "train_loss"))
            self.records.append(record)
            self._write_epoch(record)
            logger.info("epoch %d/%d: %s", epoch + 1, cfg.epochs, _summary(record))
            stop = [cb.on_epoch_end(epoch + 1, record, self.model) for cb in self.callbacks]
            if any(stop):
                logger.info("a callback stopped training after epoch %d", epoch + 1)
                break
        return self._finish()

    def _train_epoch(
        self, epoch: int, gens: dict[str, torch.Generator]
    ) -> tuple[dict[str, float | None], int, float]:
        """One pass over the training data: its metric means, sample count and last lr."""
        cfg, s = self.cfg, self.state
        batches = DeviceBatches([self.x, self.y], cfg.batch_size, device=self.device,
                                shuffle=True, drop_last=self.drop_last,
                                generator=gens["shuffle"], shard=self.info.shard)  # fmt: skip
        total_steps = len(batches) * cfg.epochs
        metrics = EpochMetrics()
        self.model.train()
        self._snapshot(metrics)
        lr, since_check = self.optimizer.param_groups[0]["lr"], 0
        self.bar.start(epoch, len(batches))
        for xb, yb in batches:
            lr = self._set_lr(epoch, total_steps)
            out = self._loss(self.loss_fn, xb, yb, s.global_step, gens["data"], gens["noise"])
            self.guard.observe(out.loss)
            self.precision.backward_and_step(out.loss, self.optimizer, self.params, cfg.grad_clip)
            if self.auxiliary is not None:
                self._auxiliary_step(xb, yb, gens)
            metrics.add(out, xb.shape[0])
            s.global_step += 1
            since_check += 1
            self.bar.advance()
            if since_check == cfg.nan_check_every:
                self._check(epoch, metrics)
                since_check = 0
        if since_check:
            self._check(epoch, metrics)
        self.bar.finish({})
        return *metrics.means("train", self.info, self.device), lr

    @torch.inference_mode()
    def _validate(self) -> dict[str, float | None]:
        """``val_<term>`` means over the validation data (empty without validation data)."""
        if self.val is None:
            return {}
        # the same draws every epoch, so that epochs compare on the same binarized data
        gen = epoch_generator(self.cfg.seed, "val", 0, self.info.rank, self.device)
        batches = DeviceBatches(
            list(self.val), self.cfg.batch_size, device=self.device, shard=self.info.shard
        )
        metrics = EpochMetrics()
        self.model.eval()
        for xb, yb in batches:
            if xb.shape[0] == 0:  # a rank's share of the last, small batch can be empty
                continue
            metrics.add(self._loss(self.loss_module, xb, yb, None, gen, gen), xb.shape[0])
        self.model.train()
        return metrics.means("val", self.info, self.device)[0]

    # -- around the steps ----------------------------------------------------------------
    def _auxiliary_step(
        self, xb: Tensor, yb: Tensor | None, gens: dict[str, torch.Generator]
    ) -> None:
        """One step of the model's auxiliary objective (``capabilities.auxiliary_step``) on
        the batch, transformed as for the main step, with the model's own optimiser."""
        assert self.auxiliary is not None
        binarize, corruption = self.cfg.binarize == "dynamic", self.cfg.corruption
        x_in, _ = transform_batch(xb, binarize=binarize, corruption=corruption,
                                  generator=gens["data"])  # fmt: skip
        self.auxiliary.zero_grad(set_to_none=True)  # also drops what the main loss left there
        with self.precision.autocast():
            loss = self.model.auxiliary_loss(x_in, y=yb, generator=gens["noise"])
        loss.backward()
        self.auxiliary.step()

    def _set_lr(self, epoch: int, total_steps: int) -> float:
        """The schedule's learning rate for the next step, scaled by the plateau schedule and
        the NaN guard's roll-backs, set on every parameter group."""
        cfg, s = self.cfg, self.state
        lr = cfg.lr * schedule_factor(cfg, epoch, s.global_step, total_steps)
        lr *= s.plateau.factor * s.nan_scale
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

    def _snapshot(self, metrics: EpochMetrics) -> None:
        extra = {"step": self.state.global_step, "batches": len(metrics)}
        self.guard.snapshot(self.model, self.optimizer, self.precision.scaler, extra)

    def _check(self, epoch: int, metrics: EpochMetrics) -> None:
        """Read the NaN flag; snapshot on success, roll back on failure (see guard.py)."""
        s, cfg = self.state, self.cfg
        good = self.guard.check(self.params)
        if good is None:
            self._snapshot(metrics)
            return
        saved = self.guard.restore(self.model, self.optimizer, self.precision.scaler)
        metrics.truncate(saved["batches"])
        bad_step = saved["step"] + good + 1  # 1-based global step of the first failure
        s.global_step = saved["step"]
        s.nan_rollbacks += 1
        s.nan_scale *= cfg.nan_lr_factor
        if s.nan_rollbacks > cfg.max_nan_retries:
            raise TrainingError(
                f"non-finite loss or gradient at epoch {epoch + 1}, step {bad_step}, after "
                f"{cfg.max_nan_retries} roll-back(s) that lowered the learning rate to "
                f"{cfg.lr * s.nan_scale / cfg.nan_lr_factor:.3g}. Lower TrainConfig.lr, "
                "set grad_clip, or check the data for NaN/inf values."
            )
        logger.warning(
            "non-finite loss or gradient at epoch %d, step %d: rolled back to step %d, "
            "lr scale now %.3g (roll-back %d of %d)",
            *(epoch + 1, bad_step, s.global_step, s.nan_scale, s.nan_rollbacks),
            cfg.max_nan_retries,
        )

    def _no_progress(self, epoch: int) -> None:
        """Stop a run whose every step so far was rolled back by the NaN guard (the guard's
        roll-back budget may outlast a few short epochs: the run would "finish" untrained)."""
        cfg, s = self.cfg, self.state
        raise TrainingError(
            f"no optimisation step succeeded by the end of epoch {epoch + 1}: every step gave "
            f"a non-finite loss or gradient and was rolled back ({s.nan_rollbacks} roll-back(s); "
            f"lr {cfg.lr:.3g}, lowered to {cfg.lr * s.nan_scale:.3g}). Lower the learning rate "
            "(TrainConfig.lr, --lr), set grad_clip, or check the data for NaN/inf values."
        )

    # -- after an epoch --------------------------------------------------------------------
    def _update_monitor(self, value: float | None) -> None:
        """Plateau schedule and early stopping after an epoch with monitored loss ``value``."""
        cfg, s = self.cfg, self.state
        s.plateau = plateau_update(s.plateau, value, cfg)
        if value is not None and (s.best is None or value < s.best):
            s.best, s.best_epoch, s.bad_epochs = value, s.epoch, 0
            if cfg.early_stopping_patience is not None:
                state = self.model.state_dict()
                self.best_weights = {k: v.detach().clone() for k, v in state.items()}
            return
        s.bad_epochs += 1
        patience = cfg.early_stopping_patience
        if patience is not None and s.bad_epochs >= patience:
            s.stopped = True
            logger.info("early stopping after epoch %d (best: epoch %s)", s.epoch, s.best_epoch)

    def _write_epoch(self, record: dict[str, Any]) -> None:
        """Rank 0: the checkpoint (every ``checkpoint_every`` epochs and after the last one),
        then the epoch's line of ``metrics.jsonl``; TensorBoard."""
        s, cfg = self.state, self.cfg
        if self.metrics is not None and self.folder is not None:
            if s.stopped or s.epoch == cfg.epochs or s.epoch % cfg.checkpoint_every == 0:
                gens = self._generators(s.epoch)  # the streams the next epoch starts from
                self.folder.save_checkpoint(s, self.records, self.best_weights, gens)
            self.metrics.append(record)
        if self.board is not None:
            self.board.write(record)

    def _finish(self) -> History:
        if self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
        if self.metrics is not None and self.folder is not None:
            self.folder.save_model(self.state)
        if self.board is not None:
            self.board.close()
        s = self.state
        history = History(list(self.records), s.best_epoch, s.stopped, s.nan_rollbacks, self.out)
        for callback in self.callbacks:
            callback.on_fit_end(history)
        return history

    def load_latest(self) -> None:
        """Restore the newest valid checkpoint of ``out`` (every rank reads the same files)."""
        assert self.folder is not None
        restored = self.folder.load_latest(self.device)
        if restored is not None:
            self.state, self.records = restored.state, restored.records
            self.best_weights, self.resumed_generators = restored.best_weights, restored.generators


def _summary(record: dict[str, Any]) -> str:
    shown = (f"{k}={v:.4g}" for k, v in record.items() if isinstance(v, float) and k != "seconds")
    return ", ".join(shown)
