"""The conditional VAE (Sohn et al. 2015, "Learning structured output representation using
deep conditional generative models"): encoder q(z | x, y) and decoder p(x | z, y) both see a
one-hot label, so ``sample(n, y=3)`` draws new examples of class 3.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import Tensor

from latentkit.config import check_positive
from latentkit.errors import ConfigError
from latentkit.models.vae import VAE, VAEConfig

__all__ = ["ConditionalVAE", "ConditionalVAEConfig", "one_hot_labels"]


@dataclasses.dataclass(frozen=True)
class ConditionalVAEConfig(VAEConfig):
    num_classes: int = 10  # labels are integers in [0, num_classes)

    def __post_init__(self) -> None:
        super().__post_init__()
        name = type(self).__name__
        check_positive(name, "num_classes", self.num_classes)
        if self.prior == "vamp":
            raise ConfigError(
                f"{name}.prior='vamp' is not supported for label-conditioned models "
                "(its pseudo-inputs carry no label); use 'normal' or 'mog'."
            )


def one_hot_labels(y: Tensor, num_classes: int, owner: str) -> Tensor:
    """One-hot float codes ``(N, num_classes)`` of integer labels, with a clear range check."""
    if y.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise TypeError(f"{owner}: labels y must be integers, got dtype {y.dtype}.")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(
            f"{owner}: labels must be in [0, {num_classes}); got values in "
            f"[{int(y.min())}, {int(y.max())}]."
        )
    return F.one_hot(y.long(), num_classes).float()


class ConditionalVAE(VAE):
    """A VAE whose encoder and decoder are conditioned on an integer label.

    Examples
    --------
    >>> cvae = ConditionalVAE(ConditionalVAEConfig(input_shape=(1, 8, 8), num_classes=10))
    >>> cvae.sample(4, y=3).shape
    torch.Size([4, 1, 8, 8])
    """

    model_type = "conditional_vae"
    config_class = ConditionalVAEConfig
    capabilities = dataclasses.replace(VAE.capabilities, conditional=True)

    @property
    def cond_dim(self) -> int:
        return self.config.num_classes

    def condition(self, y: Tensor | None, n: int, device: torch.device) -> Tensor:
        if y is None:
            raise ValueError(
                f"{type(self).__name__} needs labels y (shape (N,), integers in "
                f"[0, {self.config.num_classes})); pass y=..."
            )
        if y.shape != (n,):
            raise ValueError(f"labels y must have shape ({n},), got {tuple(y.shape)}.")
        return one_hot_labels(y.to(device), self.config.num_classes, type(self).__name__)
