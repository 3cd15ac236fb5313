"""Sample quality of MNIST VAEs: a Fréchet distance on the features of a small MNIST classifier.

The metric ("FD-MNIST", defined here; the recipe of FID, Heusel et al. 2017, with a
classifier trained on MNIST in place of Inception, so its values do not compare with FID):

1. The script trains a small CNN on the 60000 grayscale MNIST training images (fixed seed):
   conv 3x3 stride 2 (16) - ReLU - conv 3x3 stride 2 (32) - ReLU - dense 128 - ReLU -
   dense 10; Adam 1e-3, batch 128, ``--classifier-epochs`` epochs. Its test accuracy is
   reported.
2. Features are the 128 penultimate activations (after the ReLU) of images in [0, 1].
3. A Gaussian is fitted to each set of features (mean, covariance with 1/(n-1)) and
   ``FD = |mu_1 - mu_2|^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2))`` is computed in float64 (the
   trace of the matrix square root from the eigenvalues of ``S_1^(1/2) S_2 S_1^(1/2)``).
4. Generated sets hold ``--n`` images (10000 by default), each compared with the 10000 test
   images. The floor is a seeded subset of as many real training images against the test
   images: FD is biased upwards for finite n, so the floor is the value real data reaches.

Models, each trained for ``--minutes`` of wall-clock time on dynamically binarized training
images; samples are the decoded means (pixel probabilities) of prior draws z ~ N(0, T^2 I):

- latentkit ``VAE``: MLP 784-512-256-(32), Bernoulli, ELBO, Adam 1e-3 with a cosine schedule,
  batch 128; at temperature T = 1 and T = ``--temperature`` (< 1);
- the same latentkit VAE with PyTorch's default ``nn.Linear`` init (the plain loop's) in place
  of latentkit's He init, T = 1: separates the effect of the initialisation from the trainer;
- the plain PyTorch loop of ``_mnist.py`` (same network, Adam 1e-3 constant, batch 128), T = 1.

Each model's mean ELBO on 2000 test images (binarized once, seed ``--seed``; 10 posterior
draws) is reported beside its FD: a better likelihood does not imply better prior samples.

A sample grid (first 64 samples) of each is saved under ``benchmarks/figures/``.

Usage::

    python benchmarks/sample_quality.py            # 3 minutes per VAE
    python benchmarks/sample_quality.py --quick    # smoke test, writes nothing
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mnist import (
    PlainVAE,
    add_common_arguments,
    fit_for_minutes,
    load_mnist,
    machine_line,
    save_grid,
    train_plain,
    write_section,
)
from _results import markdown_table, print_table

SECTION = "Sample quality (Fréchet distance on MNIST classifier features)"


class Classifier(nn.Module):
    """Small CNN; ``features`` gives the 128 penultimate activations."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.fc1, self.fc2 = nn.Linear(32 * 7 * 7, 128), nn.Linear(128, 10)

    def features(self, x: Tensor) -> Tensor:
        h = F.relu(self.conv1(x))  # (N, 16, 14, 14)
        h = F.relu(self.conv2(h))  # (N, 32, 7, 7)
        return F.relu(self.fc1(h.flatten(1)))  # (N, 128)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.features(x))  # (N, 10) logits


def train_classifier(x: Tensor, y: Tensor, epochs: int, seed: int) -> Classifier:
    torch.manual_seed(seed)
    model = Classifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(128):
            loss = F.cross_entropy(model(x[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


@torch.inference_mode()
def features(model: Classifier, x: Tensor) -> np.ndarray:
    """Penultimate activations ``(N, 128)`` as float64."""
    parts = [model.features(x[i : i + 1000]) for i in range(0, len(x), 1000)]
    return torch.cat(parts).double().numpy()


@torch.inference_mode()
def accuracy(model: Classifier, x: Tensor, y: Tensor) -> float:
    logits = torch.cat([model(x[i : i + 1000]) for i in range(0, len(x), 1000)])
    return float((logits.argmax(1) == y).float().mean())


def _sqrt_psd(a: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((a + a.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(f1: np.ndarray, f2: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to the rows of ``f1`` and ``f2``.

    Parameters
    ----------
    f1, f2 : ndarray of shape (n_samples, n_features)

    Returns
    -------
    float
        ``|mu_1 - mu_2|^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2))``, >= 0.
    """
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    r = _sqrt_psd(s1)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(r @ s2 @ r), 0, None)).sum()  # Tr (S1 S2)^(1/2)
    return float(max(np.square(mu1 - mu2).sum() + np.trace(s1) + np.trace(s2) - 2 * cross, 0.0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, minutes=3.0)
    parser.add_argument("--classifier-epochs", type=int, default=3)
    parser.add_argument("--n", type=int, default=10000, help="generated samples per model")
    parser.add_argument("--temperature", type=float, default=0.8, help="the T < 1 row")
    args = parser.parse_args(argv)
    if args.quick:
        args.minutes, args.classifier_epochs, args.n = 0.03, 1, 300
    torch.set_num_threads(args.threads)
    wall = time.perf_counter()
    x_train, y_train = load_mnist("train", 2048 if args.quick else None)
    x_test, y_test = load_mnist("test", 1000 if args.quick else None)

    start = time.perf_counter()
    clf = train_classifier(x_train, y_train, args.classifier_epochs, args.seed)
    clf_s, clf_acc = time.perf_counter() - start, accuracy(clf, x_test, y_test)
    print(f"classifier: test accuracy {clf_acc:.2%} ({clf_s:.0f} s)", flush=True)
    real = features(clf, x_test)
    x_elbo = torch.bernoulli(x_test[:2000], generator=torch.Generator().manual_seed(args.seed))

    def test_elbo(model: nn.Module) -> str:
        """Mean one-sample ELBO (nats) of ``x_elbo``, binarized once with a fixed seed."""
        from latentkit.evaluation import elbo

        gen = torch.Generator().manual_seed(args.seed)
        with torch.inference_mode():
            return f"{float(elbo(model, x_elbo, samples=10, generator=gen).mean()):.2f}"

    gen = torch.Generator().manual_seed(args.seed)
    floor_idx = torch.randperm(len(x_train), generator=gen)[: min(len(x_test), len(x_train))]
    rows: list[list[object]] = [
        ["real training images (floor)", len(floor_idx), "", "", "",
         f"{frechet_distance(features(clf, x_train[floor_idx]), real):.2f}", "real_train.png"],
    ]  # fmt: skip
    grids = {"real_train.png": x_train[floor_idx[:64]]}  # the floor's own images

    # -- latentkit VAE -----------------------------------------------------------------------
    from latentkit import VAE, VAEConfig
    from latentkit.nn import NetworkConfig

    def make(steps: int, torch_init: bool = False) -> nn.Module:
        torch.manual_seed(args.seed)
        config = VAEConfig(input_shape=(1, 28, 28), latent_dim=32, likelihood="bernoulli",
                           network=NetworkConfig(kind="mlp", hidden=(512, 256)))  # fmt: skip
        vae = VAE(config)
        if torch_init:  # PyTorch's own Linear init, as the plain loop has, instead of He init
            for module in vae.modules():
                if isinstance(module, nn.Linear):
                    module.reset_parameters()
        return vae

    options = dict(batch_size=128, lr=1e-3, scheduler="cosine", binarize="dynamic",
                   seed=args.seed, num_threads=args.threads)  # fmt: skip
    for torch_init in (False, True):
        vae, run = fit_for_minutes(
            lambda steps, ti=torch_init: make(steps, ti), x_train, args.minutes * 60, options
        )
        vae.eval()
        label = "latentkit VAE, PyTorch init" if torch_init else "latentkit VAE"
        for t in (1.0,) if torch_init else (1.0, args.temperature):
            with torch.inference_mode():
                gen = torch.Generator().manual_seed(args.seed + 1)
                samples = vae.sample(args.n, temperature=t, generator=gen)
            name = f"latentkit_vae{'_torch_init' if torch_init else ''}_t{t:g}.png"
            grids[name] = samples[:64]
            fd = frechet_distance(features(clf, samples), real)
            rows.append([f"{label}, T={t:g}", args.n, f"{run.seconds / 60:.1f}",
                         f"{run.epochs}/{run.planned_epochs}", test_elbo(vae), f"{fd:.2f}",
                         name])  # fmt: skip

    # -- plain PyTorch loop ------------------------------------------------------------------
    torch.manual_seed(args.seed)
    plain = PlainVAE(latent=32)
    prun = train_plain(plain, x_train, args.minutes * 60, seed=args.seed)
    plain.eval()
    samples = plain.sample(args.n, generator=torch.Generator().manual_seed(args.seed + 1))
    grids["plain_vae_t1.png"] = samples[:64]
    rows.append(["plain PyTorch VAE, T=1", args.n, f"{prun.seconds / 60:.1f}",
                 f"{prun.epochs:.1f}", test_elbo(plain),
                 f"{frechet_distance(features(clf, samples), real):.2f}",
                 "plain_vae_t1.png"])  # fmt: skip

    # -- output ------------------------------------------------------------------------------
    write = not (args.quick or args.no_write)
    for row in rows:
        if write:
            path = save_grid(grids[row[-1]], args.figures / f"sample_quality_{row[-1]}")
            row[-1] = f"![{row[0]}](figures/{path.name})"
        else:
            row[-1] = "(not saved)"
    headers = ["samples", "n", "training (min)", "epochs",
               f"test ELBO ({len(x_elbo)} images)", f"FD-MNIST vs {len(x_test)} test",
               "grid"]  # fmt: skip
    table = markdown_table(headers, rows)
    print_table("Fréchet distance on classifier features (lower is better)", table)
    notes = "\n\n".join([
        f"Budget: {args.minutes:g} min of training wall time per VAE"
        f"{'; quick mode' if args.quick else ''}. Classifier: small CNN, "
        f"{args.classifier_epochs} epochs ({clf_s:.0f} s), test accuracy {clf_acc:.2%}. "
        f"{machine_line(args.threads)}; seeds: classifier, models and floor subset "
        f"{args.seed}, samples {args.seed + 1}. Whole script wall time: "
        f"{(time.perf_counter() - wall) / 60:.1f} min.",
        "FD-MNIST: the Fréchet distance between Gaussians fitted to the 128 penultimate "
        "activations of the classifier for the samples and for the test images "
        "(see the docstring of `benchmarks/sample_quality.py`). Samples are the decoded means "
        "(pixel probabilities) of prior draws z ~ N(0, T^2 I). Values are specific to this "
        "classifier and do not compare with FID.",
        "Initialisation: latentkit initialises Linear layers with He (Kaiming normal) weights "
        "and zero biases; the plain loop keeps PyTorch's default (uniform, about 1/sqrt(3) "
        "of He's scale). The PyTorch-init row trains the same latentkit model with the same "
        "Trainer and budget from PyTorch's init, so the difference between the first and that "
        "row comes from the initialisation (the epochs reached within the budget may differ).",
    ])  # fmt: skip
    if write:
        write_section(args.results, SECTION, table, notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
