"""Semi-supervised classification with few labels (Kingma et al. 2014).

- M2: a :class:`~latentkit.models.semi_supervised.SemiSupervisedVAE` trained on all images,
  of which only ``k`` per class keep their label.
- M1+M2: a VAE (M1) is trained on all images without labels; M2 is trained on its codes
  (posterior means) with a Gaussian likelihood. Classification uses M2's q(y | z).
  The codes are divided by ONE number, their root-mean-square spread (the square root of the
  mean over units of the variance of the posterior mean), not standardised unit by unit: a
  VAE with 50 latent units on MNIST leaves many units collapsed onto the prior, whose
  posterior means are nearly constant noise, and per-unit standardisation would blow that
  noise up to the scale of the informative units (on a validation split of the MNIST
  training set it doubled M1+M2's error with 100 labels; see benchmarks/semi_supervised.py).
With few labels a random batch rarely holds one, so the labelled rows are repeated until they
make up ``labelled_fraction`` of the training set (each epoch still sees every unlabelled row).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import Tensor

from latentkit.data.dataset import Dataset
from latentkit.evaluation.diagnostics import posterior_means
from latentkit.models.semi_supervised import SemiSupervisedVAE, SemiSupervisedVAEConfig
from latentkit.models.vae import VAE, VAEConfig
from latentkit.nn import NetworkConfig
from latentkit.training.config import TrainConfig
from latentkit.training.trainer import Trainer

__all__ = ["M1M2", "code_scale", "hide_labels", "oversample_labelled", "train_m1_m2", "train_m2"]


def hide_labels(y: Tensor, per_class: int, *, seed: int = 0) -> Tensor:
    """Keep ``per_class`` seeded labels of each class and set the rest to -1."""
    g = torch.Generator().manual_seed(seed)
    out = torch.full_like(y, -1)
    for c in torch.unique(y).tolist():
        rows = torch.nonzero(y == c).flatten()
        if len(rows) < per_class:
            raise ValueError(f"class {c} has {len(rows)} rows, fewer than per_class={per_class}.")
        keep = rows[torch.randperm(len(rows), generator=g)[:per_class]]
        out[keep] = c
    return out


def oversample_labelled(x: Tensor, y: Tensor, fraction: float = 0.1) -> tuple[Tensor, Tensor]:
    """Append copies of the labelled rows (y >= 0) until they are ``fraction`` of the rows."""
    labelled = torch.nonzero(y >= 0).flatten()
    if len(labelled) == 0:
        raise ValueError("no labelled rows (all labels are -1).")
    n_unlabelled = int((y < 0).sum())
    target = int(fraction * n_unlabelled / (1 - fraction))
    repeats = max(1, -(-target // len(labelled)))
    idx = torch.cat([torch.arange(len(y)), labelled.repeat(repeats - 1)])
    return x[idx].contiguous(), y[idx].contiguous()


def train_m2(
    x: Tensor,
    y_partial: Tensor,
    *,
    num_classes: int,
    latent_dim: int = 32,
    network: NetworkConfig | None = None,
    likelihood: str = "bernoulli",
    alpha: float = 50.0,
    labelled_fraction: float = 0.1,
    train: TrainConfig | None = None,
) -> SemiSupervisedVAE:
    """Train M2 on ``x`` with labels ``y_partial`` (-1 = unlabelled)."""
    config = SemiSupervisedVAEConfig(
        input_shape=tuple(x.shape[1:]),
        latent_dim=latent_dim,
        num_classes=num_classes,
        network=network or NetworkConfig(hidden=(500,)),
        likelihood=likelihood,
        alpha=alpha,
    )
    model = SemiSupervisedVAE(config)
    xs, ys = oversample_labelled(x, y_partial, labelled_fraction)
    Trainer(train or TrainConfig(epochs=10, batch_size=128, progress=False)).fit(
        model, Dataset(xs, ys, "semi-supervised")
    )
    return model.eval()


def code_scale(codes: Tensor) -> Tensor:
    """One scale for all code units: ``sqrt(mean over units of the variance over rows)``.

    Parameters
    ----------
    codes : Tensor of shape (N, latent_dim)
        Posterior means of the training data.

    Returns
    -------
    Tensor of shape ()
        Dividing the codes by it gives unit variance on average over the units, while units
        collapsed onto the prior stay near zero instead of being amplified.
    """
    if codes.ndim != 2 or len(codes) < 2:
        raise ValueError(f"expected codes of shape (N >= 2, latent_dim), got {tuple(codes.shape)}.")
    return codes.var(dim=0).mean().sqrt().clamp_min(1e-6)


@dataclasses.dataclass
class M1M2:
    """M1 (a VAE giving features) stacked with M2 (classifier on those features)."""

    m1: VAE
    m2: SemiSupervisedVAE
    scale: Tensor  # () root-mean-square spread of M1's training codes (see code_scale)

    def features(self, x: Tensor) -> Tensor:
        """Scaled M1 codes ``(N, latent_dim)``: the input of M2."""
        return posterior_means(self.m1, x) / self.scale

    @torch.inference_mode()
    def predict(self, x: Tensor) -> Tensor:
        """Predicted labels ``(N,)``."""
        return self.m2.predict(self.features(x).to(self.m2.device)).cpu()


def train_m1_m2(
    x: Tensor,
    y_partial: Tensor,
    *,
    num_classes: int,
    m1_latent_dim: int = 50,
    m1_network: NetworkConfig | None = None,
    m1_train: TrainConfig | None = None,
    **m2_options: Any,
) -> M1M2:
    """Train M1 on all of ``x``, then M2 on its codes with a Gaussian likelihood."""
    m1 = VAE(
        VAEConfig(
            input_shape=tuple(x.shape[1:]),
            latent_dim=m1_latent_dim,
            network=m1_network or NetworkConfig(hidden=(600, 600), activation="softplus"),
        )
    )
    Trainer(m1_train or TrainConfig(epochs=10, batch_size=128, progress=False)).fit(m1, x)
    m1.eval()
    codes = posterior_means(m1, x)  # (N, m1_latent_dim)
    scale = code_scale(codes)
    m2_options.setdefault("network", NetworkConfig(hidden=(500,)))
    m2 = train_m2(
        codes / scale, y_partial, num_classes=num_classes, likelihood="gaussian", **m2_options
    )
    return M1M2(m1, m2, scale)
