"""The M2 semi-supervised VAE (Kingma et al. 2014, "Semi-supervised learning with deep
generative models").

Generative model p(y) p(z) p(x | y, z) with a uniform p(y); inference q(z | x, y) and a
classifier q(y | x). For a labelled pair the bound is

    -L(x, y) = E_q(z|x,y)[log p(x|y,z)] + log p(y) - KL(q(z|x,y) || p(z)),

for an unlabelled x the label is marginalised by enumeration:

    -U(x) = sum_y q(y|x) (-L(x, y)) + H(q(y|x)),

and the classifier is also trained on the labelled rows with weight ``alpha``:
J = sum_labelled L + sum_unlabelled U + alpha * sum_labelled -log q(y|x).

Two optional regularisers of the classifier (both off by default):

- ``consistency`` (weight c, noise sigma): every row adds
  ``c * KL(q(y|x) || q(y|x + sigma * eps))``, eps ~ N(0, I), the clean prediction held fixed
  (no gradient through it), so q(y|x) is pushed to be smooth around the data (the Pi-model /
  VAT family); on M1's codes, sigma is in units of the code scale.
- ``entropy_weight`` (weight b): every unlabelled row adds ``b * H(q(y|x))`` (entropy
  minimisation, Grandvalet and Bengio 2005), which offsets the ``+H`` of the bound (b = 1
  cancels it).

Rows with label ``-1`` are unlabelled. M1+M2 is this model trained on the codes of a VAE
(``input_shape=(latent_dim,)`` and a Gaussian likelihood); see ``latentkit.apps.semisup``.
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from latentkit.config import check_positive
from latentkit.models.base import LossOutput
from latentkit.models.conditional import ConditionalVAE, ConditionalVAEConfig
from latentkit.nn import build_encoder

__all__ = ["SemiSupervisedVAE", "SemiSupervisedVAEConfig"]


@dataclasses.dataclass(frozen=True)
class SemiSupervisedVAEConfig(ConditionalVAEConfig):
    alpha: float = 50.0  # weight of the classification loss -log q(y|x) per labelled row
    consistency: float = 0.0  # weight of KL(q(y|x) || q(y|x + noise)) per row
    consistency_noise: float = 0.5  # std of the Gaussian noise added to x for it
    entropy_weight: float = 0.0  # weight of H(q(y|x)) per unlabelled row (minimised)

    def __post_init__(self) -> None:
        super().__post_init__()
        name = type(self).__name__
        check_positive(name, "alpha", self.alpha, allow_zero=True)
        check_positive(name, "consistency", self.consistency, allow_zero=True)
        check_positive(name, "consistency_noise", self.consistency_noise, allow_zero=True)
        check_positive(name, "entropy_weight", self.entropy_weight, allow_zero=True)


class SemiSupervisedVAE(ConditionalVAE):
    """M2: a conditional VAE with a classifier q(y|x), trained on labelled and unlabelled rows."""

    model_type = "semi_supervised_vae"
    config_class = SemiSupervisedVAEConfig
    capabilities = dataclasses.replace(ConditionalVAE.capabilities, classifier=True)

    def __init__(self, config: SemiSupervisedVAEConfig) -> None:
        super().__init__(config)
        self.classifier = build_encoder(config.input_shape, config.num_classes, config.network)

    def class_logits(self, x: Tensor) -> Tensor:
        """Logits of q(y|x), shape ``(N, num_classes)``."""
        return self.classifier(x)

    @torch.no_grad()
    def predict(self, x: Tensor) -> Tensor:
        """Most probable label under q(y|x), shape ``(N,)``."""
        return self.class_logits(x).argmax(dim=1)

    def _labels_or_predicted(self, x: Tensor, y: Tensor | None) -> Tensor:
        if y is None:
            return self.class_logits(x).argmax(dim=1)
        return torch.where(y < 0, self.class_logits(x).argmax(dim=1), y)

    def encode(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """Posterior mean of q(z | x, y), with y predicted by q(y|x) where not given."""
        return self.posterior(x, self._labels_or_predicted(x, y)).mean

    def reconstruct(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        y = self._labels_or_predicted(x, y)
        return self.decode(self.encode(x, y), y)

    @torch.no_grad()
    def label_bounds(
        self, x: Tensor, *, samples: int = 1, generator: torch.Generator | None = None
    ) -> Tensor:
        """The bound ``-L(x, y)`` for every label, ``(N, num_classes)``, averaged over
        ``samples`` draws of z: its argmax over y is M2's generative classifier
        (``p(y | x)`` is proportional to ``p(x, y)``, which it bounds from below)."""
        if samples < 1:
            raise ValueError(f"samples must be >= 1, got {samples}.")
        n, classes = x.shape[0], self.config.num_classes
        x_rep = x.expand(classes, *x.shape).reshape(classes * n, *x.shape[1:])
        y_rep = torch.arange(classes, device=x.device).repeat_interleave(n)
        total = torch.zeros(classes * n, device=x.device)
        for _ in range(samples):
            total -= self.labelled_bound(x_rep, y_rep, None, generator)[0]
        return (total / samples).view(classes, n).T

    def consistency_penalty(
        self, x: Tensor, log_qy: Tensor, generator: torch.Generator | None
    ) -> Tensor:
        """Per-row ``KL(q(y|x) || q(y|x + sigma * eps))``, shape ``(N,)``.

        ``x`` is ``(N, *input_shape)``, ``log_qy`` the ``(N, num_classes)`` log-probabilities
        of q(y|x), held fixed (detached); eps ~ N(0, I) is drawn from ``generator``.
        """
        eps = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        noisy = F.log_softmax(self.class_logits(x + self.config.consistency_noise * eps), dim=1)
        target = log_qy.detach()
        return (target.exp() * (target - noisy)).sum(1)

    def labelled_bound(
        self, x: Tensor, y: Tensor, step: int | None, generator: torch.Generator | None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Per-sample ``L(x, y)`` with its reconstruction and KL parts, each ``(N,)``."""
        q = self.posterior(x, y)
        z = q.rsample(generator)  # (N, latent_dim)
        reconstruction = -self.likelihood.log_prob(self.decoder_params(z, y), x)
        kl = self.kl_divergence(q, z)
        log_py = -math.log(self.config.num_classes)
        return reconstruction + self.kl_weight(step) * kl - log_py, reconstruction, kl

    def loss(
        self,
        x: Tensor,
        *,
        y: Tensor | None = None,
        target: Tensor | None = None,
        step: int | None = None,
        generator: torch.Generator | None = None,
    ) -> LossOutput:
        n, classes = x.shape[0], self.config.num_classes
        if y is None:
            y = torch.full((n,), -1, dtype=torch.long, device=x.device)
        labelled = y >= 0  # (N,)
        logits = self.class_logits(x)  # (N, classes)
        log_qy = F.log_softmax(logits, dim=1)
        # Enumerate every label for every row: rows (c, i) -> label c. Labelled rows use only
        # their own label; this keeps one batched pass through encoder and decoder.
        x_rep = x.expand(classes, *x.shape).reshape(classes * n, *x.shape[1:])
        y_rep = torch.arange(classes, device=x.device).repeat_interleave(n)
        bound, recon, kl = (
            t.view(classes, n) for t in self.labelled_bound(x_rep, y_rep, step, generator)
        )  # each (classes, N)
        qy = log_qy.exp().T  # (classes, N)
        own = y.clamp(min=0)[None]  # (1, N)
        entropy = -(log_qy.exp() * log_qy).sum(1)  # (N,)
        unlabelled_loss = (qy * bound).sum(0) - entropy
        labelled_loss = bound.gather(0, own)[0]
        classification = F.cross_entropy(logits, y.clamp(min=0), reduction="none") * labelled
        per_sample = torch.where(labelled, labelled_loss, unlabelled_loss)
        per_sample = per_sample + self.config.alpha * classification
        terms = {"classification": classification, "label_entropy": entropy}
        if self.config.entropy_weight > 0:
            per_sample = per_sample + self.config.entropy_weight * entropy * ~labelled
        if self.config.consistency > 0:
            terms["consistency"] = self.consistency_penalty(x, log_qy, generator)
            per_sample = per_sample + self.config.consistency * terms["consistency"]
        weights = torch.where(labelled[None], F.one_hot(y.clamp(min=0), classes).T.float(), qy)
        return LossOutput(
            loss=per_sample.mean(),
            reconstruction=(weights * recon).sum(0),
            kl=(weights * kl).sum(0),
            terms=terms,
        )
