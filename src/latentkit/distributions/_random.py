"""Noise drawn from an explicit ``torch.Generator`` on the right device and dtype.

A CPU generator cannot fill a CUDA tensor (and vice versa), so when the generator lives on
another device we draw there and move the result: the same seed gives the same numbers
wherever the model runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

__all__ = ["randn", "uniform"]


def _same_device(a: torch.device, b: torch.device) -> bool:
    if a.type != b.type:
        return False
    if a.type == "cpu":
        return True
    current = torch.cuda.current_device() if a.type == "cuda" else 0
    return (a.index if a.index is not None else current) == (
        b.index if b.index is not None else current
    )


def _draw(
    fn: Callable[..., Tensor],
    shape: Sequence[int],
    generator: torch.Generator | None,
    device: torch.device | str,
    dtype: torch.dtype,
) -> Tensor:
    device = torch.device(device)
    if generator is None or _same_device(generator.device, device):
        return fn(tuple(shape), generator=generator, device=device, dtype=dtype)
    out = fn(tuple(shape), generator=generator, device=generator.device, dtype=torch.float32)
    return out.to(device=device, dtype=dtype)


def randn(
    shape: Sequence[int],
    generator: torch.Generator | None,
    device: torch.device | str,
    dtype: torch.dtype,
) -> Tensor:
    """Standard normal noise of ``shape`` on ``device`` with ``dtype``."""
    return _draw(torch.randn, shape, generator, device, dtype)


def uniform(
    shape: Sequence[int],
    generator: torch.Generator | None,
    device: torch.device | str,
    dtype: torch.dtype,
) -> Tensor:
    """Uniform noise on [0, 1) of ``shape`` on ``device`` with ``dtype``."""
    return _draw(torch.rand, shape, generator, device, dtype)
