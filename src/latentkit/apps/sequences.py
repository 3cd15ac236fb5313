"""Tasks on a trained sequence VAE: strings in and out, interpolation, latent optimisation.

- :func:`encode_strings`, :func:`decode_strings`, :func:`sample_strings`: strings (SMILES,
  SELFIES, ...) to codes and back through the model's own tokenizer; :func:`strings_of` turns
  ids the model made into strings.
- :func:`interpolate_molecules`: decode the straight line between two molecules' codes and keep
  the valid, distinct steps (Gómez-Bombarelli et al. 2018, fig. 3).
- :func:`fit_property_predictor` and :func:`optimise_property`: a small MLP predicts a property
  from the codes; gradient ascent on its prediction moves codes of known molecules, a Gaussian
  log-prior term keeping them where the decoder was trained; the decoded points are scored by
  the true property (Gómez-Bombarelli et al. 2018, "Automatic chemical design using a
  data-driven continuous representation of molecules", section 2.3, which also used Gaussian
  processes; here gradient ascent only).

Molecule inputs are SMILES; a SELFIES model gets them converted. Molecule outputs are SMILES.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from latentkit.apps.molecules import canonical, to_smiles
from latentkit.data.sequences import to_selfies
from latentkit.evaluation.evaluate import batched
from latentkit.models.base import AbstractModel

__all__ = [
    "Candidate",
    "decode_strings",
    "encode_strings",
    "fit_property_predictor",
    "interpolate_molecules",
    "optimise_property",
    "sample_strings",
    "strings_of",
]


def _check(model: AbstractModel) -> None:
    if not model.capabilities.sequence:
        raise ValueError(
            f"expected a sequence model (latentkit train --model sequence_vae), got "
            f"{type(model).__name__}."
        )


def _as_model_strings(model: AbstractModel, smiles: Sequence[str]) -> list[str]:
    kind = model.tokenizer.kind  # type: ignore[attr-defined]
    return to_selfies(smiles) if kind == "selfies" else list(smiles)


def encode_strings(
    model: AbstractModel,
    strings: Sequence[str],
    *,
    molecules: bool = False,
    batch_size: int = 512,
) -> Tensor:
    """Codes ``(N, latent_dim)`` on the CPU of strings in the model's token kind
    (``molecules=True``: SMILES, converted for a SELFIES model), ``batch_size`` at a time."""
    _check(model)
    strings = _as_model_strings(model, strings) if molecules else list(strings)
    ids = model.tokenizer.encode(strings, model.input_shape[0])  # type: ignore[attr-defined]
    return batched(lambda xb, _: model.encode(xb), ids.float(), model=model, batch_size=batch_size)


def strings_of(model: AbstractModel, ids: Tensor, *, molecules: bool = False) -> list[str]:
    """Strings of token ids ``(N, L)`` made by ``model`` (``decode``, ``sample``); with
    ``molecules=True`` SMILES (a SELFIES model's strings decoded)."""
    _check(model)
    tokenizer = model.tokenizer  # type: ignore[attr-defined]
    strings = tokenizer.decode(ids.cpu())
    return to_smiles(strings, tokenizer.kind) if molecules else strings


def decode_strings(
    model: AbstractModel, z: Tensor, *, molecules: bool = False, batch_size: int = 512
) -> list[str]:
    """Strings decoded from codes ``(N, latent_dim)`` (the model's ``decoding``),
    ``batch_size`` at a time; with ``molecules=True`` SMILES (SELFIES decoded)."""
    _check(model)
    ids = batched(lambda zb, _: model.decode(zb), z, model=model, batch_size=batch_size)
    return strings_of(model, ids, molecules=molecules)


def sample_strings(
    model: AbstractModel,
    n: int,
    *,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    batch_size: int = 500,
) -> list[str]:
    """``n`` strings decoded from prior draws, tokens sampled at ``temperature``."""
    _check(model)
    out: list[str] = []
    while len(out) < n:
        size = min(batch_size, n - len(out))
        ids = model.sample(size, temperature=temperature, generator=generator)  # type: ignore[attr-defined]
        out += model.tokenizer.decode(ids.cpu())  # type: ignore[attr-defined]
    return out


def interpolate_molecules(
    model: AbstractModel, start: str, end: str, steps: int = 10
) -> list[tuple[float, str]]:
    """``(t, canonical SMILES)`` along ``(1 - t) z_start + t z_end`` for ``steps`` values of
    t in [0, 1]: the valid steps only, a molecule repeated on consecutive steps shown once."""
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}.")
    z = encode_strings(model, [start, end], molecules=True)  # (2, D)
    t = torch.linspace(0, 1, steps)
    path = (1 - t)[:, None] * z[0] + t[:, None] * z[1]  # (steps, D)
    out: list[tuple[float, str]] = []
    for ti, smiles in zip(t.tolist(), decode_strings(model, path, molecules=True), strict=True):
        c = canonical(smiles)
        if c is not None and (not out or out[-1][1] != c):
            out.append((ti, c))
    return out


def fit_property_predictor(
    codes: Tensor,
    values: Tensor,
    *,
    hidden: int = 64,
    epochs: int = 500,
    lr: float = 3e-3,
    weight_decay: float = 1e-3,
    holdout: float = 0.2,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """A two-layer MLP ``(N, D) -> (N,)`` fitted by full-batch Adam on squared error.

    Codes and values are standardised inside (the module takes codes and predicts in the
    original units). A random ``holdout`` share of the rows is kept out of the fit and the
    weights of the epoch with the smallest error on it are returned (early stopping): an MLP
    fitted to a few thousand informative codes for a fixed number of epochs overfits them
    (held-out R^2 below 0 in benchmarks/molecules.py before this). ``holdout=0`` fits all rows
    for ``epochs``.
    """
    if codes.ndim != 2 or values.shape != codes.shape[:1]:
        raise ValueError(
            f"expected codes (N, D) and values (N,), got {tuple(codes.shape)} and "
            f"{tuple(values.shape)}."
        )
    if not 0 <= holdout < 1:
        raise ValueError(f"holdout must be in [0, 1), got {holdout}.")
    n, d = codes.shape
    n_held = round(holdout * n)
    if n - n_held < 2:
        raise ValueError(f"need at least 2 rows to fit after the holdout, got {n - n_held}.")
    net = nn.Sequential(
        nn.Linear(d, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 1)
    )
    with torch.no_grad():  # initial weights from the generator, not the global stream
        for p in net.parameters():
            p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) / p.shape[-1] ** 0.5)
    code_mean, code_std = codes.mean(0), codes.std(0).clamp(min=1e-8)  # (D,) each
    mean, std = values.mean(), values.std().clamp(min=1e-8)
    inputs, target = (codes - code_mean) / code_std, (values - mean) / std
    order = torch.randperm(n, generator=generator)
    fit, held = order[n_held:], order[:n_held]
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    best, best_state = float("inf"), None
    for _ in range(epochs):
        loss = (net(inputs[fit])[:, 0] - target[fit]).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if n_held:
            with torch.no_grad():
                error = float((net(inputs[held])[:, 0] - target[held]).square().mean())
            if error < best:
                best, best_state = error, {k: v.clone() for k, v in net.state_dict().items()}
    if best_state is not None:
        net.load_state_dict(best_state)
    return _Unstandardise(net.eval(), code_mean, code_std, float(mean), float(std))


class _Unstandardise(nn.Module):
    def __init__(
        self, net: nn.Module, code_mean: Tensor, code_std: Tensor, mean: float, std: float
    ) -> None:
        super().__init__()
        self.net, self.mean, self.std = net, mean, std
        self.register_buffer("code_mean", code_mean)
        self.register_buffer("code_std", code_std)

    def forward(self, z: Tensor) -> Tensor:
        return self.net((z - self.code_mean) / self.code_std)[:, 0] * self.std + self.mean  # (N,)


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A decoded point of latent optimisation: its SMILES, true property, prediction, step."""

    smiles: str
    value: float
    predicted: float
    step: int


def optimise_property(
    model: AbstractModel,
    predictor: nn.Module,
    starts: Tensor,
    score: Callable[[str], float | None],
    *,
    steps: int = 100,
    lr: float = 0.05,
    prior_weight: float = 0.01,
    decode_every: int = 10,
) -> list[Candidate]:
    """Gradient ascent on ``predictor(z) + prior_weight * log N(z; 0, I)`` from ``starts``
    ``(K, D)``; every ``decode_every`` steps the codes are decoded and the valid molecules
    scored with ``score`` (the true property). Returns the distinct valid candidates found,
    best first."""
    if steps < 1 or decode_every < 1:
        raise ValueError(f"steps and decode_every must be >= 1, got {steps} and {decode_every}.")
    z = starts.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    found: dict[str, Candidate] = {}
    for step in range(steps + 1):
        if step % decode_every == 0 or step == steps:
            with torch.no_grad():
                predicted = predictor(z).tolist()
            for smiles, guess in zip(
                decode_strings(model, z.detach(), molecules=True), predicted, strict=True
            ):
                c = canonical(smiles)
                value = None if c is None else score(c)
                if c is not None and value is not None and c not in found:
                    found[c] = Candidate(c, float(value), float(guess), step)
        if step == steps:
            break
        objective = predictor(z).sum() - prior_weight * 0.5 * z.square().sum()
        opt.zero_grad()
        (-objective).backward()
        opt.step()
    return sorted(found.values(), key=lambda c: -c.value)
