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

``train_m2(..., consistency=c, consistency_noise=sigma, entropy_weight=b)`` (all off by
default) regularises M2's classifier: ``c * KL(q(y|z) || q(y|z + sigma * eps))`` on every row
and ``b * H(q(y|z))`` on unlabelled rows. On M1's codes (unit root-mean-square spread, so sigma
is relative to it) the consistency term is what brought M1+M2 with 100 MNIST labels from
about 15% to about 4% validation error (benchmarks/semi_supervised.py): q(y|z) must stay
constant within a ball around every code, labelled or not, so the class boundaries move into
the low-density gaps between the clusters of codes.

``sample_codes=True`` (off by default) trains M2 as Kingma et al. did: on codes
z1 ~ q(z1 | x) drawn afresh for every batch (posterior mean + std * eps, divided by the same
scale) instead of the fixed posterior means; prediction still uses the posterior means.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import Tensor

from latentkit._seeding import build_seeded
from latentkit.data.dataset import Dataset
from latentkit.evaluation.diagnostics import posterior_means
from latentkit.evaluation.evaluate import batched
from latentkit.models.base import LossOutput
from latentkit.models.semi_supervised import SemiSupervisedVAE, SemiSupervisedVAEConfig
from latentkit.models.vae import VAE, VAEConfig
from latentkit.nn import NetworkConfig
from latentkit.training.config import TrainConfig
from latentkit.training.trainer import Trainer

__all__ = [
    "M1M2",
    "code_scale",
    "hide_labels",
    "oversample_labelled",
    "posterior_moments",
    "train_m1_m2",
    "train_m2",
]


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


class _SampledInputM2(SemiSupervisedVAE):
    """M2 whose training rows are ``(2, *input_shape)`` stacks of a mean and a standard
    deviation: every call of ``loss`` trains on ``mean + std * eps`` with a fresh ``eps``."""

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (2, *self.config.input_shape)

    def loss(
        self,
        x: Tensor,
        *,
        y: Tensor | None = None,
        target: Tensor | None = None,
        step: int | None = None,
        generator: torch.Generator | None = None,
    ) -> LossOutput:
        mean, std = x[:, 0], x[:, 1]  # each (N, *input_shape of M2)
        eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return super().loss(mean + std * eps, y=y, step=step, generator=generator)


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
    x_std: Tensor | None = None,
    consistency: float = 0.0,
    consistency_noise: float = 0.5,
    entropy_weight: float = 0.0,
) -> SemiSupervisedVAE:
    """Train M2 on ``x`` with labels ``y_partial`` (-1 = unlabelled).

    Parameters
    ----------
    x : Tensor of shape (N, *input_shape)
        Training rows (with ``x_std``: the means of the distributions to sample them from).
    y_partial : Tensor of shape (N,)
        Labels, -1 for unlabelled rows.
    x_std : Tensor of shape (N, *input_shape), optional
        If given, every batch trains on ``x + x_std * eps`` with ``eps ~ N(0, I)`` drawn afresh
        (from the trainer's noise generator): the rows are samples of Gaussians rather than
        fixed points, e.g. M1's posterior q(z1 | x) in M1+M2 (Kingma et al. 2014).
    consistency, consistency_noise, entropy_weight : float
        Regularisers of the classifier q(y|x); see
        :class:`~latentkit.models.semi_supervised.SemiSupervisedVAEConfig` (0 = off).

    Returns
    -------
    SemiSupervisedVAE
        In eval mode, with ``input_shape`` ``x.shape[1:]``.
    """
    if x_std is not None and x_std.shape != x.shape:
        raise ValueError(f"x_std has shape {tuple(x_std.shape)}, x has {tuple(x.shape)}.")
    config = SemiSupervisedVAEConfig(
        input_shape=tuple(x.shape[1:]),
        latent_dim=latent_dim,
        num_classes=num_classes,
        network=network or NetworkConfig(hidden=(500,)),
        likelihood=likelihood,
        alpha=alpha,
        consistency=consistency,
        consistency_noise=consistency_noise,
        entropy_weight=entropy_weight,
    )
    sampled = x_std is not None
    train = train or TrainConfig(epochs=10, batch_size=128, progress=False)
    m2_class = _SampledInputM2 if sampled else SemiSupervisedVAE
    model = build_seeded(lambda: m2_class(config), train.seed)  # weights follow train.seed
    rows = torch.stack([x, x_std], dim=1) if x_std is not None else x  # (N, 2, ...) if sampled
    xs, ys = oversample_labelled(rows, y_partial, labelled_fraction)
    Trainer(train).fit(model, Dataset(xs, ys, "semi-supervised"))
    if sampled:  # the same weights in a plain M2, which predicts from the means
        plain = build_seeded(lambda: SemiSupervisedVAE(config), train.seed).to(model.device)
        plain.load_state_dict(model.state_dict())
        model = plain
    return model.eval()


def posterior_moments(model: VAE, x: Tensor, *, batch_size: int = 512) -> tuple[Tensor, Tensor]:
    """Mean and standard deviation of q(z | x), each ``(N, latent_dim)``, on the CPU."""

    def moments(xb: Tensor, yb: Tensor | None) -> tuple[Tensor, Tensor]:
        q = model.posterior(xb)
        return q.mean.float(), q.std.float()

    means, stds = batched(moments, x, model=model, batch_size=batch_size)
    return means, stds


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


#: M2's classifier regularisers in :func:`train_m1_m2` (see its docstring)
M1M2_REGULARISERS = {"consistency": 100.0, "consistency_noise": 0.5, "entropy_weight": 1.0}


def train_m1_m2(
    x: Tensor,
    y_partial: Tensor,
    *,
    num_classes: int,
    m1_latent_dim: int = 50,
    m1_network: NetworkConfig | None = None,
    m1_train: TrainConfig | None = None,
    sample_codes: bool = False,
    **m2_options: Any,
) -> M1M2:
    """Train M1 on all of ``x``, then M2 on its codes with a Gaussian likelihood.

    With ``sample_codes`` M2 trains on codes z1 ~ q(z1 | x) drawn afresh for every batch
    (divided by the same scale as the means) instead of the posterior means; prediction uses
    the means either way.

    M2's classifier is regularised by default (``consistency=100``, ``consistency_noise=0.5``,
    ``entropy_weight=1``; pass others, or 0 to turn them off): on codes scaled to a root mean
    square of 1 the noise is half their spread. Chosen on a validation split of MNIST's
    training images (100 labels: 14.6% error without them, 3.9% with them) and measured by
    benchmarks/semi_supervised.py, which trains its own M1 (20 epochs, batches of 100) and M2
    with these settings (test error 9.67% -> 3.59% over 5 label sets).
    """
    m1_config = VAEConfig(
        input_shape=tuple(x.shape[1:]),
        latent_dim=m1_latent_dim,
        network=m1_network or NetworkConfig(hidden=(600, 600), activation="softplus"),
    )
    m1_train = m1_train or TrainConfig(epochs=10, batch_size=128, progress=False)
    m1 = build_seeded(lambda: VAE(m1_config), m1_train.seed)
    Trainer(m1_train).fit(m1, x)
    m1.eval()
    codes, stds = posterior_moments(m1, x)  # each (N, m1_latent_dim)
    scale = code_scale(codes)
    m2_options.setdefault("network", NetworkConfig(hidden=(500,)))
    for name, value in M1M2_REGULARISERS.items():
        m2_options.setdefault(name, value)
    if sample_codes:
        m2_options["x_std"] = stds / scale
    m2 = train_m2(
        codes / scale, y_partial, num_classes=num_classes, likelihood="gaussian", **m2_options
    )
    return M1M2(m1, m2, scale)
