"""Disentanglement on dSprites: beta-VAE (beta 1, 4, 8), beta-TCVAE and FactorVAE, 3 seeds each,
scored with MIG, SAP, DCI and the FactorVAE score beside the published ranges.

Data: ``latentkit.datasets.load("dsprites")``, drawn procedurally (737,280 64 x 64 binary
images; see :mod:`latentkit.data.dsprites` for how it differs from the original's pixels).

Protocol (a CPU budget, far below disentanglement_lib's 300,000 steps of batches of 64):

- every model: latentkit ``VAE`` family, MLP encoder 4096-256-256-(10) and its mirror,
  Bernoulli likelihood, latent_dim 10, Adam lr ``--lr`` (1e-3), batches of 64,
  ``--steps`` (2,000) optimisation steps (one pass over ``steps * 64`` distinct rows drawn at
  random from the full grid with the run's seed: a subset of the grid, no row seen twice);
- beta-VAE: ``VAE(beta=b)`` for b in 1, 4, 8 (beta 1 is the plain VAE);
- beta-TCVAE: ``VAE(tc_weight=6, tc_dataset_size=737280)`` (Chen et al. 2018: alpha = gamma =
  1, beta = 6, minibatch-weighted sampling);
- FactorVAE: ``FactorVAE(gamma=30)`` (Kim and Mnih 2018 report gamma 30-40 best on dSprites),
  discriminator 3 x 512 LeakyReLU, Adam 1e-4 betas (0.5, 0.9), one discriminator step per VAE
  step (the trainer's auxiliary step);
- the settings are fixed in advance from the papers (no search on the scores).

Metrics (:mod:`latentkit.evaluation.disentanglement`, disentanglement_lib's definitions) on the
posterior means of ONE fixed sample of 10,000 rows of the full grid (numpy seed 2019, the
same for every model): MIG (20 bins), FactorVAE score (10,000 / 5,000 votes of batches of
64), SAP (the last third held out); DCI on the first 2,000 of those rows (two thirds fit the
gradient-boosted trees, with ``--dci-trees`` (10) boosting stages instead of 100 to fit the
CPU budget; one third held out). Published (Locatello et al. 2019, Fig. 13, dSprites): MIG of
beta-VAE and beta-TCVAE mostly 0.1-0.35 with a wide spread over seeds (the methods' ranges
overlap; no separate FactorVAE anchor is claimed here).

A traversal figure (``disentanglement_traversals.png``) shows the model with the best MIG:
each latent, ordered by its KL (largest first), varied over [-2.5, 2.5] around the code of one
fixed image, labelled with the factor of highest normalised mutual information (none below
0.1; :func:`latentkit.evaluation.latent_factors`).

Usage::

    python benchmarks/disentanglement.py --threads 1           # full run (15 models)
    python benchmarks/disentanglement.py --quick               # smoke test, writes nothing
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mnist import add_run_arguments, machine_line, write_section
from _results import markdown_table, print_table

SECTION = "Disentanglement (dSprites: MIG, SAP, DCI, FactorVAE score)"
TOTAL = 737_280
#: model name -> (registry type, config fields)
MODELS: dict[str, tuple[str, dict]] = {
    "beta-VAE (beta 1)": ("vae", {"beta": 1.0}),
    "beta-VAE (beta 4)": ("vae", {"beta": 4.0}),
    "beta-VAE (beta 8)": ("vae", {"beta": 8.0}),
    "beta-TCVAE (beta 6)": ("vae", {"tc_weight": 6.0, "tc_dataset_size": TOTAL}),
    "FactorVAE (gamma 30)": ("factor_vae", {"gamma": 30.0}),
}
#: Locatello et al. 2019 (dSprites, 300,000 steps, 50 models per setting): the anchor this
#: project's issue states; the six methods' score ranges overlap widely, seeds mattering as much
PUBLISHED = {
    "beta-VAE (beta 1)": "MIG mostly 0.1-0.35 (beta-VAE grid)",
    "beta-VAE (beta 4)": "MIG mostly 0.1-0.35",
    "beta-VAE (beta 8)": "MIG mostly 0.1-0.35",
    "beta-TCVAE (beta 6)": "MIG mostly 0.1-0.35",
    "FactorVAE (gamma 30)": "overlaps the others (no separate anchor here)",
}
TARGET_MIG = 0.3


def evaluation_sample(data, n: int) -> tuple[torch.Tensor, np.ndarray]:
    """The fixed evaluation rows: images (n, 1, 64, 64) and factor classes (n, 5)."""
    rows = np.random.default_rng(2019).choice(TOTAL, n, replace=False)
    return data.x[rows], data.factors[torch.from_numpy(rows)].numpy()


def train(name: str, data, seed: int, args: argparse.Namespace):
    from latentkit.models.registry import create_model
    from latentkit.training import TrainConfig, Trainer

    model_type, fields = MODELS[name]
    network = {"kind": "mlp", "hidden": [256, 256]}
    model = create_model(model_type, (1, 64, 64), seed=seed, latent_dim=10, network=network,
                         **fields)  # fmt: skip
    rows = np.random.default_rng(1000 + seed).choice(TOTAL, args.steps * 64, replace=False)
    subset = data.subset(torch.from_numpy(rows))  # lazy: each batch is drawn when used
    config = TrainConfig(epochs=1, batch_size=64, lr=args.lr, seed=seed, progress=False,
                         num_threads=args.threads)  # fmt: skip
    start = time.perf_counter()
    Trainer(config).fit(model, subset)
    return model.eval(), time.perf_counter() - start


def score(model, x: torch.Tensor, factors: np.ndarray, args: argparse.Namespace) -> dict:
    from latentkit.evaluation import dci, factor_vae_score, mig, posterior_means, sap

    codes = posterior_means(model, x).numpy()  # (n, 10)
    n_dci = min(len(codes), args.dci_rows)
    d, c, i = dci(codes[:n_dci], factors[:n_dci], n_estimators=args.dci_trees)
    votes = {"n_train": args.votes, "n_eval": args.votes // 2}
    return {
        "MIG": mig(codes, factors),
        "FactorVAE": factor_vae_score(codes, factors, **votes),
        "SAP": sap(codes, factors),
        "DCI-D": d,
        "DCI-C": c,
        "DCI-I": i,
    }


def mean_spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def traversal_figure(model, data, x: torch.Tensor, factors: np.ndarray, path: Path) -> Path:
    from latentkit.evaluation import kl_per_dimension, latent_factors, posterior_means
    from latentkit.viz.context import latent_traversals
    from latentkit.viz.factors import traversal_labels
    from latentkit.viz.plots import plot_traversals

    kl = kl_per_dimension(model, x[:2000])
    order = torch.argsort(kl, descending=True).tolist()
    names = latent_factors(posterior_means(model, x).numpy(), factors, data.meta["factor_names"])
    values = torch.linspace(-2.5, 2.5, 9)
    images = latent_traversals(model, x[:1], dims=order, values=values)
    labels = traversal_labels(order, kl, names)
    title = "latents by KL (nats), with the factor each tells most about"
    fig = plot_traversals(images, values, dims=order, labels=labels, title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def summary(
    results: dict[str, list[dict]], best: tuple, args: argparse.Namespace, wall: float, planned: int
) -> tuple[str, str]:
    """The Markdown table (mean ± sd over seeds) and its notes."""
    metrics = ["MIG", "FactorVAE", "SAP", "DCI-D", "DCI-C", "DCI-I", "minutes"]
    rows = [[name, len(runs), *[mean_spread([r[m] for r in runs]) for m in metrics],
             PUBLISHED[name]] for name, runs in results.items()]  # fmt: skip
    headers = ["model", "seeds", "MIG", "FactorVAE score", "SAP", "DCI disent.", "DCI compl.",
               "DCI inform.", "train min", "published (Locatello et al. 2019)"]  # fmt: skip
    best_mig, best_name, best_seed = best
    per_seed = "; ".join(f"{n}: " + ", ".join(f"{r['MIG']:.3f}" for r in runs)
                         for n, runs in results.items())  # fmt: skip
    done = sum(len(runs) for runs in results.values())
    met = "met" if best_mig >= TARGET_MIG else "NOT met"
    notes = (
        f"Mean ± standard deviation over seeds 0..{args.seeds - 1} (initial weights, training "
        f"rows and batches); {done} of {planned} planned runs done. Each model: {args.steps} "
        f"steps of 64 rows (MLP 256-256, latent 10, Adam {args.lr:g}); metrics on a fixed "
        f"sample of {args.eval_rows} rows (DCI: {args.dci_rows} rows, {args.dci_trees} boosting "
        f"stages). MIG per seed: {per_seed}. Target best MIG >= {TARGET_MIG}: {met} (best "
        f"{best_mig:.3f}, {best_name} seed {best_seed}). Wall time so far {wall:.1f} min, "
        f"{machine_line(args.threads)} (the machine was shared with other jobs, so times are "
        "upper bounds). The published ranges come from 300,000 training steps; this CPU budget "
        f"is {args.steps / 300_000:.1%} of that. Figure: "
        "`benchmarks/figures/disentanglement_traversals.png` (the best-MIG model; rows ordered "
        "by KL, labelled with the factor of highest mutual information)."
    )
    return markdown_table(headers, rows), notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, threads=1)
    parser.add_argument("--steps", type=int, default=2000, help="optimisation steps per model")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--eval-rows", type=int, default=10_000)
    parser.add_argument("--dci-rows", type=int, default=2_000)
    parser.add_argument("--dci-trees", type=int, default=10)
    parser.add_argument("--votes", type=int, default=10_000)
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args()
    if args.quick:
        args.steps, args.seeds, args.eval_rows, args.dci_rows, args.dci_trees = 20, 1, 600, 300, 3
        args.votes = 200
    torch.set_num_threads(args.threads)
    from latentkit import datasets

    data = datasets.load("dsprites")
    x, factors = evaluation_sample(data, args.eval_rows)
    results: dict[str, list[dict]] = {name: [] for name in args.models}
    best: tuple = (-1.0, None, None)
    start = time.perf_counter()
    write = not (args.quick or args.no_write)
    planned = args.seeds * len(args.models)
    for seed in range(args.seeds):  # seed-major: a cut-short run still covers every model
        for name in args.models:
            model, seconds = train(name, data, seed, args)
            scores = score(model, x, factors, args) | {"minutes": seconds / 60}
            results[name].append(scores)
            print(f"{name} seed {seed}: " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()),
                  flush=True)  # fmt: skip
            improved = scores["MIG"] > best[0]
            if improved:
                best = (scores["MIG"], name, seed)
            if write:  # after every run: the section always holds what is done
                if improved:
                    traversal_figure(model, data, x, factors,
                                     args.figures / "disentanglement_traversals.png")  # fmt: skip
                wall = (time.perf_counter() - start) / 60
                done = {n: r for n, r in results.items() if r}
                write_section(args.results, SECTION, *summary(done, best, args, wall, planned))
    wall = (time.perf_counter() - start) / 60
    table, notes = summary({n: r for n, r in results.items() if r}, best, args, wall, planned)
    print_table(SECTION, table)
    print(notes)


if __name__ == "__main__":
    main()
