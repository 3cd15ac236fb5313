"""FactorVAE (Kim and Mnih 2018, "Disentangling by factorising"): a VAE whose loss adds
``gamma`` times the total correlation of q(z), estimated by a discriminator.

The discriminator D tells codes ``z ~ q(z)`` (one posterior draw per point of a batch) from
codes whose every dimension has been permuted independently across the batch (draws from
``prod_d q(z_d)``). With two logits, ``TC(z) ~ log D(z) / (1 - D(z)) = logit_0 - logit_1``
(the density-ratio trick), so the VAE minimises

    loss = recon + beta * KL + gamma * mean(logit_0(z) - logit_1(z)),

and D, a separate network, minimises its cross-entropy on real (class 0) and permuted
(class 1) codes with its own Adam optimiser (lr ``discriminator_lr``, betas (0.5, 0.9) as in
the paper). ``loss`` reads D with its parameters held fixed (no gradient reaches them), and
``auxiliary_loss`` trains D on codes drawn without gradient: each objective moves only its own
network, as in the paper's two updates. The model declares ``capabilities.auxiliary_step``:
the trainer leaves the discriminator's parameters out of the main optimiser and, after each
step of ``loss``, takes one step of :meth:`FactorVAE.auxiliary_loss` (the permuted codes come
from the same batch, re-encoded with fresh noise; the paper draws a second batch). The
paper's D has 6 layers of 1000 units (LeakyReLU 0.2); the default here is 3 hidden layers of
512, to fit CPUs (``discriminator_hidden``).
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from latentkit.config import check_positive
from latentkit.errors import ConfigError
from latentkit.models.base import LossOutput
from latentkit.models.vae import VAE, VAEConfig

__all__ = ["FactorVAE", "FactorVAEConfig", "permute_dims"]


@dataclasses.dataclass(frozen=True)
class FactorVAEConfig(VAEConfig):
    gamma: float = 10.0  # weight of the discriminator's total correlation estimate
    discriminator_hidden: tuple[int, ...] = (512, 512, 512)  # widths of D's hidden layers
    discriminator_lr: float = 1e-4  # Adam learning rate of D (betas 0.5, 0.9)

    def __post_init__(self) -> None:
        super().__post_init__()
        name = type(self).__name__
        check_positive(name, "gamma", self.gamma, allow_zero=True)
        check_positive(name, "discriminator_lr", self.discriminator_lr)
        if not self.discriminator_hidden:
            raise ConfigError(f"{name}.discriminator_hidden: expected at least one width.")
        for width in self.discriminator_hidden:
            check_positive(name, "discriminator_hidden", width)
        if self.objective == "iwae" or self.tc_weight is not None:
            raise ConfigError(
                f"{name}: the discriminator's TC penalty goes with the ELBO objective alone; "
                "unset objective='iwae' and tc_weight."
            )


def permute_dims(z: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Each column of ``z`` (M, D) shuffled independently across the batch: a draw from
    ``prod_d q(z_d)`` when the rows are draws from ``q(z)``."""
    noise = torch.rand(z.shape, generator=generator, device=z.device)  # (M, D)
    return torch.gather(z, 0, noise.argsort(dim=0))


class FactorVAE(VAE):
    """A VAE with a discriminator-estimated total correlation penalty (see the module).

    Examples
    --------
    >>> model = FactorVAE(FactorVAEConfig(input_shape=(1, 8, 8), latent_dim=4, gamma=10))
    >>> model.loss(torch.rand(5, 1, 8, 8)).terms["total_correlation"].shape
    torch.Size([5])
    """

    model_type = "factor_vae"
    config_class = FactorVAEConfig
    capabilities = dataclasses.replace(VAE.capabilities, auxiliary_step=True)

    def __init__(self, config: FactorVAEConfig) -> None:
        super().__init__(config)
        layers: list[nn.Module] = []
        width = config.latent_dim
        for hidden in config.discriminator_hidden:
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        self.discriminator = nn.Sequential(*layers, nn.Linear(width, 2))  # (M, D) -> (M, 2)

    def loss(
        self,
        x: Tensor,
        *,
        y: Tensor | None = None,
        target: Tensor | None = None,
        step: int | None = None,
        generator: torch.Generator | None = None,
    ) -> LossOutput:
        target = x if target is None else target
        q = self.posterior(x, y)
        z = q.rsample(generator)  # (N, latent_dim)
        reconstruction = -self.likelihood.log_prob(self.decoder_params(z, y), target)  # (N,)
        kl = self.kl_divergence(q, z)  # (N,)
        logits = self._frozen_discriminator(z)  # (N, 2)
        tc = logits[:, 0] - logits[:, 1]  # (N,) density-ratio estimate of the TC
        loss = reconstruction.mean() + self._kl_penalty(q, kl, step)
        loss = loss + self.config.gamma * tc.mean()
        return LossOutput(loss, reconstruction, kl, {"total_correlation": tc.detach()})

    def _frozen_discriminator(self, z: Tensor) -> Tensor:
        """D's logits with its parameters held fixed: gradients reach ``z`` only, so ``loss``
        trains the VAE and never the discriminator (which :meth:`auxiliary_loss` trains)."""
        fixed = {name: p.detach() for name, p in self.discriminator.named_parameters()}
        return torch.func.functional_call(self.discriminator, fixed, (z,))

    # -- the auxiliary step (capabilities.auxiliary_step) -----------------------------------
    def auxiliary_parameters(self) -> list[nn.Parameter]:
        """The discriminator's parameters: the trainer's main optimiser leaves them out."""
        return list(self.discriminator.parameters())

    def auxiliary_optimizer(self) -> torch.optim.Optimizer:
        """Adam over the discriminator (lr ``discriminator_lr``, betas (0.5, 0.9))."""
        return torch.optim.Adam(
            self.auxiliary_parameters(), lr=self.config.discriminator_lr, betas=(0.5, 0.9)
        )

    def auxiliary_loss(
        self, x: Tensor, *, y: Tensor | None = None, generator: torch.Generator | None = None
    ) -> Tensor:
        """The discriminator's cross-entropy on the batch's codes (class 0) and on the same
        codes permuted dimension by dimension (class 1): a scalar; the encoder gets no
        gradient from it."""
        with torch.no_grad():
            z = self.posterior(x, y).rsample(generator)  # (N, latent_dim)
            shuffled = permute_dims(z, generator)
        logits = self.discriminator(torch.cat([z, shuffled]))  # (2N, 2)
        labels = torch.cat([torch.zeros(len(z)), torch.ones(len(z))]).long().to(z.device)
        return F.cross_entropy(logits, labels)
