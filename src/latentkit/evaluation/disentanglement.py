"""Disentanglement metrics of codes against ground-truth factors, as in disentanglement_lib.

Every metric takes ``codes`` of shape (N, L) (a model's deterministic codes, the posterior
means, of N data points drawn at random) and integer ``factors`` of shape (N, K) (the factor
classes of the same points) and follows the definitions of disentanglement_lib (Locatello et
al. 2019, "Challenging common assumptions in the unsupervised learning of disentangled
representations", ``disentanglement_lib/evaluation/metrics``):

- :func:`mig`, the Mutual Information Gap (Chen et al. 2018, "Isolating sources of
  disentanglement in VAEs"): each latent is discretised into 20 equal-width bins over its
  range (``np.histogram(..., bins=20)`` edges, as ``histogram_discretize``); ``I(z_j; v_k)``
  is the discrete mutual information in nats; for each factor the gap between the two largest
  ``I(z_j; v_k)`` over the latents is divided by the factor's entropy ``H(v_k)``; MIG is the
  mean over factors. 1 when each factor is copied into exactly one latent, 0 when no latent
  says more about a factor than the next one.
- :func:`sap`, the Separated Attribute Predictability score (Kumar et al. 2018, "Variational
  inference of disentangled latent concepts from unlabeled observations"), for discrete
  factors: for every (latent, factor) pair a ``LinearSVC(C=0.01, class_weight="balanced")``
  predicts the factor from that one latent, scored by accuracy on held-out rows; SAP is the
  mean over factors of the gap between the two best latents' accuracies.
- :func:`dci`, Disentanglement, Completeness and Informativeness (Eastwood and Williams 2018,
  "A framework for the quantitative evaluation of disentangled representations"): one
  ``GradientBoostingClassifier`` (scikit-learn's defaults, as disentanglement_lib) per factor
  predicts it from all the codes; its ``feature_importances_`` form the importance matrix R of
  shape (L, K). Disentanglement is ``sum_j rho_j (1 - H_K(P_j.))`` with ``P_j.`` row j of R
  normalised, ``H_K`` the entropy in base K and ``rho_j`` latent j's share of the total
  importance; completeness is the same over columns (base L); informativeness is the mean
  held-out accuracy of the classifiers.
- :func:`factor_vae_score` (Kim and Mnih 2018, "Disentangling by factorising"): latents whose
  standard deviation over the data is below 0.05 are dropped; each vote draws a factor k and a
  batch of 64 rows sharing one value of it, and votes for the latent whose variance in the
  batch, divided by its variance over all rows, is smallest; a majority-vote classifier from
  latent to factor is fitted on 10,000 votes; the score is its accuracy on 5,000 new votes.
  Where disentanglement_lib draws the batch from the simulator, it is drawn here (with
  replacement) among the given rows that share the factor's value, so that the metric works
  on any labelled codes; with rows drawn at random from the full grid the two agree in
  distribution.

The held-out rows of SAP and DCI are the last ``test_fraction`` of the given rows (pass rows
in random order). disentanglement_lib scores 10,000 training rows (MIG, FactorVAE) and
10,000 / 5,000 train / test rows (SAP, DCI).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

__all__ = [
    "DCI",
    "dci",
    "discretize",
    "factor_vae_score",
    "latent_factors",
    "mig",
    "mutual_information",
    "normalized_mutual_information",
    "sap",
]


def _numpy(a: Any) -> Any:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else a


def _check(codes: Any, factors: Any) -> tuple[np.ndarray, np.ndarray]:
    """``codes`` as float64 (N, L) and ``factors`` as int64 (N, K), or a clear ValueError."""
    c = np.asarray(_numpy(codes), dtype=np.float64)
    f = np.asarray(_numpy(factors))
    if c.ndim != 2 or f.ndim != 2 or len(c) != len(f):
        raise ValueError(
            f"expected codes of shape (N, L) and factors of shape (N, K) with the same N, got "
            f"{c.shape} and {f.shape}."
        )
    if len(c) < 2:
        raise ValueError(f"need at least 2 rows to score, got {len(c)}.")
    if not np.issubdtype(f.dtype, np.integer):
        raise ValueError(f"factors must be integer classes, got {f.dtype}; discretise them first.")
    if not np.isfinite(c).all():
        raise ValueError("codes hold NaN or inf values; check the model's encoder.")
    return c, f.astype(np.int64)


def discretize(codes: np.ndarray, bins: int = 20) -> np.ndarray:
    """Each column of ``codes`` (N, L) to bin ids 1..bins over its own range (int64, (N, L)):
    ``np.digitize(z, np.histogram(z, bins)[1][:-1])`` as disentanglement_lib does."""
    out = np.empty(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        edges = np.histogram(codes[:, j], bins)[1]
        out[:, j] = np.digitize(codes[:, j], edges[:-1])
    return out


def _discrete_mi(a: np.ndarray, b: np.ndarray) -> float:
    """Mutual information (nats) of two integer vectors, from their contingency table."""
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    table = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(table, (ia, ib), 1.0)
    p = table / len(a)
    pa, pb = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    return float((p[nz] * np.log(p[nz] / (pa @ pb)[nz])).sum())


def mutual_information(codes: Any, factors: Any, bins: int = 20) -> np.ndarray:
    """``I(z_j; v_k)`` in nats of every discretised latent and factor: shape (L, K)."""
    c, f = _check(codes, factors)
    z = discretize(c, bins)
    return np.array([[_discrete_mi(z[:, j], f[:, k]) for k in range(f.shape[1])]
                     for j in range(z.shape[1])])  # fmt: skip


def normalized_mutual_information(codes: Any, factors: Any, bins: int = 20) -> np.ndarray:
    """``I(z_j; v_k) / H(v_k)`` of every latent and factor, in [0, 1]: shape (L, K) (0 for a
    constant factor). MIG is the mean over factors of the gap between a column's top two."""
    c, f = _check(codes, factors)
    m = mutual_information(c, f, bins)
    entropy = np.array([_discrete_mi(f[:, k], f[:, k]) for k in range(f.shape[1])])
    return np.divide(m, entropy, out=np.zeros_like(m), where=entropy > 0)


def latent_factors(
    codes: Any, factors: Any, names: list[str] | None = None, *, threshold: float = 0.1
) -> list[str | None]:
    """For each latent, the factor it carries most information about (highest
    :func:`normalized_mutual_information`), or None below ``threshold``: labels for sliders
    and traversal rows. ``names`` default to ``factor 0``, ``factor 1``, ..."""
    nmi = normalized_mutual_information(codes, factors)  # (L, K)
    names = names or [f"factor {k}" for k in range(nmi.shape[1])]
    if len(names) != nmi.shape[1]:
        raise ValueError(f"expected {nmi.shape[1]} factor names, got {len(names)}.")
    best = nmi.argmax(1)
    return [names[k] if nmi[j, k] >= threshold else None for j, k in enumerate(best)]


def mig(codes: Any, factors: Any, *, bins: int = 20) -> float:
    """The Mutual Information Gap (see the module docstring) of codes (N, L), factors (N, K).

    Factors with one value (zero entropy) are left out of the mean. Needs L >= 2.
    """
    c, f = _check(codes, factors)
    if c.shape[1] < 2:
        raise ValueError(f"MIG needs at least 2 latents, got {c.shape[1]}.")
    m = mutual_information(c, f, bins)  # (L, K)
    entropy = np.array([_discrete_mi(f[:, k], f[:, k]) for k in range(f.shape[1])])
    keep = entropy > 0
    if not keep.any():
        raise ValueError("every factor is constant over these rows: nothing to score.")
    top = np.sort(m, axis=0)[::-1]  # (L, K), largest first
    return float(np.mean((top[0] - top[1])[keep] / entropy[keep]))


def _split(n: int, test_fraction: float) -> int:
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}.")
    n_test = round(n * test_fraction)
    if n_test < 1 or n - n_test < 2:
        raise ValueError(f"{n} rows are too few to hold out {test_fraction:.0%} of them.")
    return n - n_test


def sap(codes: Any, factors: Any, *, test_fraction: float = 1 / 3) -> float:
    """The SAP score (see the module docstring): the last ``test_fraction`` rows are held out."""
    from sklearn.svm import LinearSVC

    c, f = _check(codes, factors)
    if c.shape[1] < 2:
        raise ValueError(f"SAP needs at least 2 latents, got {c.shape[1]}.")
    n = _split(len(c), test_fraction)
    score = np.zeros((c.shape[1], f.shape[1]))  # (L, K) held-out accuracies
    for k in range(f.shape[1]):
        if len(np.unique(f[:n, k])) < 2:
            continue  # a constant factor: no classifier, every latent scores 0
        for j in range(c.shape[1]):
            svm = LinearSVC(C=0.01, class_weight="balanced")
            svm.fit(c[:n, j : j + 1], f[:n, k])
            score[j, k] = np.mean(svm.predict(c[n:, j : j + 1]) == f[n:, k])
    top = np.sort(score, axis=0)[::-1]
    return float(np.mean(top[0] - top[1]))


@dataclasses.dataclass(frozen=True)
class DCI:
    """The three DCI scores, each in [0, 1]."""

    disentanglement: float
    completeness: float
    informativeness: float

    def __iter__(self) -> Iterator[float]:  # unpack: d, c, i = dci(codes, factors)
        return iter((self.disentanglement, self.completeness, self.informativeness))


def _weighted_one_minus_entropy(importance: np.ndarray) -> float:
    """``sum_j rho_j (1 - H_base(P_j))`` over the rows of ``importance`` (rows x base)."""
    total = importance.sum()
    if total <= 0:
        return 0.0
    rows = importance / np.maximum(importance.sum(1, keepdims=True), 1e-11)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(rows > 0, np.log(rows), 0.0)
    base = importance.shape[1]
    entropy = -(rows * logs).sum(1) / np.log(base) if base > 1 else np.zeros(len(rows))
    return float(((1 - entropy) * importance.sum(1) / total).sum())


def dci(codes: Any, factors: Any, *, test_fraction: float = 1 / 3, n_estimators: int = 100) -> DCI:
    """Disentanglement, completeness and informativeness (see the module docstring).

    Parameters
    ----------
    codes : array of shape (N, L)
    factors : int array of shape (N, K)
    test_fraction : float
        The last share of the rows, held out for informativeness.
    n_estimators : int
        Boosting stages of each classifier (100, scikit-learn's default, in disentanglement_lib).

    Returns
    -------
    DCI
    """
    from sklearn.ensemble import GradientBoostingClassifier

    c, f = _check(codes, factors)
    n = _split(len(c), test_fraction)
    importance = np.zeros((c.shape[1], f.shape[1]))  # (L, K)
    accuracy = []
    for k in range(f.shape[1]):
        if len(np.unique(f[:n, k])) < 2:
            accuracy.append(float(np.mean(f[n:, k] == f[0, k])))
            continue
        model = GradientBoostingClassifier(n_estimators=n_estimators, random_state=0)
        model.fit(c[:n], f[:n, k])
        importance[:, k] = np.abs(model.feature_importances_)
        accuracy.append(float(np.mean(model.predict(c[n:]) == f[n:, k])))
    return DCI(
        _weighted_one_minus_entropy(importance),
        _weighted_one_minus_entropy(importance.T),
        float(np.mean(accuracy)),
    )


def factor_vae_score(
    codes: Any,
    factors: Any,
    *,
    batch_size: int = 64,
    n_train: int = 10_000,
    n_eval: int = 5_000,
    seed: int = 0,
) -> float:
    """The FactorVAE score (see the module docstring): the held-out accuracy of the
    majority-vote classifier from the least-varying latent to the fixed factor.

    Parameters
    ----------
    codes : array of shape (N, L)
    factors : int array of shape (N, K)
    batch_size : int
        Rows per vote, all sharing the value of the voted factor.
    n_train, n_eval : int
        Votes that fit the classifier, and votes that score it.
    seed : int
        Seed of the votes (``numpy.random.default_rng``).
    """
    c, f = _check(codes, factors)
    rng = np.random.default_rng(seed)
    scale = c.var(0, ddof=1)  # (L,)
    active = np.sqrt(scale) >= 0.05
    if not active.any():
        return 0.0
    varying = [k for k in range(f.shape[1]) if len(np.unique(f[:, k])) > 1]
    if not varying:
        raise ValueError("every factor is constant over these rows: nothing to score.")
    groups = {k: _groups(f[:, k]) for k in varying}

    def votes(count: int) -> np.ndarray:
        table = np.zeros((c.shape[1], f.shape[1]), dtype=np.int64)  # (L, K)
        ks = rng.choice(varying, size=count)
        for k in varying:
            n_k = int((ks == k).sum())
            members, starts, sizes = groups[k]
            anchor = rng.integers(0, len(f), n_k)  # the value is that of a random row
            which = np.searchsorted(np.unique(f[:, k]), f[anchor, k])
            pick = starts[which, None] + (rng.random((n_k, batch_size)) * sizes[which, None])
            rows = members[pick.astype(np.int64)]  # (n_k, batch_size)
            local = c[rows].var(1, ddof=1)  # (n_k, L)
            ratio = local[:, active] / scale[active]
            best = np.flatnonzero(active)[ratio.argmin(1)]
            np.add.at(table, (best, np.full(n_k, k)), 1)
        return table

    train = votes(n_train)
    classifier = train.argmax(1)  # (L,) the factor each latent votes for most
    held_out = votes(n_eval)
    return float(held_out[np.arange(c.shape[1]), classifier].sum() / n_eval)


def _groups(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by value, each value's start in that order and its count."""
    order = np.argsort(values, kind="stable")
    _, starts, sizes = np.unique(values[order], return_index=True, return_counts=True)
    return order, starts, sizes
