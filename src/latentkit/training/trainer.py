"""The training loop: :class:`Trainer` and the :class:`History` it returns.

``Trainer(TrainConfig(...)).fit(model, train, val, out="runs/vae")`` trains any model that
implements the contract of :mod:`latentkit.models.base` (``model.loss`` returning a
``LossOutput`` with per-sample terms). The run folder ``out`` receives::

    config.json         the model config (``model_type``, ...) with the train config in "extra"
    model.safetensors   the final weights (the best ones with early stopping)
    metrics.jsonl       one JSON object per epoch: epoch, step, lr, seconds,
                        samples_per_second, train_<term> and val_<term> (means per sample)
    checkpoints/        safetensors + JSON checkpoints (see :mod:`.checkpoint`)

Speed: the dataset moves to the device once; batches are gathered there; metrics are summed
on the device and read once per epoch; the NaN guard syncs once per ``nan_check_every``
steps (:mod:`.guard`); Adam is fused on CUDA and uses the foreach kernels elsewhere;
gradients are released with ``zero_grad(set_to_none=True)``; optional ``torch.compile``,
channels-last and CUDA mixed precision. Validation runs under ``torch.inference_mode`` with
``step=None`` (the model's full objective, so warm-up does not move the monitored loss).

Resuming (``resume=True``) loads the newest valid checkpoint and continues; because the
trainer's random streams are re-derived from the seed at every epoch (:mod:`.batching`) and
the optimizer, schedule, guard and early-stopping state are all in the checkpoint, an
interrupted and resumed run ends with exactly the weights of an uninterrupted one (on the
CPU; CUDA kernels may themselves be non-deterministic).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from latentkit.data.dataset import Dataset
from latentkit.errors import CheckpointError, ConfigError, DataError, TrainingError
from latentkit.models.base import AbstractModel
from latentkit.training import checkpoint as ckpt
from latentkit.training import distributed
from latentkit.training.batching import DeviceBatches, epoch_generator, place, transform_batch
from latentkit.training.callbacks import Callback, MetricsFile, ProgressBar, TensorBoard
from latentkit.training.config import TrainConfig
from latentkit.training.guard import NanGuard
from latentkit.training.schedules import PlateauState, plateau_update, schedule_factor

__all__ = ["History", "Trainer", "resolve_device"]

logger = logging.getLogger(__name__)

_STREAMS = ("shuffle", "noise", "data")


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


@dataclasses.dataclass
class _State:
    """Loop state that survives a checkpoint (JSON)."""

    epoch: int = 0  # completed epochs
    global_step: int = 0
    nan_scale: float = 1.0
    nan_rollbacks: int = 0
    plateau: PlateauState = dataclasses.field(default_factory=PlateauState)
    best: float | None = None
    best_epoch: int | None = None
    bad_epochs: int = 0
    stopped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "plateau": self.plateau.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _State:
        return cls(**{**data, "plateau": PlateauState.from_dict(data["plateau"])})


def resolve_device(name: str, info: distributed.DistInfo | None = None) -> torch.device:
    """The torch device for ``TrainConfig.device`` (``cuda:LOCAL_RANK`` under DDP)."""
    info = info or distributed.DistInfo()
    if name == "auto":
        mps = getattr(torch.backends, "mps", None)
        name = (
            "cuda"
            if torch.cuda.is_available()
            else "mps"
            if mps is not None and mps.is_available()
            else "cpu"
        )
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(
                "TrainConfig.device is 'cuda' but no CUDA device is available; use 'auto' or 'cpu'."
            )
        return torch.device(
            "cuda", info.local_rank if info.enabled else torch.cuda.current_device()
        )
    if name == "mps":
        if info.enabled:
            raise ConfigError(
                "distributed training on 'mps' is not supported; use 'cpu' or 'cuda'."
            )
        return torch.device("mps")
    return torch.device("cpu")


def _tensors(data: Dataset | Tensor, what: str) -> tuple[Tensor, Tensor | None]:
    if isinstance(data, Dataset):
        return data.x, data.y
    if isinstance(data, Tensor):
        if not data.is_floating_point() or data.ndim < 2:
            raise DataError(
                f"{what} must be a Dataset or a float tensor of shape (N, ...), "
                f"got a {data.dtype} tensor of shape {tuple(data.shape)}."
            )
        return data.float(), None
    raise DataError(f"{what} must be a latentkit Dataset or a tensor, got {type(data).__name__}.")


def _build_optimizer(
    config: TrainConfig, params: list[Tensor], device: torch.device
) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay, foreach=True)  # fmt: skip
    cls = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
    # fused kernels on CUDA (one launch for all parameters, no host sync with GradScaler)
    fast = {"fused": True} if device.type == "cuda" else {"foreach": True}
    return cls(params, lr=config.lr, weight_decay=config.weight_decay, **fast)


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
        val : Dataset or Tensor, optional
            Validation data, evaluated after every epoch.
        out : str or Path, optional
            Run folder for config, weights, metrics and checkpoints (written by rank 0 only).
        resume : bool
            Continue from the newest valid checkpoint in ``out/checkpoints`` (starts afresh,
            with a warning, when there is none).

        Raises
        ------
        TrainingError
            When the NaN guard runs out of retries.
        CheckpointError
            When ``resume`` finds a checkpoint of a different model.
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
            if resume:
                run.load_latest()
            return run.train()
        finally:
            torch.set_num_threads(threads)
            distributed.teardown(created)


class _Run:
    """One call of ``fit``: the model, the data, the optimizer and the loop state."""

    def __init__(self, config: TrainConfig, callbacks: list[Callback], model: AbstractModel,
                 train: Dataset | Tensor, val: Dataset | Tensor | None, out: str | Path | None,
                 info: distributed.DistInfo, device: torch.device) -> None:  # fmt: skip
        self.cfg, self.callbacks, self.model, self.info, self.device = (
            config,
            callbacks,
            model,
            info,
            device,
        )
        x, y = _tensors(train, "train")
        self._check_data(x, y, "train")
        self.val = None
        if val is not None:
            vx, vy = _tensors(val, "val")
            self._check_data(vx, vy, "val")
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
        amp = config.amp if device.type == "cuda" else "none"
        if amp != config.amp:
            logger.warning("amp=%r needs CUDA; training in float32 on %s.", config.amp, device)
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)
        self.scaler = torch.amp.GradScaler("cuda") if amp == "fp16" else None
        self.loss_fn: Any = distributed.wrap(distributed.LossModule(model), info, device)
        if config.compile:
            self.loss_fn = torch.compile(self.loss_fn)
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = _build_optimizer(config, self.params, device)
        self.state = _State()
        self.records: list[dict[str, Any]] = []
        self.best_weights: dict[str, Tensor] | None = None
        self.stored_generators: dict[str, Tensor] = {}
        self.guard = NanGuard(device, info)
        self.out = Path(out) if out is not None else None
        main = info.is_main and self.out is not None
        self.metrics = MetricsFile(self.out / "metrics.jsonl") if main else None
        self.board = TensorBoard(
            self.out / "tensorboard" if main else None, config.tensorboard and info.is_main
        )
        self.bar = ProgressBar(config.progress and info.is_main, config.epochs)

    def _check_data(self, x: Tensor, y: Tensor | None, what: str) -> None:
        if tuple(x.shape[1:]) != self.model.input_shape:
            raise DataError(
                f"{what} samples have shape {tuple(x.shape[1:])} but the model expects "
                f"{self.model.input_shape}."
            )
        if self.model.needs_labels and y is None:
            raise DataError(
                f"{type(self.model).__name__} needs labels: pass a Dataset with y for {what}."
            )
        if len(x) == 0:
            raise DataError(f"{what} is empty.")
        if self.cfg.binarize == "dynamic" and (bool(x.min() < 0) or bool(x.max() > 1)):
            raise DataError(
                f"binarize='dynamic' needs {what} values in [0, 1], found "
                f"[{float(x.min()):g}, {float(x.max()):g}]; scale the data first."
            )

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def _set_lr(self, epoch: int, total_steps: int) -> float:
        s = self.state
        lr = self.cfg.lr * schedule_factor(self.cfg, epoch, s.global_step, total_steps)
        lr *= s.plateau.factor * s.nan_scale
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

    # -- one epoch ---------------------------------------------------------------------
    def _generators(self, epoch: int) -> dict[str, torch.Generator]:
        rank = self.info.rank
        gens = {
            "shuffle": epoch_generator(self.cfg.seed, "shuffle", epoch, 0, torch.device("cpu")),
            "noise": epoch_generator(self.cfg.seed, "noise", epoch, rank, self.device),
            "data": epoch_generator(self.cfg.seed, "data", epoch, rank, self.device),
        }
        if self.stored_generators and self.info.is_main:  # first epoch after a resume
            for name, state in self.stored_generators.items():
                gens[name].set_state(state)
        self.stored_generators = {}
        return gens

    def _train_epoch(
        self, epoch: int, gens: dict[str, torch.Generator]
    ) -> tuple[dict[str, float | None], float, int]:
        cfg, s = self.cfg, self.state
        batches = DeviceBatches(
            [self.x, self.y],
            cfg.batch_size,
            device=self.device,
            shuffle=True,
            drop_last=self.drop_last,
            generator=gens["shuffle"],
            shard=self.info.shard,
        )
        total_steps = len(batches) * cfg.epochs
        names: list[str] = []
        sums: Tensor | None = None  # (1 + terms,): loss * n, then per-sample term sums
        count = 0
        self.model.train()
        self.guard.snapshot(
            self.model,
            self.optimizer,
            self.scaler,
            {"step": s.global_step, "sums": sums, "count": count},
        )
        since_check, lr = 0, self._set_lr(epoch, total_steps)
        self.bar.start(epoch, len(batches))
        for xb, yb in batches:
            lr = self._set_lr(epoch, total_steps)
            x_in, target = transform_batch(
                xb,
                binarize=cfg.binarize == "dynamic",
                corruption=cfg.corruption,
                generator=gens["data"],
            )
            if self.channels_last:
                x_in = x_in.contiguous(memory_format=torch.channels_last)
            with self._autocast():
                loss, terms = self.loss_fn(x_in, yb, target, s.global_step, gens["noise"])
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
                self.scaler.unscale_(self.optimizer)
            else:
                loss.backward()
            grad_norm = self._grad_norm()
            # under fp16 the GradScaler skips steps with overflowing gradients itself
            self.guard.observe(loss, None if self.scaler is not None else grad_norm)
            if self.scaler is not None:
                self.scaler.step(self.optimizer)
                self.scaler.update()
            else:
                self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            n = x_in.shape[0]
            with torch.no_grad():
                row = torch.stack(
                    [loss.detach().float() * n, *(t.detach().float().sum() for t in terms.values())]
                )
                if sums is None:
                    names, sums = list(terms), row
                else:
                    sums += row
            count += n
            s.global_step += 1
            since_check += 1
            self.bar.advance()
            if since_check == cfg.nan_check_every:
                sums, count = self._check(epoch, sums, count)
                since_check = 0
        sums, count = self._check(epoch, sums, count)
        self.bar.finish({})
        return self._means("train", names, sums, count), lr, count

    def _grad_norm(self) -> Tensor | None:
        if self.cfg.grad_clip is not None:
            return torch.nn.utils.clip_grad_norm_(self.params, self.cfg.grad_clip, foreach=True)
        grads = [p.grad for p in self.params if p.grad is not None]
        return torch.nn.utils.get_total_norm(grads, foreach=True) if grads else None

    def _check(self, epoch: int, sums: Tensor | None, count: int) -> tuple[Tensor | None, int]:
        """Read the NaN flag; snapshot on success, roll back on failure."""
        s = self.state
        good = self.guard.check()
        if good is None:
            self.guard.snapshot(
                self.model,
                self.optimizer,
                self.scaler,
                {"step": s.global_step, "sums": sums, "count": count},
            )
            return sums, count
        saved = self.guard.restore(self.model, self.optimizer, self.scaler)
        bad_step = saved["step"] + good + 1  # 1-based global step of the first failure
        s.global_step = saved["step"]
        s.nan_rollbacks += 1
        s.nan_scale *= self.cfg.nan_lr_factor
        if s.nan_rollbacks > self.cfg.max_nan_retries:
            raise TrainingError(
                f"non-finite loss or gradient at epoch {epoch + 1}, step {bad_step}, after "
                f"{self.cfg.max_nan_retries} roll-back(s) with the learning rate reduced to "
                f"{self.cfg.lr * s.nan_scale / self.cfg.nan_lr_factor:.3g}. Lower TrainConfig.lr, "
                "set grad_clip, or check the data for NaN/inf values."
            )
        logger.warning("non-finite loss or gradient at epoch %d, step %d: rolled back to step %d, "
                       "lr scale now %.3g (roll-back %d of %d)", epoch + 1, bad_step, s.global_step,
                       s.nan_scale, s.nan_rollbacks, self.cfg.max_nan_retries)  # fmt: skip
        return saved["sums"], saved["count"]

    def _means(
        self, prefix: str, names: list[str], sums: Tensor | None, count: int
    ) -> dict[str, float | None]:
        """All-reduce the sums (one sync) and divide by the global sample count."""
        keys = [f"{prefix}_loss", *(f"{prefix}_{n}" for n in names)]
        local = torch.zeros(len(keys) + 1, dtype=torch.float64)
        if sums is not None:
            local[:-1] = sums.to("cpu", torch.float64)
        local[-1] = count
        if self.info.enabled:
            local = distributed.all_reduce(local.to(self.device), self.info).cpu()
        total = local[-1].item()
        values = [v / total if total else None for v in local[:-1].tolist()]
        return {
            k: (v if v is None or math.isfinite(v) else None)
            for k, v in zip(keys, values, strict=True)
        } | {"_count": total}

    @torch.inference_mode()
    def _validate(self) -> dict[str, float | None]:
        if self.val is None:
            return {}
        vx, vy = self.val
        gen = epoch_generator(
            self.cfg.seed, "val", 0, self.info.rank, self.device
        )  # same draw every epoch
        batches = DeviceBatches(
            [vx, vy], self.cfg.batch_size, device=self.device, shard=self.info.shard
        )
        names: list[str] = []
        sums, count = None, 0
        self.model.eval()
        for xb, yb in batches:
            if xb.shape[0] == 0:  # a rank's share of the last, small batch can be empty
                continue
            x_in, target = transform_batch(
                xb,
                binarize=self.cfg.binarize == "dynamic",
                corruption=self.cfg.corruption,
                generator=gen,
            )
            if self.channels_last:
                x_in = x_in.contiguous(memory_format=torch.channels_last)
            with self._autocast():
                out = self.model.loss(x_in, y=yb, target=target, step=None, generator=gen)
            terms = out.per_sample()
            row = torch.stack(
                [out.loss.float() * xb.shape[0], *(t.float().sum() for t in terms.values())]
            )
            names, sums = list(terms), row if sums is None else sums + row
            count += xb.shape[0]
        self.model.train()
        means = self._means("val", names, sums, count)
        means.pop("_count")
        return means

    # -- the loop ----------------------------------------------------------------------
    def train(self) -> History:
        cfg, s = self.cfg, self.state
        for callback in self.callbacks:
            callback.on_fit_start(self.model, cfg)
        for epoch in range(s.epoch, cfg.epochs):
            if s.stopped:
                break
            start = time.perf_counter()
            gens = self._generators(epoch)
            train, lr, _ = self._train_epoch(epoch, gens)
            train_seconds = time.perf_counter() - start  # _means synced the device
            samples = train.pop("_count")
            val = self._validate()
            s.epoch = epoch + 1
            record: dict[str, Any] = {
                "epoch": epoch + 1,
                "step": s.global_step,
                "lr": lr,
                "seconds": time.perf_counter() - start,  # training and validation
                "samples_per_second": samples / train_seconds if train_seconds > 0 else None,
                **train,
                **val,
            }
            self._end_of_epoch_state(record, "val_loss" if self.val is not None else "train_loss")
            self.records.append(record)
            last = s.stopped or s.epoch == cfg.epochs
            if (
                self.info.is_main
                and self.out is not None
                and (last or s.epoch % cfg.checkpoint_every == 0)
            ):
                self._save_checkpoint()
            if self.metrics is not None:
                self.metrics.write(self.records)
            self.board.write(record)
            logger.info("epoch %d/%d: %s", epoch + 1, cfg.epochs, _summary(record))
            stop = [cb.on_epoch_end(epoch + 1, record, self.model) for cb in self.callbacks]
            if any(stop):
                logger.info("a callback stopped training after epoch %d", epoch + 1)
                break
        return self._finish()

    def _end_of_epoch_state(self, record: dict[str, Any], monitor: str) -> None:
        """Update plateau and early-stopping state from the monitored loss."""
        cfg, s = self.cfg, self.state
        value = record.get(monitor)
        s.plateau = plateau_update(s.plateau, value, cfg)
        if value is not None and (s.best is None or value < s.best):
            s.best, s.best_epoch, s.bad_epochs = value, s.epoch, 0
            if cfg.early_stopping_patience is not None:
                self.best_weights = {
                    k: v.detach().clone() for k, v in self.model.state_dict().items()
                }
        else:
            s.bad_epochs += 1
            if (
                cfg.early_stopping_patience is not None
                and s.bad_epochs >= cfg.early_stopping_patience
            ):
                s.stopped = True
                logger.info("early stopping after epoch %d: best %s %.6g at epoch %s",
                            s.epoch, monitor, s.best or math.nan, s.best_epoch)  # fmt: skip

    def _finish(self) -> History:
        if self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
        if self.info.is_main and self.out is not None:
            self._save_model()
            if self.metrics is not None:
                self.metrics.write(self.records)
        self.board.close()
        history = History(list(self.records), self.state.best_epoch, self.state.stopped,
                          self.state.nan_rollbacks, self.out)  # fmt: skip
        for callback in self.callbacks:
            callback.on_fit_end(history)
        return history

    # -- files -------------------------------------------------------------------------
    def _save_model(self) -> None:
        assert self.out is not None
        extra = {
            "train_config": self.cfg.to_dict(),
            "epochs_completed": self.state.epoch,
            "best_epoch": self.state.best_epoch,
        }
        self.model.save(self.out, extra=extra)

    def _save_checkpoint(self) -> None:
        assert self.out is not None
        s = self.state
        tensors = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        opt_tensors, opt_structure = ckpt.flatten_optimizer(self.optimizer.state_dict())
        tensors.update(opt_tensors)
        if self.best_weights is not None:
            tensors.update({f"best.{k}": v for k, v in self.best_weights.items()})
        tensors["rng.torch_cpu"] = ckpt.rng_tensor(torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            for i, state in enumerate(torch.cuda.get_rng_state_all()):
                tensors[f"rng.cuda.{i}"] = ckpt.rng_tensor(state)
        # states of the trainer's streams for the next epoch (rank 0's; see batching.py)
        for name, gen in self._generators_preview(s.epoch).items():
            tensors[f"rng.gen.{name}"] = ckpt.rng_tensor(gen.get_state())
        meta = {
            "global_step": s.global_step,
            "state": s.to_dict(),
            "optimizer": opt_structure,
            "grad_scaler": None if self.scaler is None else self.scaler.state_dict(),
            "data_transform": {
                "binarize": self.cfg.binarize,
                "corruption": None
                if self.cfg.corruption is None
                else self.cfg.corruption.to_dict(),
                "seed": self.cfg.seed,
                "generators": "sha256(seed/stream/epoch/rank), re-seeded every epoch",
            },
            "history": list(self.records),
            "train_config": self.cfg.to_dict(),
            "model_type": self.model.model_type,
            "model_config": self.model.config.to_dict(),
        }
        folder = self.out / "checkpoints"
        ckpt.save_checkpoint(folder, s.epoch, tensors, meta)
        ckpt.prune_checkpoints(folder, self.cfg.keep_checkpoints)
        self._save_model()

    def _generators_preview(self, epoch: int) -> dict[str, torch.Generator]:
        saved, self.stored_generators = self.stored_generators, {}
        try:
            return self._generators(epoch)
        finally:
            self.stored_generators = saved

    def load_latest(self) -> None:
        """Restore the newest valid checkpoint of ``out`` (every rank reads the same files)."""
        assert self.out is not None
        found = ckpt.latest_checkpoint(self.out / "checkpoints")
        if found is None:
            logger.warning(
                "resume=True but %s holds no valid checkpoint; starting afresh.",
                self.out / "checkpoints",
            )
            return
        meta = found.meta
        if (
            meta.get("model_type") != self.model.model_type
            or meta.get("model_config") != self.model.config.to_dict()
        ):
            raise CheckpointError(
                f"{found.path}: written for a {meta.get('model_type')} with config "
                f"{meta.get('model_config')}, not for this {self.model.model_type}; resume "
                "with the same model config or use a new run folder."
            )
        if meta.get("train_config") != self.cfg.to_dict():
            logger.warning(
                "resuming %s with a different TrainConfig than it was written with", found.path
            )
        try:
            self.model.load_state_dict(found.group("model"))
            self.optimizer.load_state_dict(
                ckpt.unflatten_optimizer(found.tensors, meta["optimizer"])
            )
            if self.scaler is not None and meta.get("grad_scaler"):
                self.scaler.load_state_dict(meta["grad_scaler"])
            self.state = _State.from_dict(meta["state"])
            self.records = list(meta["history"])
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise CheckpointError(
                f"{found.path}: cannot restore the training state ({exc})."
            ) from exc
        best = found.group("best")
        self.best_weights = {k: v.to(self.device) for k, v in best.items()} or None
        torch.set_rng_state(found.tensors["rng.torch_cpu"])
        cuda_states = [found.tensors[k] for k in sorted(found.tensors) if k.startswith("rng.cuda.")]
        if (
            cuda_states
            and torch.cuda.is_available()
            and len(cuda_states) == torch.cuda.device_count()
        ):
            torch.cuda.set_rng_state_all(cuda_states)
        self.stored_generators = found.group("rng.gen")
        logger.info(
            "resumed from %s (epoch %d, step %d)",
            found.path,
            self.state.epoch,
            self.state.global_step,
        )


def _summary(record: dict[str, Any]) -> str:
    return ", ".join(
        f"{k}={v:.4g}" for k, v in record.items() if isinstance(v, float) and k != "seconds"
    )
