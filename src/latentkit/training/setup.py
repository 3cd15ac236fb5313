"""Setting up a run: the device, the optimizer and the data tensors.

Adam, AdamW and SGD use PyTorch's fused kernels on CUDA and on the CPU: one pass over each
parameter for the whole update. On CUDA that is one launch for all parameters, and with a
GradScaler no host sync (the scaler hands its inf flag to the kernel); on the CPU it is about
7x faster than the ``foreach`` path for Adam (1.6 ms against 10.8 ms per step for the 1.1M
parameters of the benchmark VAE, one thread), which itself beats the default per-parameter
loop. Elsewhere (mps), or where a build lacks the fused kernel, the ``foreach`` path is used.
"""

from __future__ import annotations

import logging

import torch
from torch import Tensor

from latentkit._seeding import seeded  # re-exported: one seeding helper for every layer
from latentkit.data.dataset import Dataset
from latentkit.errors import ConfigError, DataError
from latentkit.training.config import TrainConfig
from latentkit.training.distributed import DistInfo

__all__ = ["as_tensors", "build_optimizer", "resolve_device", "seeded"]

logger = logging.getLogger(__name__)


def resolve_device(name: str, info: DistInfo | None = None) -> torch.device:
    """The torch device for ``TrainConfig.device``: ``"auto"`` picks cuda, mps, then cpu;
    under DDP on CUDA each process takes ``cuda:LOCAL_RANK``.

    Raises
    ------
    ConfigError
        If the requested device is not available (or is mps under DDP).
    """
    info = info or DistInfo()
    mps = getattr(torch.backends, "mps", None)
    has_mps = mps is not None and mps.is_available()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(
                "TrainConfig.device is 'cuda' but no CUDA device is available; use 'auto' or 'cpu'."
            )
        index = info.local_rank if info.enabled else torch.cuda.current_device()
        return torch.device("cuda", index)
    if name == "mps":
        if not has_mps:
            raise ConfigError("TrainConfig.device is 'mps' but MPS is not available; use 'auto'.")
        if info.enabled:
            raise ConfigError("distributed training on 'mps' is not supported; use cpu or cuda.")
        return torch.device("mps")
    return torch.device("cpu")


def build_optimizer(
    config: TrainConfig, params: list[Tensor], device: torch.device
) -> torch.optim.Optimizer:
    """The optimizer named by ``config.optimizer`` over ``params``."""
    if config.optimizer == "sgd":
        cls: type[torch.optim.Optimizer] = torch.optim.SGD
        kwargs = {"momentum": config.momentum}
    else:
        cls = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
        kwargs = {}
    kwargs.update(lr=config.lr, weight_decay=config.weight_decay)
    if device.type in ("cuda", "cpu"):
        try:
            return cls(params, fused=True, **kwargs)
        except (RuntimeError, TypeError, ValueError) as exc:  # no fused kernel in this build
            logger.info("fused %s unavailable (%s); using foreach", config.optimizer, exc)
    return cls(params, foreach=True, **kwargs)


def as_tensors(data: Dataset | Tensor, what: str) -> tuple[Tensor, Tensor | None]:
    """``(x, y)`` of a Dataset, or ``(x, None)`` of a float tensor of shape ``(N, ...)``."""
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
