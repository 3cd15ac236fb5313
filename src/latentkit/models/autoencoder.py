"""Deterministic autoencoders: under- or overcomplete, sparse, contractive, denoising.

- Sparse autoencoders: an L1 penalty on the code, or the KL sparsity penalty of Ng (2011,
  "Sparse autoencoder" lecture notes) between a target activation ``rho`` and the mean
  sigmoid activation of each code unit over the batch.
- Contractive autoencoders (Rifai et al. 2011, "Contractive auto-encoders: explicit invariance
  during feature extraction"): the penalty ``||J_f(x)||_F^2`` on the encoder Jacobian. It is
  computed exactly with one vector-Jacobian product per code unit when
  ``contractive_projections == 0``, otherwise estimated without bias from that many random
  Gaussian projections (``E_v ||J^T v||^2 = ||J||_F^2``), which is cheaper for wide codes.
- Denoising autoencoders (Vincent et al. 2008) are this class trained with a corruption: the
  trainer feeds the corrupted ``x`` and passes the clean ``target``.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from latentkit.config import Config, check_positive, check_range, check_shape
from latentkit.models.base import AbstractModel, LossOutput
from latentkit.nn import NetworkConfig, build_decoder, build_encoder

__all__ = ["Autoencoder", "AutoencoderConfig"]


@dataclasses.dataclass(frozen=True)
class AutoencoderConfig(Config):
    input_shape: tuple[int, ...]  # one data point: (D,) or (C, H, W)
    latent_dim: int = 32  # code size; larger than the input makes it overcomplete
    network: NetworkConfig = NetworkConfig()  # encoder/decoder architecture
    reconstruction: Literal["bce", "mse"] = "bce"  # bce on logits (data in [0, 1]) or squared error
    output_activation: Literal["auto", "none", "sigmoid"] = "auto"  # mse only; auto: none
    sparsity: Literal["none", "l1", "kl"] = "none"  # penalty on the code
    sparsity_weight: float = 1e-3  # weight of the sparsity penalty
    sparsity_target: float = 0.05  # rho, the target mean activation for "kl" sparsity
    contractive_weight: float = 0.0  # weight of ||J_f(x)||_F^2 (0 disables it)
    contractive_projections: int = 0  # 0: exact Jacobian norm; k > 0: k random projections

    def __post_init__(self) -> None:
        name = type(self).__name__
        check_positive(name, "latent_dim", self.latent_dim)
        check_shape(name, "input_shape", self.input_shape)
        check_positive(name, "sparsity_weight", self.sparsity_weight, allow_zero=True)
        check_range(name, "sparsity_target", self.sparsity_target, 1e-6, 1 - 1e-6)
        check_positive(name, "contractive_weight", self.contractive_weight, allow_zero=True)
        check_positive(
            name, "contractive_projections", self.contractive_projections, allow_zero=True
        )


class Autoencoder(AbstractModel):
    """An encoder ``f`` and decoder ``g`` trained to reconstruct: ``x ~ g(f(x))``.

    Parameters
    ----------
    config : AutoencoderConfig
        The architecture and penalties.

    Examples
    --------
    >>> model = Autoencoder(AutoencoderConfig(input_shape=(1, 28, 28), latent_dim=30))
    >>> model.encode(torch.rand(5, 1, 28, 28)).shape
    torch.Size([5, 30])
    """

    model_type = "autoencoder"
    config_class = AutoencoderConfig

    def __init__(self, config: AutoencoderConfig) -> None:
        super().__init__(config)
        self.encoder = build_encoder(config.input_shape, config.latent_dim, config.network)
        self.decoder = build_decoder(config.latent_dim, config.input_shape, config.network)

    @property
    def data_range(self) -> tuple[float, float] | None:
        return (0.0, 1.0) if self.config.reconstruction == "bce" else None

    @property
    def loss_name(self) -> str:
        return f"{self.config.reconstruction!r} reconstruction"

    def encode(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.encoder(x)  # (N, latent_dim)

    def decode(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self._output(self.decoder(z))  # (N, *input_shape)

    def _output(self, raw: Tensor) -> Tensor:
        c = self.config
        if c.reconstruction == "bce" or c.output_activation == "sigmoid":
            return torch.sigmoid(raw)
        return raw

    def reconstruction_error(self, raw: Tensor, target: Tensor) -> Tensor:
        """Per-sample error, shape ``(N,)``: summed BCE on logits or summed squared error."""
        if self.config.reconstruction == "bce":
            err = F.binary_cross_entropy_with_logits(raw, target, reduction="none")
        else:
            err = (self._output(raw) - target).square()
        return err.flatten(1).sum(1)

    def loss(
        self,
        x: Tensor,
        *,
        y: Tensor | None = None,
        target: Tensor | None = None,
        step: int | None = None,
        generator: torch.Generator | None = None,
    ) -> LossOutput:
        c = self.config
        target = x if target is None else target
        if c.contractive_weight > 0:
            x = x.detach().requires_grad_(True)
        code = self.encoder(x)  # (N, latent_dim)
        reconstruction = self.reconstruction_error(self.decoder(code), target)  # (N,)
        total = reconstruction
        terms: dict[str, Tensor] = {}
        if c.sparsity != "none":
            terms["sparsity"] = self._sparsity(code)
            total = total + c.sparsity_weight * terms["sparsity"]
        if c.contractive_weight > 0:
            terms["contractive"] = self._jacobian_norm(x, code, generator)
            total = total + c.contractive_weight * terms["contractive"]
        return LossOutput(loss=total.mean(), reconstruction=reconstruction, terms=terms)

    def _sparsity(self, code: Tensor) -> Tensor:
        """Per-sample sparsity penalty, shape ``(N,)``."""
        if self.config.sparsity == "l1":
            return code.abs().sum(1)
        # KL(rho || rho_hat_j) summed over units; rho_hat is the batch-mean sigmoid activation.
        rho = self.config.sparsity_target
        rho_hat = torch.sigmoid(code).mean(0).clamp(1e-6, 1 - 1e-6)  # (latent_dim,)
        kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
        return kl.sum().expand(code.shape[0])  # a batch statistic, shared by every sample

    def _jacobian_norm(self, x: Tensor, code: Tensor, generator: torch.Generator | None) -> Tensor:
        """``||d code / d x||_F^2`` per sample, shape ``(N,)`` (exact or projected)."""
        k = self.config.contractive_projections
        if k == 0:
            directions = torch.eye(code.shape[1], device=code.device, dtype=code.dtype)
            directions = directions[:, None, :].expand(-1, code.shape[0], -1)  # (L, N, L)
            scale = 1.0
        else:
            shape = (k, *code.shape)
            directions = torch.randn(shape, generator=generator, dtype=code.dtype)
            directions = directions.to(code.device)
            scale = 1.0 / k
        total = code.new_zeros(code.shape[0])
        for v in directions:  # one vector-Jacobian product per direction: (N, *input_shape)
            (grad,) = torch.autograd.grad(code, x, grad_outputs=v, create_graph=True)
            total = total + grad.flatten(1).square().sum(1)
        return total * scale
