"""Unsupervised anomaly detection on scikit-learn's bundled tables: latentkit's VAEOutlierDetector
against IsolationForest and PyOD detectors.

Tasks (ODDS-style: a labelled table turned into normal rows plus a small fraction of
anomalies; a fresh seeded subsample of the anomalies for every seed):

- ``breast cancer`` (569 x 30): the 357 benign rows are normal; malignant rows are subsampled
  so that they make up ``--fraction`` (8%) of the task, i.e. 31 of the 212;
- ``wine`` (178 x 13): each of the three cultivars in turn is the anomaly class, subsampled to
  8% of the task against the other two cultivars; the dataset's score is the mean of the
  three tasks;
- ``digits`` (1797 x 64, 8x8 images): each digit in turn is normal; the other nine digits are
  subsampled (uniformly over those rows) to 10% of the task; the dataset's score is the mean
  of the ten tasks.

Protocol: features are standardised (z-scores over the task's rows; constant columns set to
0) the same way for every method; each detector is fitted on all rows of the task
(contaminated, as in ODDS) and scores the same rows; the metric is the AUROC. Each seed draws
new anomalies and seeds every method; the table shows the mean ± std over ``--seeds`` seeds
of each dataset's score, and the overall mean of the three datasets.

Methods (defaults unless said, ``random_state=seed`` where there is one):

- latentkit ``VAEOutlierDetector()`` with its defaults (no per-dataset tuning);
- scikit-learn ``IsolationForest()``;
- PyOD 3.6.7: ``AutoEncoder``, ``VAE`` (default: its loss clamps the KL term to
  ``capacity=0``, so the KL is inactive) and ``VAE(capacity=1e9)`` (KL active), all
  ``verbose=0``; and the classic ``KNN``, ``LOF``, ``OCSVM``, ``ECOD``, ``COPOD``. PyOD
  detectors are scored with ``decision_scores_`` (their scores of the fitted rows; for KNN and
  LOF a row is not its own neighbour), the others with ``-score_samples``.

Usage::

    python benchmarks/anomaly_tabular.py --threads 1
    python benchmarks/anomaly_tabular.py --quick        # smoke test, writes nothing
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mnist import add_run_arguments, machine_line, write_section
from _results import markdown_table, print_table

SECTION = "Tabular anomaly detection (scikit-learn tables, ODDS-style)"
DATASETS = ("breast cancer", "wine", "digits")


@dataclass
class Task:
    """One anomaly task: standardised rows and 0/1 anomaly labels."""

    x: np.ndarray  # (n_samples, n_features)
    anomalous: np.ndarray  # (n_samples,)


def anomaly_count(n_normal: int, fraction: float) -> int:
    """Anomalies to add to ``n_normal`` rows so that they make up ``fraction`` of all rows."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}.")
    return max(1, round(fraction * n_normal / (1 - fraction)))


def standardise(x: np.ndarray) -> np.ndarray:
    """Z-scores per column; constant columns become 0."""
    x = np.asarray(x, dtype=np.float64)
    std = x.std(0)
    return (x - x.mean(0)) / np.where(std > 0, std, 1.0)


def make_task(x: np.ndarray, normal: np.ndarray, pool: np.ndarray, fraction: float,
              rng: np.random.Generator) -> Task:  # fmt: skip
    """Rows ``normal`` plus a random subsample of ``pool`` making up ``fraction`` of the task."""
    n = min(anomaly_count(len(normal), fraction), len(pool))
    anomalies = rng.choice(pool, size=n, replace=False)
    rows = np.concatenate([normal, anomalies])
    labels = np.r_[np.zeros(len(normal)), np.ones(n)]
    return Task(standardise(x[rows]), labels)


def tasks_of(name: str, seed: int, quick: bool = False) -> list[Task]:
    """The tasks of dataset ``name`` for one seed (see the module docstring)."""
    from sklearn import datasets

    rng = np.random.default_rng(seed)
    if name == "breast cancer":
        data = datasets.load_breast_cancer()
        benign, malignant = np.flatnonzero(data.target == 1), np.flatnonzero(data.target == 0)
        return [make_task(data.data, benign, malignant, 0.08, rng)]
    if name == "wine":
        data = datasets.load_wine()
        classes = [0] if quick else [0, 1, 2]
        return [
            make_task(data.data, np.flatnonzero(data.target != c),
                      np.flatnonzero(data.target == c), 0.08, rng)
            for c in classes
        ]  # fmt: skip
    if name == "digits":
        data = datasets.load_digits()
        digits = [0, 1] if quick else range(10)
        return [
            make_task(data.data, np.flatnonzero(data.target == d),
                      np.flatnonzero(data.target != d), 0.10, rng)
            for d in digits
        ]  # fmt: skip
    raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}.")


def make_methods(seed: int, quick: bool) -> dict[str, Callable[[], object]]:
    """Factories of the detectors, each with ``fit`` and a way to score the fitted rows."""
    from pyod.models.auto_encoder import AutoEncoder
    from pyod.models.copod import COPOD
    from pyod.models.ecod import ECOD
    from pyod.models.knn import KNN
    from pyod.models.lof import LOF
    from pyod.models.ocsvm import OCSVM
    from pyod.models.vae import VAE
    from sklearn.ensemble import IsolationForest

    from latentkit.sklearn import VAEOutlierDetector

    short = {"epoch_num": 2} if quick else {}
    return {
        "latentkit VAEOutlierDetector (defaults)": lambda: VAEOutlierDetector(
            random_state=seed, **({"epochs": 2} if quick else {})),
        "IsolationForest": lambda: IsolationForest(random_state=seed),
        "PyOD AutoEncoder": lambda: AutoEncoder(random_state=seed, verbose=0, **short),
        "PyOD VAE (default, KL clamped)": lambda: VAE(random_state=seed, verbose=0, **short),
        "PyOD VAE (KL active)": lambda: VAE(random_state=seed, verbose=0, capacity=1e9,
                                            **short),
        "PyOD KNN": KNN,
        "PyOD LOF": LOF,
        "PyOD OCSVM": OCSVM,
        "PyOD ECOD": ECOD,
        "PyOD COPOD": COPOD,
    }  # fmt: skip


def fitted_scores(detector: object, x: np.ndarray, seed: int) -> np.ndarray:
    """Fit on ``x`` and return anomaly scores of the same rows (higher = more anomalous)."""
    torch.manual_seed(seed)  # PyOD's VAE samples z when scoring
    detector.fit(x)  # type: ignore[attr-defined]
    if hasattr(detector, "decision_scores_"):
        return np.asarray(detector.decision_scores_)  # PyOD
    return -detector.score_samples(x)  # type: ignore[attr-defined]


def run(seeds: list[int], datasets: list[str], quick: bool) -> tuple[dict, dict]:
    """AUROC[method][dataset] as a list over seeds (mean over the dataset's tasks) and the
    seconds per method."""
    from latentkit.evaluation.metrics import auroc

    scores: dict[str, dict[str, list[float]]] = {}
    seconds: dict[str, float] = {}
    for seed in seeds:
        for name in datasets:
            tasks = tasks_of(name, seed, quick)
            for method, factory in make_methods(seed, quick).items():
                start = time.perf_counter()
                values = [auroc(fitted_scores(factory(), t.x, seed), t.anomalous) for t in tasks]
                seconds[method] = seconds.get(method, 0.0) + time.perf_counter() - start
                scores.setdefault(method, {}).setdefault(name, []).append(float(np.mean(values)))
            line = ", ".join(f"{m} {v[name][-1]:.3f}" for m, v in scores.items())
            print(f"seed {seed}, {name} ({len(tasks)} tasks): {line}", flush=True)
    return scores, seconds


def table_rows(scores: dict, seconds: dict, datasets: list[str]) -> list[list[object]]:
    rows: list[list[object]] = []
    for method, per_dataset in scores.items():
        cells = [f"{np.mean(per_dataset[d]):.3f} ± {np.std(per_dataset[d]):.3f}" for d in datasets]
        overall = np.mean([per_dataset[d] for d in datasets], axis=0)  # (seeds,)
        rows.append([method, *cells, f"{overall.mean():.3f} ± {overall.std():.3f}",
                     f"{seconds[method]:.1f}"])  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, threads=1, seed_help="first seed")
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds = 1
    torch.set_num_threads(args.threads)
    wall = time.perf_counter()
    seeds = list(range(args.seed, args.seed + args.seeds))
    datasets = list(DATASETS)
    scores, seconds = run(seeds, datasets, args.quick)
    headers = ["method", *datasets, "overall mean", "seconds"]
    table = markdown_table(headers, table_rows(scores, seconds, datasets))
    print_table(f"AUROC, mean ± std over {len(seeds)} seeds", table)
    ours = np.mean([scores["latentkit VAEOutlierDetector (defaults)"][d] for d in datasets])
    forest = np.mean([scores["IsolationForest"][d] for d in datasets])
    verdict = (
        "Target (latentkit at or above IsolationForest's overall mean): "
        f"{'met' if ours >= forest else 'not met'} ({ours:.3f} vs {forest:.3f})."
    )
    print(verdict)
    if args.quick or args.no_write:
        return 0
    minutes = (time.perf_counter() - wall) / 60
    notes = "\n\n".join([
        verdict,
        "Tasks: breast cancer (357 benign rows normal + 31 malignant, 8%), wine (each "
        "cultivar in turn as the 8% anomaly class against the other two; mean of 3 tasks), "
        "digits (each digit in turn normal + 10% rows of the other digits; mean of 10 "
        "tasks). Anomalies are a fresh subsample per seed. Every method is fitted on all rows "
        "of a task and scores the same rows (unsupervised, contaminated, as in ODDS); features "
        "are z-scored over the task's rows for every method. Cells: AUROC mean ± std over "
        f"seeds {seeds[0]}..{seeds[-1]} of the dataset's mean over its tasks; overall mean: "
        "the mean of the three datasets. `seconds`: fit + scoring, all seeds and tasks.",
        "No parameter was tuned: latentkit's VAEOutlierDetector runs with its defaults (ELBO "
        "score, 4-D code, MLP (32,), epochs from the table size), the peers with theirs (PyOD "
        "3.6.7: AutoEncoder 10 epochs, VAE 30 epochs; VAE also with capacity=1e9 because its "
        "default clamps the KL term to 0; KNN k=5 largest-distance, LOF 20 neighbours, OCSVM "
        "RBF nu=0.5, ECOD, COPOD). Before this run, other settings of VAEOutlierDetector were "
        "tried on seeds 100 and 101 of the same tasks (never on the seeds reported here): the "
        "reconstruction, IWAE and latent-distance scores, latent size 2 or 8, hidden layers "
        "(64,), (128,) or (64, 32), 10 or 100 epochs, learned-scale and sigma-VAE Gaussian "
        "likelihoods. None reached IsolationForest's mean on those seeds, so the library "
        "defaults were left unchanged. Literature: no anchor is quoted (these tables are not "
        "the ODDS versions).",
        f"{machine_line(args.threads)}; whole script wall time {minutes:.1f} min.",
    ])  # fmt: skip
    write_section(args.results, SECTION, table, notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
