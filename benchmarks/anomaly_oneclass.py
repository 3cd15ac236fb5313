"""One-class anomaly detection on MNIST and Fashion-MNIST: latentkit against classic and PyOD peers.

Protocol (the usual one-class benchmark, e.g. Ruff et al. 2018, "Deep one-class
classification"): for each class c in 0..9, every method is fitted on training images of class
c only and scores the test set (class c normal, the nine other classes anomalous); the metric
is the AUROC, reported per class and as the mean over the ten classes.

Data. Images ``(1, 28, 28)`` in [0, 1], flattened to 784 features for the peers. The training
images of class c are shuffled (seeded) and split: 90% fit every method, 10% are held out as
*validation normals*; a seeded subset of ``--val-others`` training images of the other classes
are the *validation anomalies*. The validation split only chooses which latentkit score is
"latentkit best" (once per dataset, by mean validation AUROC over the classes); no method sees
the test set before it is scored. ``--test-limit`` scores a seeded subset of the test set (all
10000 by default).

latentkit (one configuration for every class and both datasets, no per-class tuning):

- ``VAE``: MLP 784-512-256-(``--latent``), Bernoulli likelihood on the grey values, Adam
  ``--lr`` with a cosine schedule, batch ``--batch-size``, ``--epochs`` epochs. Scores from
  :func:`latentkit.apps.anomaly.anomaly_scores`: ``reconstruction`` (squared error of the
  decoded posterior mean), ``elbo`` (negative ELBO, ``--elbo-samples`` seeded draws), ``nll``
  (IWAE estimate with ``--nll-k`` seeded draws) and ``latent_distance`` (Mahalanobis distance
  of the code to a Gaussian of the training codes); from :mod:`latentkit.apps.oneclass`, with
  a :class:`~latentkit.apps.oneclass.TrainingReference` of the fitted images:
  ``NLL - complexity`` (Serrà et al. 2020: the IWAE NLL in bits minus the zlib-compressed
  length of the 8-bit image), ``code k-NN`` (mean distance of the code to its 20 nearest
  training codes), ``standardized reconstruction`` (squared errors divided by each pixel's mean
  training error + 1e-3) and the sums of their robust z-scores with the reconstruction error.

Peers, fitted on the same 90% of the class-c training images:

- scikit-learn ``IsolationForest`` (defaults, ``random_state=seed``);
- scikit-learn ``OneClassSVM`` (RBF kernel, ``gamma="scale"``, ``nu=0.1``);
- PCA reconstruction error (squared distance to the principal subspace), with the fewest
  components that explain 90% of the training variance of that class;
- PyOD ``AutoEncoder`` and PyOD ``VAE`` with their defaults except ``--pyod-ae-epochs`` and
  ``--pyod-vae-epochs`` (5 each instead of 10 and 30, for time: 20 problems on one shared core)
  and ``verbose=0``. The VAE runs twice: as is (its loss clamps the KL term to at most
  ``capacity=0``, so it trains as an autoencoder with noisy codes) and with the KL term active
  (``capacity=1e9``). PyOD's preprocessing (feature standardisation, ``std + 1e-8``) is left
  on, as by default. The PyOD VAE samples z when scoring, so torch is seeded before each
  scoring call.

Usage::

    python benchmarks/anomaly_oneclass.py --threads 1
    python benchmarks/anomaly_oneclass.py --quick      # smoke test, writes nothing
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mnist import HERE, add_run_arguments, machine_line, write_section
from _results import markdown_table, print_table

SECTION = "One-class anomaly detection (MNIST, Fashion-MNIST)"
DATASETS = ("mnist", "fashion-mnist")
#: latentkit.apps.oneclass scores: benchmark row -> method
ONECLASS = {
    "VAE code k-NN": "neighbors",
    "VAE standardized reconstruction": "standardized",
    "VAE k-NN + reconstruction": "neighbors+reconstruction",
    "VAE k-NN + standardized": "neighbors+standardized",
    "VAE k-NN + reconstruction + standardized": "neighbors+reconstruction+standardized",
}
LATENTKIT_SCORES = ("VAE reconstruction", "VAE -ELBO", "VAE NLL (IWAE)", "VAE latent distance",
                    "VAE NLL - complexity", *ONECLASS)  # fmt: skip
PEERS = ("IsolationForest", "OneClassSVM", "PCA reconstruction", "PyOD AutoEncoder",
         "PyOD VAE (default, KL clamped)", "PyOD VAE (KL active)")  # fmt: skip
TARGETS = {"mnist": 0.975, "fashion-mnist": 0.93}  # issue 19


@dataclass
class Split:
    """One one-class problem: fit rows, validation rows and labels, test rows and labels."""

    fit: Tensor  # (n_fit, 1, 28, 28) normal training images
    val: Tensor  # (n_val, 1, 28, 28) held-out normals, then other classes' training images
    val_anomalous: np.ndarray  # (n_val,) 1 for anomalies
    test: Tensor  # (n_test, 1, 28, 28)
    test_anomalous: np.ndarray  # (n_test,)


@dataclass
class Record:
    """AUROCs and seconds of each method on each class of one dataset."""

    test: dict[str, dict[int, float]] = field(default_factory=dict)
    val: dict[str, dict[int, float]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    pca_components: dict[int, int] = field(default_factory=dict)

    def add(self, method: str, c: int, test: float, val: float | None, seconds: float) -> None:
        self.test.setdefault(method, {})[c] = test
        if val is not None:
            self.val.setdefault(method, {})[c] = val
        self.seconds[method] = self.seconds.get(method, 0.0) + seconds


def load_images(name: str, split: str) -> tuple[Tensor, Tensor]:
    """Images ``(N, 1, 28, 28)`` in [0, 1] and labels ``(N,)``; never downloads."""
    os.environ.setdefault("LATENTKIT_DATA", str(HERE.parents[1] / "shared" / "data"))
    from latentkit import datasets

    data = datasets.load(name, split, download=False)
    assert data.y is not None
    return data.x.contiguous(), data.y.contiguous()


def make_split(
    train: tuple[Tensor, Tensor],
    test: tuple[Tensor, Tensor],
    c: int,
    *,
    seed: int,
    val_fraction: float = 0.1,
    val_others: int = 2000,
    fit_limit: int | None = None,
) -> Split:
    """The one-class problem of class ``c`` (see the module docstring for the protocol)."""
    (x, y), (x_test, y_test) = train, test
    g = torch.Generator().manual_seed(seed * 1000 + c)
    normal = torch.nonzero(y == c).flatten()
    normal = normal[torch.randperm(len(normal), generator=g)]
    n_val = round(val_fraction * len(normal))
    fit_rows = normal[n_val:] if fit_limit is None else normal[n_val : n_val + fit_limit]
    others = torch.nonzero(y != c).flatten()
    others = others[torch.randperm(len(others), generator=g)[:val_others]]
    val = torch.cat([x[normal[:n_val]], x[others]])
    val_anomalous = np.r_[np.zeros(n_val), np.ones(len(others))]
    return Split(x[fit_rows], val, val_anomalous, x_test, (y_test != c).numpy().astype(float))


def auroc(scores: np.ndarray | Tensor, anomalous: np.ndarray) -> float:
    """AUROC of anomaly scores (higher = more anomalous) against 0/1 labels."""
    from latentkit.evaluation.metrics import auroc as _auroc

    return _auroc(np.asarray(scores, dtype=np.float64), anomalous)


# -- latentkit ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class LatentkitSetup:
    latent: int = 16
    network: str = "mlp"  # "mlp": hidden widths; "conv": conv stages of `channels`
    hidden: tuple[int, ...] = (512, 256)
    channels: tuple[int, ...] = (32, 64)
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    elbo_samples: int = 2
    nll_k: int = 8
    n_neighbors: int = 20
    seed: int = 0
    threads: int = 1

    def network_config(self) -> object:
        from latentkit.nn import NetworkConfig

        if self.network == "conv":
            return NetworkConfig(kind="conv", channels=self.channels)
        return NetworkConfig(kind="mlp", hidden=self.hidden)

    def describe(self) -> str:
        if self.network == "conv":
            stack = f"conv stages {self.channels} (the decoder mirrors them), code {self.latent}"
        else:
            stack = f"MLP {'-'.join(str(h) for h in (784, *self.hidden))}-({self.latent})"
        return (
            f"{stack}, {self.epochs} epochs, batch {self.batch_size}, Adam {self.lr:g} with a "
            "cosine schedule"
        )


def _train(model: torch.nn.Module, x: Tensor, setup: LatentkitSetup) -> None:
    from latentkit.training import TrainConfig, Trainer

    config = TrainConfig(epochs=setup.epochs, batch_size=setup.batch_size, lr=setup.lr,
                         scheduler="cosine", seed=setup.seed, device="cpu", progress=False,
                         num_threads=setup.threads)  # fmt: skip
    Trainer(config).fit(model, x)


def latentkit_scores(
    split: Split, setup: LatentkitSetup
) -> dict[str, tuple[Tensor, Tensor, float]]:
    """Test scores, validation scores and seconds of each latentkit score kind."""
    from latentkit import VAE, VAEConfig
    from latentkit.apps.anomaly import LatentGaussian, anomaly_scores
    from latentkit.apps.oneclass import TrainingReference, complexity_corrected, oneclass_scores
    from latentkit.evaluation.diagnostics import posterior_means

    network = setup.network_config()
    out: dict[str, tuple[Tensor, Tensor, float]] = {}

    def timed(name: str, score: Callable[[Tensor], Tensor], train_s: float) -> None:
        start = time.perf_counter()
        test, val = score(split.test), score(split.val)
        out[name] = (test, val, train_s + time.perf_counter() - start)

    torch.manual_seed(setup.seed)
    vae = VAE(VAEConfig(input_shape=(1, 28, 28), latent_dim=setup.latent, network=network,
                        likelihood="bernoulli"))  # fmt: skip
    start = time.perf_counter()
    _train(vae, split.fit, setup)
    reference = LatentGaussian.fit(posterior_means(vae, split.fit))
    share = (time.perf_counter() - start) / len(LATENTKIT_SCORES)  # training time, shared
    seed = setup.seed
    timed("VAE reconstruction", lambda x: anomaly_scores(vae, x, "reconstruction"), share)
    timed("VAE -ELBO", lambda x: anomaly_scores(vae, x, "elbo", samples=setup.elbo_samples,
                                                seed=seed), share)  # fmt: skip
    timed("VAE NLL (IWAE)", lambda x: anomaly_scores(vae, x, "nll", k=setup.nll_k, seed=seed),
          share)  # fmt: skip
    timed("VAE latent distance",
          lambda x: anomaly_scores(vae, x, "latent_distance", reference=reference),
          share)  # fmt: skip
    # the complexity correction of the NLL scores above (compressed lengths timed with it)
    nll_test, nll_val, nll_seconds = out["VAE NLL (IWAE)"]
    start = time.perf_counter()
    out["VAE NLL - complexity"] = (complexity_corrected(nll_test, split.test),
                                   complexity_corrected(nll_val, split.val),
                                   nll_seconds + time.perf_counter() - start)  # fmt: skip
    start = time.perf_counter()
    neighbours = TrainingReference.fit(vae, split.fit, n_neighbors=setup.n_neighbors)
    fit_s = share + time.perf_counter() - start
    for name, method in ONECLASS.items():
        timed(name, lambda x, m=method: oneclass_scores(vae, x, neighbours, m), fit_s)
    return out


# -- peers -------------------------------------------------------------------------------------
def pca_components_for(variances: np.ndarray, fraction: float) -> int:
    """Fewest leading components whose variances (descending) explain ``fraction`` of the sum."""
    explained = np.cumsum(variances) / np.sum(variances)
    return int(min(np.searchsorted(explained, fraction - 1e-12) + 1, len(variances)))


class PCAError:
    """Squared distance to the principal subspace of the training rows (float64)."""

    def __init__(self, fraction: float = 0.9) -> None:
        self.fraction = fraction

    def fit(self, x: np.ndarray) -> PCAError:
        """Fit on rows ``x`` of shape (n_samples, n_features)."""
        x = np.asarray(x, dtype=np.float64)
        self.mean_ = x.mean(0)
        _, s, vt = np.linalg.svd(x - self.mean_, full_matrices=False)
        self.n_components_ = pca_components_for(s**2, self.fraction)
        self.components_ = vt[: self.n_components_]  # (k, n_features)
        return self

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        """Squared reconstruction error per row, shape (n_samples,)."""
        centred = np.asarray(x, dtype=np.float64) - self.mean_
        residual = centred - (centred @ self.components_.T) @ self.components_
        return np.square(residual).sum(1)


def make_peers(seed: int, pyod_epochs: dict[str, int | None]) -> dict[str, Callable[[], object]]:
    """Factories of the peer detectors; each object has ``fit`` and an anomaly score method."""
    from pyod.models.auto_encoder import AutoEncoder
    from pyod.models.vae import VAE as PyodVAE
    from sklearn.ensemble import IsolationForest
    from sklearn.svm import OneClassSVM

    def epochs(name: str) -> dict[str, int]:
        return {"epoch_num": int(pyod_epochs[name])} if pyod_epochs.get(name) else {}

    return {
        "IsolationForest": lambda: IsolationForest(random_state=seed),
        "OneClassSVM": lambda: OneClassSVM(kernel="rbf", gamma="scale", nu=0.1),
        "PCA reconstruction": lambda: PCAError(0.9),
        "PyOD AutoEncoder": lambda: AutoEncoder(random_state=seed, verbose=0, **epochs("ae")),
        "PyOD VAE (default, KL clamped)": lambda: PyodVAE(random_state=seed, verbose=0,
                                                          **epochs("vae")),
        "PyOD VAE (KL active)": lambda: PyodVAE(random_state=seed, verbose=0, capacity=1e9,
                                                **epochs("vae")),
    }  # fmt: skip


def peer_scores(detector: object, fit: np.ndarray, x: np.ndarray, seed: int) -> np.ndarray:
    """Fit ``detector`` on ``fit`` and return anomaly scores of ``x`` (higher = anomalous)."""
    detector.fit(fit)  # type: ignore[attr-defined]
    torch.manual_seed(seed)  # PyOD's VAE samples z when scoring
    if hasattr(detector, "score_samples") and not hasattr(detector, "decision_scores_"):
        return -detector.score_samples(x)  # scikit-learn: higher is more normal
    return detector.decision_function(x)  # type: ignore[attr-defined]


# -- one dataset -------------------------------------------------------------------------------
def run_dataset(name: str, classes: list[int], args: argparse.Namespace) -> Record:
    """Every method on every one-class problem of dataset ``name``."""
    train, test = load_images(name, "train"), load_images(name, "test")
    if args.test_limit is not None:
        g = torch.Generator().manual_seed(args.seed)
        rows = torch.randperm(len(test[0]), generator=g)[: args.test_limit]
        test = (test[0][rows], test[1][rows])
    setup = LatentkitSetup(latent=args.latent, network=args.network, epochs=args.epochs,
                           batch_size=args.batch_size, lr=args.lr,
                           elbo_samples=args.elbo_samples, nll_k=args.nll_k,
                           n_neighbors=args.n_neighbors, seed=args.seed,
                           threads=args.threads)  # fmt: skip
    peers = make_peers(args.seed, {"ae": args.pyod_ae_epochs, "vae": args.pyod_vae_epochs})
    record = Record()
    for c in classes:
        start_class = time.perf_counter()
        split = make_split(train, test, c, seed=args.seed, val_others=args.val_others,
                           fit_limit=args.fit_limit)  # fmt: skip
        for method, (test_s, val_s, seconds) in latentkit_scores(split, setup).items():
            record.add(method, c, auroc(test_s, split.test_anomalous),
                       auroc(val_s, split.val_anomalous), seconds)  # fmt: skip
        fit, x_test = split.fit.flatten(1).numpy(), split.test.flatten(1).numpy()
        for method, factory in peers.items():
            start = time.perf_counter()
            detector = factory()
            scores = peer_scores(detector, fit, x_test, args.seed)
            if isinstance(detector, PCAError):
                record.pca_components[c] = detector.n_components_
            record.add(method, c, auroc(scores, split.test_anomalous), None,
                       time.perf_counter() - start)  # fmt: skip
        line = ", ".join(f"{m} {v[c]:.3f}" for m, v in record.test.items())
        seconds = time.perf_counter() - start_class
        print(f"{name} class {c} ({len(split.fit)} fit images, {seconds:.0f} s): {line}",
              flush=True)  # fmt: skip
    return record


def best_latentkit(record: Record) -> str:
    """The latentkit score with the highest mean validation AUROC over the classes."""
    return max(LATENTKIT_SCORES, key=lambda m: float(np.mean(list(record.val[m].values()))))


def target_verdict(name: str, best: str, ours: float, peer: str, peer_mean: float,
                   target: float) -> str:  # fmt: skip
    """One sentence: the chosen score's mean, the best peer's, and whether the target (at
    least ``target`` and above every peer) is met, with the reason when it is not."""
    reasons = []
    if ours < target:
        reasons.append(f"{ours:.4f} is below {target:g}")
    if ours <= peer_mean:
        reasons.append(f"{peer} is not beaten")
    verdict = "met" if not reasons else f"not met ({'; '.join(reasons)})"
    return (f"{name}: latentkit best ({best}, chosen on validation) {ours:.4f}, best peer "
            f"{peer} {peer_mean:.4f}; target (>= {target:g} and above every peer) "
            f"{verdict}.")  # fmt: skip


def table_rows(record: Record, classes: list[int], best: str) -> list[list[object]]:
    rows: list[list[object]] = []
    for method in (*LATENTKIT_SCORES, *PEERS):
        per_class = [record.test[method][c] for c in classes]
        label = f"latentkit {method}" if method in LATENTKIT_SCORES else method
        if method == best:
            label = f"**latentkit best: {method}**"
        val = record.val.get(method)
        rows.append([label, *(f"{a:.3f}" for a in per_class), f"{np.mean(per_class):.3f}",
                     f"{np.mean(list(val.values())):.3f}" if val else "",
                     f"{record.seconds[method]:.0f}"])  # fmt: skip
    return rows


def save_figure(records: dict[str, Record], best: dict[str, str], classes: list[int],
                path: Path) -> Path:  # fmt: skip
    """Per-class AUROC of latentkit's chosen score and of each peer, one panel per dataset."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(len(records), 1, figsize=(8, 2.6 * len(records)), squeeze=False)
    methods_of = {n: (best[n], *PEERS) for n in records}
    for ax, (name, record) in zip(axes[:, 0], records.items(), strict=True):
        methods = methods_of[name]
        width = 0.8 / len(methods)
        for i, method in enumerate(methods):
            values = [record.test[method][c] for c in classes]
            label = f"latentkit {method}" if method in LATENTKIT_SCORES else method
            ax.bar(np.arange(len(classes)) + (i - len(methods) / 2 + 0.5) * width, values,
                   width, label=label)  # fmt: skip
        ax.set_xticks(range(len(classes)), [str(c) for c in classes])
        ax.set_ylim(0.4, 1.0)
        ax.set_ylabel("test AUROC")
        ax.set_title(f"{name}: one class normal, the rest anomalous", fontsize=9)
    axes[0, 0].legend(fontsize=6, ncol=4, loc="lower left")
    axes[-1, 0].set_xlabel("normal class")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, threads=1)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9")
    parser.add_argument("--latent", type=int, default=16)
    parser.add_argument("--network", choices=["mlp", "conv"], default="mlp",
                        help="latentkit VAE stack: MLP 784-512-256 or conv (32, 64)")  # fmt: skip
    parser.add_argument("--epochs", type=int, default=30, help="latentkit epochs")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--elbo-samples", type=int, default=2)
    parser.add_argument("--nll-k", type=int, default=8)
    parser.add_argument("--n-neighbors", type=int, default=20, help="k of the code k-NN")
    parser.add_argument("--pyod-ae-epochs", type=int, default=5, help="0: PyOD default (10)")
    parser.add_argument("--pyod-vae-epochs", type=int, default=5, help="0: PyOD default (30)")
    parser.add_argument("--val-others", type=int, default=2000)
    parser.add_argument("--test-limit", type=int, default=None, help="seeded test subset")
    parser.add_argument("--fit-limit", type=int, default=None, help="normal images fitted")
    args = parser.parse_args(argv)
    if args.quick:
        args.classes, args.epochs, args.pyod_ae_epochs, args.pyod_vae_epochs = "0,1", 1, 1, 1
        args.test_limit, args.fit_limit, args.val_others, args.nll_k = 400, 200, 100, 4
    torch.set_num_threads(args.threads)
    wall = time.perf_counter()
    classes = [int(c) for c in args.classes.split(",")]
    records, best = {}, {}
    for name in args.datasets.split(","):
        records[name] = run_dataset(name, classes, args)
        best[name] = best_latentkit(records[name])
    headers = ["method", *(str(c) for c in classes), "mean", "val mean", "seconds"]
    tables = {n: markdown_table(headers, table_rows(r, classes, best[n]))
              for n, r in records.items()}  # fmt: skip
    for name, table in tables.items():
        print_table(f"{name}: test AUROC per normal class", table)
    summary = []
    for name, record in records.items():
        ours = float(np.mean([record.test[best[name]][c] for c in classes]))
        peer = max(PEERS, key=lambda m: float(np.mean(list(record.test[m].values()))))
        peer_mean = float(np.mean(list(record.test[peer].values())))
        target = TARGETS.get(name, 1.0)
        summary.append(target_verdict(name, best[name], ours, peer, peer_mean, target))
    print("\n".join(summary))
    minutes = (time.perf_counter() - wall) / 60
    if args.quick or args.no_write:
        return 0
    figure = save_figure(records, best, classes, args.figures / "anomaly_oneclass_auroc.png")
    setup = LatentkitSetup(latent=args.latent, network=args.network, epochs=args.epochs,
                           batch_size=args.batch_size, lr=args.lr)  # fmt: skip
    body = "\n\n".join(f"**{name}** (test AUROC; `val mean`: mean AUROC on the validation "
                       f"split; `seconds`: fit + scoring, all classes)\n\n{table}"
                       for name, table in tables.items())  # fmt: skip
    notes = notes_text(args, setup, records, summary, minutes, figure)
    write_section(args.results, SECTION, body, notes)
    return 0


def notes_text(args: argparse.Namespace, setup: LatentkitSetup, records: dict[str, Record],
               summary: list[str], minutes: float, figure: Path) -> str:  # fmt: skip
    """The notes under the tables: protocol, configurations, choices, machine."""
    n_test = args.test_limit or 10000
    ae_epochs = args.pyod_ae_epochs or "10 (default)"
    vae_epochs = args.pyod_vae_epochs or "30 (default)"
    components = ", ".join(
        f"{name} {min(r.pca_components.values())}-{max(r.pca_components.values())}"
        for name, r in records.items()
    )
    protocol = (
        "Protocol: for each class c, every method is fitted on the same 90% of the training "
        f"images of class c (seeded split, seed {args.seed}) and scores {n_test} test images "
        "(class c normal, the nine others anomalous); AUROC per class and the mean over the "
        "classes. The other 10% of class c and a seeded subset of "
        f"{args.val_others} training images of the other classes form a validation split; the "
        "only choice made on it is which latentkit score is reported as latentkit best, once "
        "per dataset (highest `val mean`), never per class and never on the test set."
    )
    ours = (
        f"latentkit: VAE with a Bernoulli likelihood, {setup.describe()}; the same "
        "configuration for every class and both datasets. It was fixed before the full run "
        "from trials on validation splits (held-out normals and other classes' training "
        "images). Earlier: on MNIST 0 a conv stack (32, 64) scored like the MLP "
        "(reconstruction AUROC 0.994 vs 0.994, 5 epochs); on MNIST 8 and Fashion 6 an "
        "Autoencoder with the same MLP reconstructed like the VAE (0.89 vs 0.89 and 0.81 vs "
        "0.81, 10 epochs). For issue 19, on the hard classes MNIST 2, 3, 8 and Fashion 2, 6, "
        "8, the k-NN + reconstruction validation AUROC was 0.916, 0.940, 0.902 and 0.906, "
        "0.847, 0.909 with the MLP at 10 epochs; 0.949, 0.963, 0.936 and 0.911, 0.846, "
        "0.868 at 30 epochs (mean 0.903 at 10, 0.908 at 20, 0.912 at 30); 0.961, 0.964, 0.939 "
        "and 0.909, 0.845, 0.880 (mean 0.916) with the conv stack at 10 epochs, at 1.25x the "
        "time of the 30-epoch MLP: not a clear gain for the cost, so the MLP trains 30 "
        "epochs (longer training helps MNIST and costs Fashion 8; the reconstruction error "
        "alone moved less: 0.920, 0.960, 0.906 at 10 epochs, 0.933, 0.966, 0.905 at 30 on "
        "the MNIST three). Scores: reconstruction "
        f"error, -ELBO ({args.elbo_samples} seeded draws), IWAE NLL (k={args.nll_k}), "
        "Mahalanobis latent distance. The likelihood scores (-ELBO, NLL) suffer from the "
        "known bias of likelihoods towards simple images (few or faint pixels score as likely "
        "whatever their class), which is why they fall behind the reconstruction error. "
        "latentkit.apps.oneclass adds scores that compare a sample with the training images "
        "instead: NLL - complexity (Serrà et al. 2020; NLL in bits minus the zlib length of "
        f"the 8-bit image), code k-NN (mean distance to the {args.n_neighbors} nearest "
        "training codes), standardized reconstruction (each pixel's squared error divided "
        "by its mean training error + 1e-3), and sums of robust z-scores (training median "
        "and IQR) of these with the reconstruction error. The complexity correction is "
        "miscalibrated here: it needs the NLL of a likelihood over the 8-bit image, and this "
        "VAE's Bernoulli NLL over grey values is about a tenth of the zlib length (140 against "
        "1463 bits on 300 MNIST test images), so the score is almost minus the compressed "
        "length and ranks simple normal images as anomalous; the command line does not offer it."
    )
    peers = (
        "Peers on the same fitted images (784 features): IsolationForest (defaults, "
        "random_state=seed); OneClassSVM (RBF, gamma='scale', nu=0.1); PCA reconstruction "
        "error with the fewest components that explain 90% of the variance of the fitted "
        f"images ({components} components over the classes); PyOD 3.6.7 AutoEncoder "
        f"({ae_epochs} epochs) and VAE ({vae_epochs} epochs), otherwise defaults, verbose=0, "
        f"random_state=seed; fewer epochs than PyOD's defaults (and than latentkit's "
        f"{setup.epochs}) for time. PyOD's VAE loss "
        "clamps the KL term to [0, capacity] with capacity=0 by default, so it is run as is "
        "and with capacity=1e9 (KL active)."
    )
    return "\n\n".join([
        "Targets: " + " ".join(summary),
        protocol,
        ours,
        peers,
        "Literature: no published anchor is quoted (we are not certain enough of the exact "
        "per-class numbers of the papers to cite them).",
        f"{machine_line(args.threads)}; whole script wall time {minutes:.1f} min. Figure: "
        f"[per-class AUROC](figures/{figure.name}).",
    ])  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
