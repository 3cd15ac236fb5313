"""Encoders and an autoregressive decoder for sequences of token ids.

- :class:`GRUSequenceEncoder`: embedding, a bidirectional GRU over the non-padded tokens,
  the two final states to ``out_features`` (Bowman et al. 2016, "Generating sentences from a
  continuous space").
- :class:`ConvSequenceEncoder`: embedding, three 1-D convolutions, a masked mean over the
  positions, a dense layer (the SMILES encoder of Gómez-Bombarelli et al. 2018, "Automatic
  chemical design using a data-driven continuous representation of molecules", pooled so that
  any length works).
- :class:`GRUSequenceDecoder`: a GRU whose first state and every input carry the code ``z``;
  teacher forcing in :meth:`~GRUSequenceDecoder.forward`, and greedy, sampled and beam
  decoding token by token.

Ids follow :mod:`latentkit.data.sequences`: 0 pads, 1 begins, 2 ends a sequence.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from latentkit.data.sequences import BOS, EOS, PAD

__all__ = ["ConvSequenceEncoder", "GRUSequenceDecoder", "GRUSequenceEncoder"]


class GRUSequenceEncoder(nn.Module):
    """Ids ``(N, L)`` to features ``(N, out_features)`` through a bidirectional GRU."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden: int, out_features: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.gru = nn.GRU(embed_dim, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, out_features)

    def forward(self, ids: Tensor) -> Tensor:
        sizes = (ids != PAD).sum(1).clamp(min=1).cpu()  # (N,)
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embed(ids), sizes, batch_first=True, enforce_sorted=False
        )
        _, h = self.gru(packed)  # (2, N, H): the last state of each direction
        return self.out(torch.cat([h[0], h[1]], dim=-1))  # (N, out_features)


class ConvSequenceEncoder(nn.Module):
    """Ids ``(N, L)`` to features ``(N, out_features)`` through 1-D convolutions."""

    def __init__(
        self, vocab_size: int, embed_dim: int, hidden: int, out_features: int, kernel: int = 5
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        pad = kernel // 2
        self.convs = nn.Sequential(
            nn.Conv1d(embed_dim, hidden, kernel, padding=pad),
            nn.ReLU(),
            nn.Conv1d(hidden, hidden, kernel, padding=pad),
            nn.ReLU(),
            nn.Conv1d(hidden, hidden, kernel, padding=pad),
            nn.ReLU(),
        )
        self.out = nn.Sequential(
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, out_features)
        )

    def forward(self, ids: Tensor) -> Tensor:
        mask = (ids != PAD).unsqueeze(1).float()  # (N, 1, L)
        h = self.convs(self.embed(ids).transpose(1, 2))  # (N, hidden, L)
        pooled = (h * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)  # (N, hidden)
        return self.out(pooled)


class GRUSequenceDecoder(nn.Module):
    """p(x_t | x_<t, z): a GRU started from ``z`` and fed ``[embed(x_{t-1}), z]``.

    Parameters
    ----------
    vocab_size, embed_dim, hidden, latent_dim : int
    layers : int
        Stacked GRU layers.
    """

    def __init__(
        self, vocab_size: int, embed_dim: int, hidden: int, latent_dim: int, layers: int = 1
    ) -> None:
        super().__init__()
        self.layers, self.hidden = layers, hidden
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.start = nn.Linear(latent_dim, layers * hidden)
        self.gru = nn.GRU(embed_dim + latent_dim, hidden, layers, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)

    def initial_state(self, z: Tensor) -> Tensor:
        """``(layers, N, hidden)`` from codes ``(N, latent_dim)``."""
        h = torch.tanh(self.start(z)).view(z.shape[0], self.layers, self.hidden)
        return h.transpose(0, 1).contiguous()

    def step(self, z: Tensor, token: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        """One step: logits ``(N, V)`` of the next token after ``token`` ``(N,)``, new state."""
        inputs = torch.cat([self.embed(token), z], dim=-1).unsqueeze(1)  # (N, 1, E + D)
        out, h = self.gru(inputs, h)
        return self.out(out[:, 0]), h

    def forward(self, z: Tensor, ids: Tensor) -> Tensor:
        """Teacher forcing: logits ``(N, L, V)`` of ``ids`` ``(N, L)`` given the true prefix."""
        n, length = ids.shape
        previous = torch.cat([ids.new_full((n, 1), BOS), ids[:, :-1]], dim=1)  # (N, L)
        inputs = torch.cat(
            [self.embed(previous), z.unsqueeze(1).expand(n, length, z.shape[-1])], dim=-1
        )  # (N, L, E + D)
        out, _ = self.gru(inputs, self.initial_state(z))  # (N, L, H)
        return self.out(out)  # (N, L, V)

    def generate(
        self,
        z: Tensor,
        length: int,
        *,
        temperature: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Ids ``(N, length)`` decoded token by token: the most likely token at each step
        (``temperature=0``, greedy) or a draw from the softmax of ``logits / temperature``.
        Everything after the end token is padding."""
        n = z.shape[0]
        h = self.initial_state(z)
        token = z.new_full((n,), BOS, dtype=torch.int64)
        done = torch.zeros(n, dtype=torch.bool, device=z.device)
        out = z.new_full((n, length), PAD, dtype=torch.int64)
        for t in range(length):
            logits, h = self.step(z, token, h)  # (N, V)
            logits[:, [PAD, BOS]] = -torch.inf  # neither pads nor begins inside a sequence
            if temperature > 0:
                probs = F.softmax(logits / temperature, dim=-1)
                u = torch.rand(n, 1, generator=generator).to(probs.device, probs.dtype)
                token = (probs.cumsum(-1) < u).sum(-1).clamp(max=probs.shape[-1] - 1)
            else:
                token = logits.argmax(-1)
            if t == length - 1:
                token = torch.full_like(token, EOS)  # the last id always ends
            out[:, t] = torch.where(done, PAD, token)
            done = done | (token == EOS)
            if bool(done.all()):
                break
        return out

    def beam(self, z: Tensor, length: int, width: int = 5) -> Tensor:
        """Ids ``(N, length)`` of the most likely sequence found by beam search of ``width``
        beams (log-probabilities summed; a finished beam keeps its score)."""
        n, v = z.shape[0], self.out.out_features
        zz = z.repeat_interleave(width, 0)  # (N * W, D)
        h = self.initial_state(zz)
        token = z.new_full((n * width,), BOS, dtype=torch.int64)
        score = z.new_full((n, width), -torch.inf)
        score[:, 0] = 0.0  # one live beam to start with
        done = torch.zeros(n, width, dtype=torch.bool, device=z.device)
        seqs = z.new_full((n, width, length), PAD, dtype=torch.int64)
        for t in range(length):
            logits, h = self.step(zz, token, h)
            logp = F.log_softmax(logits, -1).view(n, width, v)  # (N, W, V)
            logp[..., [PAD, BOS]] = -torch.inf
            if t == length - 1:
                keep = logp[..., EOS].clone()
                logp.fill_(-torch.inf)
                logp[..., EOS] = keep
            finished = torch.full_like(logp, -torch.inf)
            finished[..., PAD] = 0.0  # a finished beam continues with padding at no cost
            logp = torch.where(done.unsqueeze(-1), finished, logp)
            total = (score.unsqueeze(-1) + logp).view(n, width * v)
            score, flat = total.topk(width, dim=-1)  # (N, W)
            parent, token2 = flat // v, flat % v
            seqs = seqs.gather(1, parent.unsqueeze(-1).expand(n, width, length)).clone()
            seqs[:, :, t] = token2
            done = done.gather(1, parent) | (token2 == EOS) | (token2 == PAD)
            index = (parent + torch.arange(n, device=z.device).unsqueeze(1) * width).view(-1)
            h = h[:, index]
            token = token2.view(-1)
            if bool(done.all()):
                break
        return seqs[:, 0]  # topk sorts: beam 0 scores best
