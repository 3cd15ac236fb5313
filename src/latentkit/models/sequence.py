"""A VAE of token sequences (SMILES, SELFIES, proteins, text).

Bowman et al. (2016), "Generating sentences from a continuous space", and Gómez-Bombarelli et
al. (2018), "Automatic chemical design using a data-driven continuous representation of
molecules": a GRU or convolutional encoder gives a diagonal Gaussian q(z | x); an
autoregressive GRU decoder gives p(x | z) = prod_t Cat(x_t | x_<t, z), a categorical
likelihood over the tokens up to and including the end token (padding is masked out). It is
trained by teacher forcing.

An autoregressive decoder can model the data while ignoring z (posterior collapse). Two
remedies are configuration, and both are on by default (1,000 annealing steps, 0.1 free nat
per dimension: the settings benchmarks/molecules.py measures; 0 turns each off):

- KL annealing (``warmup_steps``): the KL weight rises linearly from 0 to ``beta``;
- free bits (``free_bits``, nats per latent dimension; Kingma et al. 2016, "Improved
  variational inference with inverse autoregressive flow"): the KL of a dimension, averaged
  over the batch, is charged at least ``free_bits``, so there is nothing to gain by pushing
  it below that. The reported ``kl`` is always the true per-sample KL.

Data are token ids held as float32 ``(N, L)`` (``latentkit.data.sequences``); the vocabulary
and its kind live in the config, so a saved model decodes strings on its own
(:attr:`SequenceVAE.tokenizer`). ``decode(z)`` is the greedy decoding (config ``decoding``:
``"greedy"`` or ``"beam"``), ``sample`` decodes prior draws by sampling tokens at
``temperature``.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from latentkit.config import Config, check_positive, check_shape
from latentkit.data.sequences import PAD, SPECIALS, Tokenizer
from latentkit.distributions import DiagonalGaussian, StandardNormalPrior
from latentkit.errors import ConfigError
from latentkit.models.base import AbstractGenerativeModel, Capabilities, LossOutput, repeat_samples
from latentkit.models.schedules import linear_warmup
from latentkit.nn.sequence import ConvSequenceEncoder, GRUSequenceDecoder, GRUSequenceEncoder

__all__ = ["SequenceVAE", "SequenceVAEConfig", "sequence_log_likelihood"]


@dataclasses.dataclass(frozen=True)
class SequenceVAEConfig(Config):
    input_shape: tuple[int, ...]  # (L,): ids per sequence, the end token included
    tokens: tuple[str, ...] = ("a", "b")  # the vocabulary (ids from 3; 0-2 are special)
    token_kind: Literal["smiles", "selfies", "chars"] = "chars"
    latent_dim: int = 56  # the chemical VAE's code size
    embed_dim: int = 32  # token embedding width (encoder and decoder)
    encoder: Literal["gru", "conv"] = "gru"
    encoder_hidden: int = 256  # GRU state per direction, or conv channels
    decoder_hidden: int = 384  # decoder GRU state
    decoder_layers: int = 1
    beta: float = 1.0  # final KL weight
    # against posterior collapse, the settings of benchmarks/molecules.py (0 disables each)
    warmup_steps: int = 1000  # linear KL annealing from 0 to beta over this many steps
    free_bits: float = 0.1  # nats per latent dimension (batch mean) below which KL is free
    decoding: Literal["greedy", "beam"] = "greedy"  # how decode(z) picks tokens
    beam_width: int = 5

    def __post_init__(self) -> None:
        name = type(self).__name__
        check_shape(name, "input_shape", self.input_shape)
        if len(self.input_shape) != 1 or self.input_shape[0] < 2:
            raise ConfigError(
                f"{name}.input_shape must be (L,) with L >= 2 ids per sequence, got "
                f"{self.input_shape}."
            )
        if not self.tokens:
            raise ConfigError(f"{name}.tokens must hold at least one token, got none.")
        Tokenizer(self.token_kind, tuple(self.tokens))  # distinct, no special names
        for field in ("latent_dim", "embed_dim", "encoder_hidden", "decoder_hidden"):
            check_positive(name, field, getattr(self, field))
        for field in ("decoder_layers", "beam_width"):
            check_positive(name, field, getattr(self, field))
        for field in ("beta", "warmup_steps", "free_bits"):
            check_positive(name, field, getattr(self, field), allow_zero=True)

    @property
    def vocab_size(self) -> int:
        return len(self.tokens) + len(SPECIALS)


def sequence_log_likelihood(logits: Tensor, ids: Tensor) -> Tensor:
    """``sum_t log Cat(ids_t | logits_t)`` over the non-padding positions: shape ``(N,)``.

    Parameters
    ----------
    logits : Tensor of shape (N, L, V)
    ids : Tensor of shape (N, L), int64; padding (0) positions are not scored.
    """
    nll = F.cross_entropy(logits.transpose(1, 2), ids, reduction="none")  # (N, L)
    return -(nll * (ids != PAD)).sum(1)


class SequenceVAE(AbstractGenerativeModel):
    """VAE over token sequences: Gaussian code, autoregressive GRU decoder."""

    model_type = "sequence_vae"
    config_class = SequenceVAEConfig
    capabilities: ClassVar[Capabilities] = Capabilities(
        generative=True, likelihood_bound=True, gaussian_posterior=True, sequence=True
    )

    def __init__(self, config: SequenceVAEConfig) -> None:
        super().__init__(config)
        c, v = config, config.vocab_size
        encoder = GRUSequenceEncoder if c.encoder == "gru" else ConvSequenceEncoder
        self.encoder = encoder(v, c.embed_dim, c.encoder_hidden, 2 * c.latent_dim)
        self.decoder = GRUSequenceDecoder(
            v, c.embed_dim, c.decoder_hidden, c.latent_dim, c.decoder_layers
        )
        self.prior = StandardNormalPrior(c.latent_dim)  # p(z) = N(0, I); no parameters

    # -- facts ----------------------------------------------------------------------------
    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer of the training data (strings to ids and back)."""
        return Tokenizer(self.config.token_kind, tuple(self.config.tokens))

    @property
    def data_range(self) -> tuple[float, float] | None:
        return (0.0, float(self.config.vocab_size - 1))

    @property
    def loss_name(self) -> str:
        return "categorical likelihood"

    def _ids(self, x: Tensor) -> Tensor:
        ids = x.round().to(torch.int64)  # (N, L)
        if ids.shape[1:] != tuple(self.input_shape):
            raise ValueError(
                f"expected token ids of shape (N, {self.input_shape[0]}), got {tuple(x.shape)}."
            )
        ids = ids.clamp(0, self.config.vocab_size - 1)
        # trailing columns of padding in every row change nothing (masked in the likelihood,
        # skipped by the packed GRU, zero embeddings for the convolutions): cut them
        used = (ids != PAD).any(0).nonzero()
        return ids[:, : int(used.max()) + 1] if len(used) else ids[:, :1]

    # -- the contract ---------------------------------------------------------------------
    def posterior(self, x: Tensor, y: Tensor | None = None) -> DiagonalGaussian:
        mean, log_var = self.encoder(self._ids(x)).chunk(2, dim=-1)  # (N, D) each
        return DiagonalGaussian(mean, log_var)

    def encode(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.posterior(x).mean

    def decode(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """Ids ``(N, L)`` (float32) decoded greedily or by beam search (``config.decoding``)."""
        c = self.config
        if c.decoding == "beam":
            return self.decoder.beam(z, c.input_shape[0], c.beam_width).float()
        return self.decoder.generate(z, c.input_shape[0]).float()

    def sample(
        self,
        n: int,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
        y: Tensor | int | None = None,
    ) -> Tensor:
        """Ids ``(n, L)`` (float32): codes from N(0, I), tokens drawn at ``temperature``
        (0: greedy)."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}.")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}.")
        z = self.prior.sample(n, generator)  # (n, D), on the model's device
        return self.decoder.generate(
            z, self.input_shape[0], temperature=temperature, generator=generator
        ).float()

    def log_likelihood(self, z: Tensor, x: Tensor) -> Tensor:
        """``log p(x | z)`` for codes ``(N, D)`` and ids ``(N, L)``: shape ``(N,)``."""
        ids = self._ids(x)
        return sequence_log_likelihood(self.decoder(z, ids), ids)

    def log_importance_weights(
        self,
        x: Tensor,
        k: int,
        *,
        y: Tensor | None = None,
        target: Tensor | None = None,
        generator: torch.Generator | None = None,
        kl_weight: float = 1.0,
    ) -> Tensor:
        target = x if target is None else target
        q = self.posterior(x)
        z = q.sample(generator, sample_shape=(k,))  # (k, N, D)
        n = x.shape[0]
        log_px = self.log_likelihood(z.reshape(k * n, -1), repeat_samples(target, k)).view(k, n)
        return log_px + kl_weight * (self.prior.log_prob(z) - q.log_prob(z))

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
        q = self.posterior(x)
        z = q.rsample(generator)  # (N, D)
        reconstruction = -self.log_likelihood(z, x if target is None else target)  # (N,)
        per_dim = q.kl_per_dim()  # (N, D)
        kl = per_dim.sum(-1)  # (N,)
        charged = kl
        if c.free_bits > 0:  # a dimension whose batch-mean KL is below free_bits costs that
            below = per_dim.mean(0) < c.free_bits  # (D,)
            charged = torch.where(below, per_dim.new_tensor(c.free_bits), per_dim).sum(-1)
        weight = linear_warmup(step, c.warmup_steps, final=c.beta)
        return LossOutput(
            loss=(reconstruction + weight * charged).mean(), reconstruction=reconstruction, kl=kl
        )
