"""The sequence VAE's own maths: the ELBO against a hand computation on a tiny vocabulary,
free bits, teacher forcing, greedy / sampled / beam decoding, save/load with its tokens."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

import latentkit
from latentkit.data.sequences import Tokenizer
from latentkit.models.registry import create_model

TOKENS = ["a", "b"]  # ids 3 and 4; 0 pads, 1 begins, 2 ends


def tiny(**fields):
    base = {"tokens": TOKENS, "latent_dim": 2, "embed_dim": 3, "encoder_hidden": 4,
            "warmup_steps": 0, "free_bits": 0.0}  # the plain ELBO  # fmt: skip
    return create_model("sequence_vae", (3,), seed=0, decoder_hidden=5, **(base | fields))


def ids(*strings: str) -> torch.Tensor:
    return Tokenizer("chars", tuple(TOKENS)).encode(list(strings), 3).float()


def test_elbo_matches_a_hand_computation():
    model = tiny()
    x = ids("ab", "b", "")  # ids: [3, 4, 2], [4, 2, 0], [2, 0, 0]
    out = model.loss(x, generator=torch.Generator().manual_seed(7))
    q = model.posterior(x)
    z = q.rsample(torch.Generator().manual_seed(7))
    logits = model.decoder(z, x.long()).tolist()  # (3, 3, 5)
    for n, row in enumerate(x.long().tolist()):
        nll = 0.0
        for t, token in enumerate(row):
            if token == 0:
                break
            log_norm = math.log(sum(math.exp(v) for v in logits[n][t]))
            nll -= logits[n][t][token] - log_norm
        assert out.reconstruction[n].item() == pytest.approx(nll, rel=1e-5)
        mu, log_var = q.mean[n].tolist(), q.log_var[n].tolist()
        kl = sum(0.5 * (m * m + math.exp(v) - 1 - v) for m, v in zip(mu, log_var, strict=True))
        assert out.kl[n].item() == pytest.approx(kl, rel=1e-5, abs=1e-7)
    assert out.loss.item() == pytest.approx((out.reconstruction + out.kl).mean().item(), 1e-6)


def test_uniform_decoder_scores_length_times_log_vocabulary():
    model = tiny()
    with torch.no_grad():
        model.decoder.out.weight.zero_()
        model.decoder.out.bias.zero_()
    out = model.loss(ids("ab", "b", ""))
    assert out.reconstruction.tolist() == pytest.approx(
        [3 * math.log(5), 2 * math.log(5), math.log(5)]
    )


def test_free_bits_charge_at_least_the_floor_per_dimension():
    model = tiny(free_bits=0.5)
    x = ids("ab", "b", "a")
    out = model.loss(x, generator=torch.Generator().manual_seed(1))
    per_dim = model.posterior(x).kl_per_dim().mean(0)  # (D,)
    charged = torch.clamp(per_dim, min=0.5).sum()
    assert out.loss.item() == pytest.approx((out.reconstruction.mean() + charged).item(), 1e-5)
    plain = tiny().loss(x, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(out.kl, plain.kl)  # the reported KL is the true one


def test_kl_annealing_weight_rises_linearly():
    model = tiny(warmup_steps=10)
    x = ids("ab", "b")
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    at = {s: model.loss(x, step=s, generator=g()) for s in (0, 5, None)}
    assert at[0].loss.item() == pytest.approx(at[0].reconstruction.mean().item(), 1e-6)
    half = (at[5].reconstruction + 0.5 * at[5].kl).mean().item()
    assert at[5].loss.item() == pytest.approx(half, 1e-6)


def test_teacher_forcing_is_causal():
    model = tiny()
    z = torch.randn(2, 2, generator=torch.Generator().manual_seed(0))
    a = model.decoder(z, torch.tensor([[3, 4, 2], [4, 2, 0]]))
    b = model.decoder(z, torch.tensor([[3, 3, 3], [4, 4, 4]]))
    assert torch.equal(a[:, :2], b[:, :2]) and not torch.equal(a[:, 2], b[:, 2])


def _exact_best(model, z):
    """The most likely sequence of at most 2 tokens + end, by enumeration."""
    candidates = ["".join(c) for k in range(3) for c in itertools.product(TOKENS, repeat=k)]
    x = ids(*candidates)
    scores = model.log_likelihood(z.expand(len(candidates), -1), x)
    return x[scores.argmax()]


def test_beam_search_of_full_width_finds_the_exact_best_and_width_one_is_greedy():
    model = tiny()
    for seed in range(5):
        z = 3 * torch.randn(1, 2, generator=torch.Generator().manual_seed(seed))
        assert torch.equal(model.decoder.beam(z, 3, width=1), model.decoder.generate(z, 3))
        assert torch.equal(model.decoder.beam(z, 3, width=15)[0].float(), _exact_best(model, z))


def test_decoded_sequences_end_and_pad():
    model = tiny()
    z = torch.randn(20, 2, generator=torch.Generator().manual_seed(0))
    for out in (model.decode(z), model.sample(20, generator=torch.Generator().manual_seed(1))):
        rows = out.long().tolist()
        for row in rows:
            assert 2 in row and 1 not in row  # every row ends; no begin id inside
            end = row.index(2)
            assert all(v in (3, 4) for v in row[:end]) and all(v == 0 for v in row[end + 1 :])


def test_sampling_is_deterministic_under_a_generator():
    model = tiny()
    a = model.sample(8, generator=torch.Generator().manual_seed(4))
    b = model.sample(8, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    greedy = model.sample(8, temperature=0.0, generator=torch.Generator().manual_seed(4))
    z = torch.randn(8, 2, generator=torch.Generator().manual_seed(4))
    assert torch.equal(greedy, model.decode(z))  # temperature 0: greedy decoding of the draws


def test_save_load_keeps_the_tokenizer(tmp_path):
    model = tiny(token_kind="chars", decoding="beam", beam_width=3)
    model.save(tmp_path / "m")
    loaded = latentkit.load(tmp_path / "m")
    assert loaded.tokenizer == Tokenizer("chars", tuple(TOKENS))
    z = torch.randn(4, 2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(loaded.decode(z), model.decode(z))
    x = ids("ab", "b")
    assert torch.equal(loaded.encode(x), model.encode(x))


def test_importance_weights_average_to_the_elbo():
    model = tiny()
    x = ids("ab", "b")
    log_w = model.log_importance_weights(x, 4000, generator=torch.Generator().manual_seed(0))
    assert log_w.shape == (4000, 2)
    mc = log_w.mean(0)
    # the Monte-Carlo ELBO over 4000 draws against 400 single-draw losses
    single = torch.stack(
        [
            -(lambda o: o.reconstruction + o.kl)(
                model.loss(x, generator=torch.Generator().manual_seed(s))
            )
            for s in range(400)
        ]
    ).mean(0)
    assert torch.allclose(mc, single, atol=0.1), (mc, single)


@pytest.mark.parametrize("encoder", ["gru", "conv"])
def test_trailing_padding_changes_nothing(encoder):
    """Batches are cut to their longest row: the same loss as with the full padding."""
    short = create_model("sequence_vae", (4,), seed=0, tokens=TOKENS, latent_dim=2, encoder=encoder)
    long = create_model("sequence_vae", (9,), seed=0, tokens=TOKENS, latent_dim=2, encoder=encoder)
    x = Tokenizer("chars", tuple(TOKENS)).encode(["ab", "b", "aba"], 4).float()
    padded = torch.cat([x, torch.zeros(3, 5)], 1)
    g = lambda: torch.Generator().manual_seed(2)  # noqa: E731
    a, b = short.loss(x, generator=g()), long.loss(padded, generator=g())
    assert torch.allclose(a.reconstruction, b.reconstruction, atol=1e-5)
    assert torch.allclose(a.kl, b.kl, atol=1e-6)
