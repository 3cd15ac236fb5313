"""Mixed precision for the training loop: the autocast dtype, the GradScaler, and the
backward / clip / optimizer-step sequence that depends on them.

``TrainConfig.amp`` chooses float32 (``"none"``), bfloat16 or float16 autocast. Autocast runs
on CUDA, and on the CPU too, where it mostly lets the mixed-precision path be tested (it pays
off only on CPUs with bf16 units: AMX, AVX512-BF16; elsewhere it is slower than float32, and
the trainer warns). Other devices (mps) train in float32 with a warning. The weights stay
float32 in every mode; float16 adds a :class:`torch.amp.GradScaler`, which scales the loss
before ``backward`` and skips the steps whose gradients overflowed. Its state is part of the
checkpoint (:mod:`.state`) and of the NaN guard's snapshot (:mod:`.guard`), through
:attr:`Precision.scaler`.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import torch
from torch import Tensor

__all__ = ["Precision"]

logger = logging.getLogger(__name__)

# devices with torch.autocast and GradScaler support
_AMP_DEVICES = ("cuda", "cpu")
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class Precision:
    """The numeric precision of one run on ``device``.

    Parameters
    ----------
    amp : {"none", "bf16", "fp16"}
        ``TrainConfig.amp``.
    device : torch.device
        The training device; amp is dropped (with a warning) where autocast is unsupported.

    Attributes
    ----------
    dtype : torch.dtype or None
        The autocast dtype; None trains in float32.
    scaler : torch.amp.GradScaler or None
        The loss scaler of float16 training; None otherwise.
    """

    def __init__(self, amp: str, device: torch.device) -> None:
        if amp != "none" and device.type not in _AMP_DEVICES:
            logger.warning("amp=%r runs on cuda or cpu; training in float32 on %s.", amp, device)
            amp = "none"
        elif amp != "none" and device.type == "cpu":
            logger.warning(
                "amp=%r on the CPU: autocast is slower than float32 unless the CPU has bf16 "
                "units (AMX, AVX512-BF16); set amp='none' for CPU runs.",
                amp,
            )
        self.device_type = device.type
        self.dtype: torch.dtype | None = _DTYPES.get(amp)
        self.scaler: Any = torch.amp.GradScaler(device.type) if amp == "fp16" else None

    def autocast(self) -> contextlib.AbstractContextManager:
        """The context to run the forward pass (the loss) in."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)

    def backward_and_step(
        self,
        loss: Tensor,
        optimizer: torch.optim.Optimizer,
        params: list[Tensor],
        grad_clip: float | None,
    ) -> None:
        """Backward, optional clipping of the global gradient norm, optimizer step, and
        ``zero_grad(set_to_none=True)``; no host sync."""
        scaler = self.scaler
        if scaler is not None:
            scaler.scale(loss).backward()
        else:
            loss.backward()
        if grad_clip is not None:
            if scaler is not None:  # clip the true gradients (else the fused step unscales)
                scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(params, grad_clip, foreach=True)
        if scaler is not None:  # skips steps whose gradients overflowed
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
