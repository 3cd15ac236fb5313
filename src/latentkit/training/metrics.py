"""Epoch metrics without per-step host syncs.

Each step appends the (detached) scalar loss and per-sample terms of its
:class:`~latentkit.models.base.LossOutput` to lists: no kernel runs and nothing is read back.
At the end of the epoch the lists are concatenated and summed on the device, all-reduced
across ranks, and read back in one transfer, with the number of samples they cover. The NaN
guard truncates the lists to roll back. Memory: one float per sample and term, kept for one
epoch.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from latentkit.models.base import LossOutput
from latentkit.training.distributed import DistInfo, all_reduce

__all__ = ["EpochMetrics"]


class EpochMetrics:
    """Loss and per-sample terms of one epoch, reduced to means per sample at the end."""

    def __init__(self) -> None:
        self.losses: list[Tensor] = []  # scalar batch means
        self.sizes: list[int] = []  # batch sizes
        self.terms: dict[str, list[Tensor]] = {}  # name -> [(n,) per batch]

    def add(self, out: LossOutput, n: int) -> None:
        """Record one batch of ``n`` samples (no device work)."""
        self.losses.append(out.loss.detach())
        self.sizes.append(n)
        for name, value in out.per_sample().items():
            self.terms.setdefault(name, []).append(value.detach())

    def __len__(self) -> int:
        return len(self.losses)

    def truncate(self, length: int) -> None:
        """Forget the batches after the first ``length`` (roll-back)."""
        del self.losses[length:], self.sizes[length:]
        for values in self.terms.values():
            del values[length:]

    @property
    def count(self) -> int:
        """Samples recorded on this rank."""
        return sum(self.sizes)

    def means(
        self, prefix: str, info: DistInfo, device: torch.device
    ) -> tuple[dict[str, float | None], int]:
        """``{prefix_loss, prefix_<term>: mean per sample}`` over all ranks, and the number of
        samples they cover (one sync).

        The sample-weighted mean of the batch losses is ``prefix_loss``; a value is None when
        no sample was recorded or the mean is not finite.
        """
        names = sorted(self.terms)
        keys = [
            f"{prefix}_loss",
            *(f"{prefix}_{n}" for n in ["reconstruction", "kl"] if n in names),
        ]
        keys += [f"{prefix}_{n}" for n in names if n not in ("reconstruction", "kl")]
        order = [k[len(prefix) + 1 :] for k in keys[1:]]
        dtype = torch.float32 if device.type == "mps" else torch.float64  # mps has no float64
        sums = torch.zeros(len(keys) + 1, dtype=dtype, device=device)
        if self.losses:
            sizes = torch.tensor(self.sizes, dtype=torch.float32, device=device)
            sums[0] = (torch.stack(self.losses).float() * sizes).sum()
            for i, name in enumerate(order, start=1):
                sums[i] = torch.cat(self.terms[name]).float().sum()
        sums[-1] = self.count
        totals = all_reduce(sums, info).tolist()  # the one sync
        count = totals[-1]
        out: dict[str, float | None] = {}
        for key, total in zip(keys, totals[:-1], strict=True):
            mean = total / count if count else math.nan
            out[key] = mean if math.isfinite(mean) else None
        return out, round(count)
