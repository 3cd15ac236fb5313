"""The one place that seeds torch's global random generator.

Models draw their initial weights from torch's global CPU generator (``nn.Linear``,
``nn.Conv2d`` and friends take no ``generator=``). Library code that wants weights to follow a
seed builds the model inside :func:`seeded` (or calls :func:`build_seeded`): the global
generator is forked, seeded, used for the build, and restored afterwards, so the weights
depend on the seed alone and the caller's random stream is left as it was. Every other random
draw in latentkit takes an explicit ``torch.Generator``.

No other library module calls ``torch.manual_seed`` (a test checks this); this module sits
below every layer, so ``models/`` and ``training/`` may both import it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TypeVar

import torch

__all__ = ["build_seeded", "seeded"]

T = TypeVar("T")


@contextlib.contextmanager
def seeded(seed: int, device: torch.device | str | None = None) -> Iterator[None]:
    """Run the block with torch's global CPU generator seeded to ``seed``, then restore it.

    Models draw their initial weights from the global generator; building a model inside
    ``with seeded(config.seed):`` makes its weights follow the training seed alone, whatever
    ran before, and leaves the caller's random stream untouched. Only the CPU generator is
    forked, unless ``device`` is a CUDA device: its default generator is then forked and seeded
    too (the trainer runs each epoch like this, so that dropout masks drawn on the GPU follow
    the seed). Other CUDA devices, and MPS, are left alone: build models on the CPU and move
    them afterwards.

    Parameters
    ----------
    seed : int
        Seed of the CPU generator (and of the CUDA generator of ``device``).
    device : torch.device or str, optional
        The device the block draws on; only a CUDA device changes anything.
    """
    index = _cuda_index(device)
    devices = [] if index is None else [index]
    with torch.random.fork_rng(devices=devices):
        # the CPU generator only (the draws of torch.manual_seed(seed) on the CPU): that seeds
        # every CUDA and MPS generator as well, or queues the seeding until CUDA starts, and
        # fork_rng restores only the devices it forked
        torch.default_generator.manual_seed(seed)
        if index is not None:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


def _cuda_index(device: torch.device | str | None) -> int | None:
    """The CUDA device index of ``device`` (the current device for a bare "cuda"), else None."""
    if device is None:
        return None
    device = torch.device(device)
    if device.type != "cuda":
        return None
    return torch.cuda.current_device() if device.index is None else device.index


def build_seeded(factory: Callable[[], T], seed: int | None) -> T:
    """``factory()`` called inside :func:`seeded` ``(seed)``: a model whose weights follow ``seed``.

    Parameters
    ----------
    factory : callable
        Builds the object (typically a model) with no arguments, e.g.
        ``lambda: VAE(config)``.
    seed : int or None
        Seed of the initial weights; ``None`` builds from the global stream as it stands
        (and advances it), like calling ``factory()`` directly.

    Returns
    -------
    object
        What ``factory`` returned.
    """
    if seed is None:
        return factory()
    with seeded(seed):
        return factory()
