"""One parametrized suite over every registered model (see STYLE.md): shapes for every input
shape, gradients reach every parameter, exact save/load round trip, deterministic encoding,
and each model overfits one batch."""

from __future__ import annotations

import pytest
import torch

import latentkit
from latentkit.models.registry import MODELS, create_model, get_model_class

SHAPES = [(1, 28, 28), (1, 8, 8), (3, 32, 32), (1, 30, 30), (3, 45, 45), (13,)]
SMALL_MLP = {"kind": "mlp", "hidden": [32, 16]}
SMALL_CONV = {"kind": "conv", "channels": [8, 16], "dense": 32}
SMALL_RESCONV = {"kind": "resconv", "channels": [8, 16], "dense": 32}
#: models of mixed tables take the codes of C columns, not images: they run on a table of 13
#: columns (numbers, binaries and categories, with gaps) wherever the suite uses other shapes
TABLE_ONLY = {"tabular_vae"}
MIXED_KINDS = ["numeric"] * 5 + ["binary"] * 3 + ["categorical"] * 5
MIXED_LEVELS = [1] * 5 + [2] * 3 + [3, 4, 5, 2, 7]


#: the vocabulary of the sequence models in the suite: ids 3..9 (0-2: pad, begin, end)
TOKENS = ["C", "N", "O", "(", ")", "1", "="]


def is_sequence(model_type: str) -> bool:
    """Models of token ids ``(N, L)`` (declared ``capabilities.sequence``)."""
    return get_model_class(model_type).capabilities.sequence


def small_fields(model_type: str, network: dict) -> dict:
    """Config fields that make a tiny but complete model of each type."""
    if model_type in TABLE_ONLY:
        return {"latent_dim": 4, "network": SMALL_MLP, "kinds": MIXED_KINDS,
                "levels": MIXED_LEVELS}  # fmt: skip
    if model_type == "hierarchical_vae":
        return {"latent_dim": 6, "top_latent_dim": 3, "top_hidden": [8], "network": network}
    if model_type == "discrete_vae":
        return {"groups": 3, "categories": 4, "network": network}
    if is_sequence(model_type):  # an image network's kind picks the sequence encoder
        return {
            "latent_dim": 4,
            "tokens": TOKENS,
            "token_kind": "chars",
            "encoder": "conv" if network["kind"] != "mlp" else "gru",
            "embed_dim": 8,
            "encoder_hidden": 16,
            "decoder_hidden": 32,
        }
    return {"latent_dim": 4, "network": network}


def make(model_type: str, shape: tuple[int, ...], network: dict | None = None, **extra):
    network = network or SMALL_MLP
    if model_type in TABLE_ONLY:
        shape, extra = (13,), {}
    elif is_sequence(model_type):
        shape = (shape[-1],)  # sequences of as many ids as the image is wide
    return create_model(model_type, shape, **small_fields(model_type, network), **extra)


def mixed_codes(n: int, g: torch.Generator) -> torch.Tensor:
    """Codes of the 13-column table: numbers, 0/1, level indices; about 10% missing (NaN)."""
    columns = [torch.randn(n, generator=g) if k == "numeric" else
               torch.randint(0, m, (n,), generator=g).float()
               for k, m in zip(MIXED_KINDS, MIXED_LEVELS, strict=True)]  # fmt: skip
    x = torch.stack(columns, dim=1)
    return x.masked_fill(torch.rand(x.shape, generator=g) < 0.1, float("nan"))


def batch(model, n: int = 6, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    if model.capabilities.tabular:
        return mixed_codes(n, g), None
    if model.capabilities.sequence:  # random strings of 1..L-1 tokens, the end id, padding
        length = model.input_shape[0]
        sizes = torch.randint(1, length, (n,), generator=g)
        x = torch.randint(3, 3 + len(TOKENS), (n, length), generator=g)
        position = torch.arange(length)
        x = torch.where(position < sizes[:, None], x, 0)
        x[torch.arange(n), sizes] = 2
        return x.float(), None
    x = torch.rand((n, *model.input_shape), generator=g)
    y = torch.randint(0, 10, (n,), generator=g) if model.needs_labels else None
    return x, y


CASES = [(m, s, SMALL_MLP) for m in MODELS if m not in TABLE_ONLY for s in SHAPES]
CASES += [(m, (13,), SMALL_MLP) for m in TABLE_ONLY]
CASES += [
    (m, s, net)
    for m in ("autoencoder", "vae")
    for s in SHAPES[:5]
    for net in (SMALL_CONV, SMALL_RESCONV)
]
CASES += [
    (m, (1, 28, 28), SMALL_CONV)
    for m in MODELS
    if m not in ("autoencoder", "vae") and m not in TABLE_ONLY
]


def case_id(case) -> str:
    model_type, shape, net = case
    return f"{model_type}-{'x'.join(map(str, shape))}-{net['kind']}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_shapes(case):
    model_type, shape, net = case
    model = make(model_type, shape, net)
    x, y = batch(model)
    code = model.encode(x, y)
    assert code.shape == (6, model.latent_dim)
    shape = model.input_shape
    assert model.decode(code, y).shape == x.shape
    assert model.reconstruct(x, y).shape == x.shape
    out = model.loss(x, y=y)
    assert out.loss.shape == ()
    for name, term in out.per_sample().items():
        assert term.shape == (6,), name
        assert torch.isfinite(term).all(), name
    if model.capabilities.generative:
        sample = model.sample(3, y=2 if model.needs_labels else None)
        assert sample.shape == (3, *model.input_shape)


@pytest.mark.parametrize("model_type", list(MODELS))
@pytest.mark.parametrize("net", [SMALL_MLP, SMALL_CONV], ids=["mlp", "conv"])
def test_gradient_reaches_every_parameter(model_type, net):
    extra = {"prior": "vamp", "prior_components": 3} if model_type == "vae" else {}
    model = make(model_type, (1, 8, 8), net, **extra)
    x, y = batch(model)
    if model_type == "semi_supervised_vae":
        y[:3] = -1  # both labelled and unlabelled rows
    model.loss(x, y=y, generator=torch.Generator().manual_seed(1)).loss.backward()
    if model.capabilities.auxiliary_step:  # the auxiliary network learns from its own loss
        model.auxiliary_loss(x, y=y, generator=torch.Generator().manual_seed(2)).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"no gradient for {missing}"
    silent = [n for n, p in model.named_parameters() if not p.grad.abs().sum() > 0]
    assert not silent, f"zero gradient for {silent}"


@pytest.mark.parametrize("model_type", list(MODELS))
def test_save_load_round_trip_is_exact(model_type, tmp_path):
    model = make(model_type, (1, 8, 8), SMALL_CONV).eval()
    x, y = batch(model)
    model.save(tmp_path / "m", extra={"note": "hello"})
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "config.json",
        "model.safetensors",
    ]
    loaded = latentkit.load(tmp_path / "m")
    assert type(loaded) is type(model)
    assert loaded.config == model.config
    assert loaded.metadata == {"note": "hello"}
    assert torch.equal(loaded.encode(x, y), model.encode(x, y))
    assert torch.equal(loaded.reconstruct(x, y), model.reconstruct(x, y))
    if model.capabilities.generative:
        s1 = model.sample(
            4, generator=torch.Generator().manual_seed(3), y=1 if model.needs_labels else None
        )
        s2 = loaded.sample(
            4, generator=torch.Generator().manual_seed(3), y=1 if model.needs_labels else None
        )
        assert torch.equal(s1, s2)


@pytest.mark.parametrize("model_type", list(MODELS))
def test_encode_is_deterministic(model_type):
    model = make(model_type, (13,))
    model.train()  # even in training mode: no dropout configured, posterior mean
    x, y = batch(model)
    assert torch.equal(model.encode(x, y), model.encode(x, y))


@pytest.mark.parametrize("model_type", list(MODELS))
def test_same_seed_same_loss(model_type):
    model = make(model_type, (13,))
    x, y = batch(model)
    a = model.loss(x, y=y, generator=torch.Generator().manual_seed(5)).loss
    b = model.loss(x, y=y, generator=torch.Generator().manual_seed(5)).loss
    assert torch.equal(a, b)


@pytest.mark.parametrize("model_type", list(MODELS))
def test_overfits_one_batch(model_type):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    if model_type in TABLE_ONLY:
        fields = small_fields(model_type, {"kind": "mlp", "hidden": [64]})
        model = create_model(model_type, (13,), **{**fields, "network": {"hidden": [64]}})
        x = mixed_codes(8, g)
    else:
        model = make(model_type, (1, 8, 8), {"kind": "mlp", "hidden": [64]})
        x = (torch.rand(8, 1, 8, 8, generator=g) > 0.5).float()
        if model.capabilities.sequence:
            x = batch(model, 8)[0]
    y = torch.arange(8) % 4 if model.needs_labels else None
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(300):
        out = model.loss(x, y=y, generator=g)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        first = out.reconstruction.mean().item() if first is None else first
    model.eval()
    final = model.loss(x, y=y, generator=g).reconstruction.mean().item()
    assert final < 0.35 * first, (first, final)
