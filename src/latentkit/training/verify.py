"""Checking a checkpoint against the run it restores, before any of it is used.

A checkpoint's digest proves only that its JSON and its tensor file belong together; whoever
can write the run folder can rewrite both. :func:`verify_checkpoint` therefore checks every
tensor and every number of a loaded checkpoint against the model, the optimizer and the
GradScaler it is about to restore, and raises :class:`~latentkit.errors.CheckpointError`
(one line, naming the file and the field) before :func:`latentkit.training.state.restore`
loads anything:

- tensors: only known names (``model.*``, ``best.*``, the ``optim.*`` entries the optimizer
  structure names, ``rng.*``); model and best weights with exactly the model's names, shapes
  and dtypes, and finite;
- the optimizer: as many parameter groups and parameters as this optimizer, hyperparameters
  of the right kinds in their ranges (finite ``lr >= 0``, ``eps > 0``, two betas in [0, 1),
  flags as booleans), per-parameter state with this optimizer's keys, each tensor of its
  parameter's shape and dtype (a mis-shaped ``exp_avg`` made the fused Adam kernel write past
  its buffer), ``step`` a finite whole number in ``[0, global_step]``;
- the loop state: ``epoch`` (equal to the file's name and at most ``TrainConfig.epochs``) and
  ``global_step`` non-negative integers, scales in (0, 1], booleans as booleans; the history a
  list of one flat record per completed epoch, with finite numbers;
- random states: known keys only, uint8 vectors as long as the state of the generator they are
  loaded into (``torch.Generator(device).get_state().numel()``: 5056 bytes on the CPU);
- the loss scale: the GradScaler's own keys, a finite positive ``scale``.

Policy: :func:`~latentkit.training.checkpoint.latest_checkpoint` *skips* a checkpoint whose
files are incomplete or whose digest does not match (what a crash or a full disk leaves), in
favour of the previous one. A checkpoint that passes those checks but not these was written
that way or altered on purpose, so it is *refused*, and the message says how to go back to the
previous checkpoint (delete this one) or start afresh.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from latentkit.errors import CheckpointError
from latentkit.training.checkpoint import Checkpoint
from latentkit.training.config import TrainConfig

__all__ = ["GENERATOR_STREAMS", "IMPLEMENTATION_FLAGS", "verify_checkpoint"]

#: the trainer's per-epoch random streams saved as ``rng.gen.<name>``; True: on the CPU
GENERATOR_STREAMS = {"shuffle": True, "noise": False, "data": False}
_STATE_FIELDS = {"epoch", "global_step", "nan_scale", "nan_rollbacks", "plateau", "best",
                 "best_epoch", "bad_epochs", "stopped"}  # fmt: skip
_SCALER_KEYS = {"scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"}
_MAX_STEP = 2**62
_FILE = re.compile(r"^epoch-(\d{6})\.json$")


class _Problem(Exception):
    """What is wrong with one field (turned into a CheckpointError with the policy)."""


class _TooFar(Exception):
    """A genuine checkpoint that the configured run cannot continue from."""


def verify_checkpoint(
    found: Checkpoint,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: Any,
    config: TrainConfig,
    device: torch.device,
) -> None:
    """Refuse ``found`` unless every tensor and number fits the run it restores.

    Raises
    ------
    CheckpointError
        Naming the file, the field, what was expected and what was found.
    """
    stem = found.path.with_suffix("").name
    try:
        epoch = _loop_state(found, config)
        _history(found.meta.get("history"), epoch)
        _tensors(found, model, device)
        _optimizer(found, optimizer)
        _scaler(found.meta.get("grad_scaler"), scaler)
    except _Problem as exc:
        raise CheckpointError(
            f"{found.path}: {exc}. The checkpoint is refused, not skipped (its digest matches, "
            f"so it was written so or altered on purpose): delete {stem}.json and "
            f"{stem}.safetensors to resume from the previous checkpoint, or train into a new "
            "folder."
        ) from None
    except _TooFar as exc:
        raise CheckpointError(f"{found.path}: {exc}") from None


# -- scalars ---------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    return f"{type(value).__name__} {value!r:.40}"


def _integer(value: Any, name: str, low: int = 0, high: int = _MAX_STEP) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Problem(f"{name} must be an integer in [{low}, {high}], found {_shown(value)}")
    return value


def _number(value: Any, name: str, low: float, high: float, *, open_low: bool = False,
            open_high: bool = False) -> float:  # fmt: skip
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if open_low else value >= low)
    ok = ok and (value < high if open_high else value <= high)
    if not ok:
        bounds = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
        raise _Problem(f"{name} must be a finite number in {bounds}, found {_shown(value)}")
    return float(value)


def _boolean(value: Any, name: str, *, none: bool = False) -> None:
    if not (isinstance(value, bool) or (none and value is None)):
        raise _Problem(f"{name} must be true or false, found {_shown(value)}")


def _mapping(value: Any, name: str, keys: set[str] | None = None) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Problem(f"{name} must be a JSON object, found {_shown(value)}")
    if keys is not None and set(value) != keys:
        odd = sorted(set(value) ^ keys)
        raise _Problem(f"{name} must hold exactly {sorted(keys)}; unknown or missing: {odd}")
    return value


# -- the loop state and the records ----------------------------------------------------------


def _loop_state(found: Checkpoint, config: TrainConfig) -> int:
    meta = found.meta
    state = _mapping(meta.get("state"), "state", _STATE_FIELDS)
    epoch = _integer(state["epoch"], "state.epoch")
    if meta.get("epoch") != epoch or isinstance(meta.get("epoch"), bool):
        raise _Problem(f"epoch {_shown(meta.get('epoch'))} differs from state.epoch {epoch}")
    named = _FILE.match(found.path.name)
    if named is not None and int(named.group(1)) != epoch:
        raise _Problem(f"epoch {epoch} differs from the file's name")
    step = _integer(state["global_step"], "state.global_step")
    if meta.get("global_step") != step or isinstance(meta.get("global_step"), bool):
        raise _Problem(f"global_step {_shown(meta.get('global_step'))} differs from the state's")
    _number(state["nan_scale"], "state.nan_scale", 0, 1, open_low=True)
    _integer(state["nan_rollbacks"], "state.nan_rollbacks")
    plateau = _mapping(state["plateau"], "state.plateau", {"best", "bad_epochs", "factor"})
    if plateau["best"] is not None:
        _number(plateau["best"], "state.plateau.best", -math.inf, math.inf)
    _integer(plateau["bad_epochs"], "state.plateau.bad_epochs")
    _number(plateau["factor"], "state.plateau.factor", 0, 1, open_low=True)
    if state["best"] is not None:
        _number(state["best"], "state.best", -math.inf, math.inf)
    if state["best_epoch"] is not None:
        _integer(state["best_epoch"], "state.best_epoch", 1, max(epoch, 1))
    _integer(state["bad_epochs"], "state.bad_epochs", 0, epoch)
    _boolean(state["stopped"], "state.stopped")
    if epoch > config.epochs:
        raise _TooFar(
            f"it has completed {epoch} epochs, more than TrainConfig.epochs ({config.epochs}); "
            f"resume with epochs >= {epoch} (--epochs {epoch}) or train into a new folder."
        )
    return epoch


def _history(history: Any, epoch: int) -> None:
    if not isinstance(history, list) or len(history) != epoch:
        found = f"{len(history)} records" if isinstance(history, list) else _shown(history)
        raise _Problem(f"history must be a list of {epoch} records (one per epoch), found {found}")
    for i, record in enumerate(history):
        where = f"history[{i}]"
        _mapping(record, where)
        if record.get("epoch") != i + 1 or isinstance(record.get("epoch"), bool):
            raise _Problem(f"{where}.epoch must be {i + 1}, found {_shown(record.get('epoch'))}")
        for key, value in record.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise _Problem(f"{where}.{key} is not finite ({value})")
            if value is not None and not isinstance(value, bool | int | float | str):
                raise _Problem(f"{where}.{key} must be a number, found {_shown(value)}")


# -- tensors and random states ---------------------------------------------------------------


def _like(tensor: Tensor, reference: Tensor, name: str) -> None:
    """``tensor`` has the shape and dtype of ``reference`` and holds finite values."""
    if tuple(tensor.shape) != tuple(reference.shape) or tensor.dtype != reference.dtype:
        raise _Problem(
            f"{name} is a {tensor.dtype} tensor of shape {tuple(tensor.shape)}; expected "
            f"{reference.dtype} of shape {tuple(reference.shape)}"
        )
    if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
        raise _Problem(f"{name} holds values that are not finite")


def _weights(found: Checkpoint, prefix: str, expected: Mapping[str, Tensor]) -> None:
    group = found.group(prefix)
    missing = sorted(set(expected) - set(group))
    unexpected = sorted(set(group) - set(expected))
    if missing or unexpected:
        names = [f"{prefix}.{k}" for k in (missing or unexpected)[:3]]
        raise _Problem(f"{'missing' if missing else 'unexpected'} tensor(s) {', '.join(names)}")
    for key, reference in expected.items():
        _like(group[key], reference, f"{prefix}.{key}")


def _state_size(device: torch.device) -> int:
    """Bytes in the state of a generator on ``device``."""
    return torch.Generator(device=device).get_state().numel()


def _random_state(tensor: Tensor, name: str, size: int | None) -> None:
    wrong_size = size is not None and tensor.numel() != size
    if tensor.dtype != torch.uint8 or tensor.ndim != 1 or wrong_size:
        want = f"{size} bytes" if size is not None else "bytes"
        raise _Problem(
            f"{name} must be a random state of {want} (uint8), found a {tensor.dtype} tensor "
            f"of shape {tuple(tensor.shape)}"
        )


def _tensors(found: Checkpoint, model: torch.nn.Module, device: torch.device) -> None:
    known = ("model.", "best.", "optim.", "rng.")
    for name in found.tensors:
        if not name.startswith(known):
            raise _Problem(f"unknown tensor {name!r}")
    expected = model.state_dict()
    _weights(found, "model", expected)
    if found.group("best"):
        _weights(found, "best", expected)
    cpu = _state_size(torch.device("cpu"))
    streams = found.group("rng.gen")
    for stream, on_cpu in GENERATOR_STREAMS.items():
        if stream not in streams:
            raise _Problem(f"the random state rng.gen.{stream} is missing")
        size = cpu if on_cpu else _state_size(device)
        _random_state(streams[stream], f"rng.gen.{stream}", size)
    for name, tensor in found.group("rng").items():
        if name.startswith("gen."):
            if name[4:] not in GENERATOR_STREAMS:
                raise _Problem(f"unknown random state 'rng.{name}'")
        elif name == "torch_cpu":
            _random_state(tensor, "rng.torch_cpu", cpu)
        elif re.fullmatch(r"cuda\.\d{1,3}", name):
            _random_state(tensor, f"rng.{name}", None)  # recorded, never loaded
        else:
            raise _Problem(f"unknown random state 'rng.{name}'")


# -- the optimizer and the loss scale --------------------------------------------------------

#: per-parameter state keys of the optimizers the trainer builds (by class name)
_STATE_KEYS = {"Adam": {"step", "exp_avg", "exp_avg_sq"}, "SGD": {"momentum_buffer"}}
#: how this process computes the step, not training state: the checkpoint's values are checked
#: (true, false or null) and then replaced by this optimizer's own (see state.restore)
IMPLEMENTATION_FLAGS = ("foreach", "fused", "capturable", "differentiable")
#: hyperparameters with a range: (low, high, open_low, open_high)
_RANGES = {"lr": (0, math.inf, False, True), "eps": (0, math.inf, True, True),
           "weight_decay": (0, math.inf, False, True), "momentum": (0, 1, False, False),
           "dampening": (0, 1, False, False)}  # fmt: skip


def _group(group: Any, current: Mapping[str, Any], where: str) -> None:
    group = _mapping(group, where)
    unknown = sorted(set(group) - set(current))
    if unknown:
        raise _Problem(
            f"{where} holds unknown hyperparameter(s) {unknown} (written by another optimizer?)"
        )
    if group.get("params") != current["params"]:
        found = group.get("params")
        raise _Problem(f"{where}.params must be {current['params']}, found {found!r:.60}")
    for key, value in group.items():
        name, now = f"{where}.{key}", current[key]
        if key == "params":
            continue
        if key == "betas":
            if not isinstance(value, list | tuple) or len(value) != 2:
                raise _Problem(f"{name} must be two numbers in [0, 1), found {_shown(value)}")
            for i, beta in enumerate(value):
                _number(beta, f"{name}[{i}]", 0, 1, open_high=True)
        elif key in _RANGES:
            low, high, open_low, open_high = _RANGES[key]
            _number(value, name, low, high, open_low=open_low, open_high=open_high)
        elif key in IMPLEMENTATION_FLAGS or isinstance(now, bool) or now is None:
            _boolean(value, name, none=key in IMPLEMENTATION_FLAGS or now is None)
        elif isinstance(now, int | float):
            _number(value, name, -math.inf, math.inf)
        elif value != now:
            raise _Problem(f"{name} must be {now!r}, found {_shown(value)}")


def _optimizer(found: Checkpoint, optimizer: torch.optim.Optimizer) -> None:
    structure = _mapping(found.meta.get("optimizer"), "optimizer", {"param_groups", "state"})
    current = optimizer.state_dict()["param_groups"]
    groups = structure["param_groups"]
    if not isinstance(groups, list) or len(groups) != len(current):
        count = len(groups) if isinstance(groups, list) else _shown(groups)
        raise _Problem(f"the optimizer must have {len(current)} parameter group(s), found {count}")
    params: dict[str, Tensor] = {}  # the parameter behind each id of the state dict
    for i, (group, now, live) in enumerate(
        zip(groups, current, optimizer.param_groups, strict=True)
    ):
        _group(group, now, f"optimizer.param_groups[{i}]")
        params.update({str(pid): p for pid, p in zip(now["params"], live["params"], strict=True)})
    keys = _state_keys(optimizer, groups)
    named: set[str] = set()
    for pid, entry in _mapping(structure["state"], "optimizer.state").items():
        where = f"optimizer.state[{pid!r:.20}]"
        if pid not in params:
            raise _Problem(f"{where} names a parameter this optimizer does not have")
        entry = _mapping(entry, where)
        if entry and keys is not None and set(entry) != keys:
            odd = sorted(set(entry) ^ keys)
            raise _Problem(f"{where} must hold {sorted(keys)}; unknown or missing: {odd}")
        for key, spec in entry.items():
            spec = _mapping(spec, f"{where}[{key}]")
            tensor = spec.get("tensor") if set(spec) == {"tensor"} else None
            if tensor in found.tensors and tensor.startswith("optim.") and tensor not in named:
                named.add(tensor)
                _state_entry(key, found.tensors[tensor], params[pid], tensor, found)
            elif set(spec) == {"value"}:
                _state_entry(key, spec["value"], params[pid], f"optim.{pid}.{key}", found)
            else:
                raise _Problem(
                    f"{where}[{key}] must name one optim.* tensor of the file or hold a value, "
                    f"found {spec!r:.60}"
                )
    unused = sorted(n for n in found.tensors if n.startswith("optim.") and n not in named)
    if unused:
        raise _Problem(f"unknown tensor {unused[0]!r} (the optimizer structure does not name it)")


def _state_keys(optimizer: torch.optim.Optimizer, groups: list[Any]) -> set[str] | None:
    """The per-parameter state keys of ``optimizer`` (None for an optimizer we do not know)."""
    names = {cls.__name__ for cls in type(optimizer).__mro__}
    kind = next((k for k in _STATE_KEYS if k in names), None)
    if kind is None:
        return None
    if kind == "Adam" and any(g.get("amsgrad") for g in groups):
        return _STATE_KEYS[kind] | {"max_exp_avg_sq"}
    return _STATE_KEYS[kind]


def _state_entry(key: str, value: Any, param: Tensor, name: str, found: Checkpoint) -> None:
    """One entry of a parameter's optimizer state: ``step`` a whole number of steps taken
    (at most the global step), the others tensors like the parameter."""
    if key == "step":
        if isinstance(value, Tensor):
            if value.ndim != 0 or not value.is_floating_point():
                raise _Problem(
                    f"{name} must be a floating-point scalar tensor, found a {value.dtype} "
                    f"tensor of shape {tuple(value.shape)}"
                )
            value = value.item()
        steps = _number(value, name, 0, found.meta["global_step"])
        if steps != int(steps):
            raise _Problem(f"{name} must be a whole number of steps, found {steps}")
    elif isinstance(value, Tensor):
        _like(value, param.detach(), name)
    elif not (key == "momentum_buffer" and value is None):
        raise _Problem(
            f"{name} must be a tensor of shape {tuple(param.shape)}, found {_shown(value)}"
        )


def _scaler(state: Any, scaler: Any) -> None:
    if scaler is None or not state:  # restore loads the scale only when both are there
        return
    state = _mapping(state, "grad_scaler", _SCALER_KEYS)
    _number(state["scale"], "grad_scaler.scale", 0, math.inf, open_low=True, open_high=True)
    for key, low, high in (("growth_factor", 1, math.inf), ("backoff_factor", 0, 1)):
        _number(state[key], f"grad_scaler.{key}", low, high, open_low=True, open_high=True)
    _integer(state["growth_interval"], "grad_scaler.growth_interval", 1)
    _integer(state["_growth_tracker"], "grad_scaler._growth_tracker")
