"""A deep autoencoder against PCA with 30-D codes on MNIST, beside Hinton and Salakhutdinov (2006).

Metric (as in "Reducing the dimensionality of data with neural networks", Science 2006, Fig. 2):
on the 10000 MNIST test images with pixels in [0, 1], the squared reconstruction error summed
over the 784 pixels, averaged over the images. Anchors: deep autoencoder 3.00, PCA 13.87.

- PCA: exact, from the eigendecomposition (float64) of the covariance of the 60000 training
  images; the test images are projected on the top 30 components and mapped back.
- latentkit: ``Autoencoder`` with an MLP 784-1000-500-250-(30) (ReLU; the decoder mirrors it),
  trained on the grayscale training images for ``--minutes`` of wall-clock time with Adam and
  a cosine schedule; ``--reconstruction bce`` (cross-entropy on logits with a sigmoid output,
  the paper's choice for MNIST) or ``mse``. The test error is also taken at checkpoints in
  training time (evaluation time not counted). Regularisers for the fit: ``--dropout``,
  ``--weight-decay`` (AdamW), ``--corruption`` (a denoising objective, e.g. ``mask:0.1``), and
  ``--network conv`` for a convolutional encoder and decoder.

Settings are compared with ``--validation``: it trains on the first 50000 training images for
``--epochs`` epochs (a fixed length, so the comparison does not depend on the machine's load),
scores the last 10000 and writes nothing; the test set is left alone.

Usage::

    python benchmarks/ae_vs_pca.py                 # 15 minutes of training
    python benchmarks/ae_vs_pca.py --validation --epochs 20 --dropout 0.1   # compare settings
    python benchmarks/ae_vs_pca.py --quick         # smoke test, writes nothing
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mnist import add_common_arguments, fit_for_minutes, load_mnist, machine_line, write_section
from _results import markdown_table, print_table
from latentkit.nn import NetworkConfig
from latentkit.training import CorruptionConfig

SECTION = "Autoencoder vs PCA (MNIST, 30-D codes)"
ANCHOR_AE, ANCHOR_PCA = 3.00, 13.87


def squared_error(x: Tensor, x_hat: Tensor) -> float:
    """Mean over images of the squared error summed over pixels."""
    return float((x_hat.flatten(1).double() - x.flatten(1).double()).square().sum(1).mean())


def pca_errors(train: Tensor, test: Tensor, dims: int) -> tuple[float, float, float]:
    """Train and test error of a ``dims``-component PCA fitted on ``train``; and seconds."""
    start = time.perf_counter()
    a = train.flatten(1).double()  # (N, 784)
    mean = a.mean(0)
    cov = (a - mean).T @ (a - mean) / len(a)  # (784, 784)
    _, vectors = torch.linalg.eigh(cov)  # ascending eigenvalues
    basis = vectors[:, -dims:]  # (784, dims)

    def project(x: Tensor) -> Tensor:
        centred = x.flatten(1).double() - mean
        return centred @ basis @ basis.T + mean

    seconds = time.perf_counter() - start
    return squared_error(train, project(train)), squared_error(test, project(test)), seconds


def corruption(spec: str | None) -> CorruptionConfig | None:
    """``KIND:AMOUNT`` as a ``CorruptionConfig`` (None for no corruption)."""
    if spec is None:
        return None
    kind, _, amount = spec.partition(":")
    return CorruptionConfig(kind=kind, amount=float(amount or 0.1))


@torch.inference_mode()
def ae_error(model: nn.Module, x: Tensor) -> float:
    model.eval()
    x_hat = torch.cat([model.reconstruct(x[i : i + 1000]) for i in range(0, len(x), 1000)])
    model.train()
    return squared_error(x, x_hat)


def describe(args: argparse.Namespace, hidden: tuple[int, ...], channels: tuple[int, ...]) -> str:
    """The autoencoder's setup, for the table."""
    if args.network == "conv":
        net = f"conv {'-'.join(map(str, channels))} channels, dense {NetworkConfig().dense}"
    else:
        net = f"MLP {'-'.join(str(h) for h in (784, *hidden))}"
    extras = [f"dropout {args.dropout:g}" if args.dropout else "",
              f"weight decay {args.weight_decay:g}" if args.weight_decay else "",
              f"corruption {args.corruption}" if args.corruption else ""]  # fmt: skip
    optimizer = "AdamW" if args.weight_decay else "Adam"
    return ", ".join([f"{net}-({args.latent})", args.reconstruction, *filter(None, extras),
                      f"{optimizer} {args.lr:g} cosine, batch {args.batch_size}"])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, minutes=15.0)
    parser.add_argument("--latent", type=int, default=30)
    parser.add_argument("--hidden", default="1000,500,250", help="MLP encoder widths")
    parser.add_argument("--reconstruction", choices=["bce", "mse"], default="bce")
    parser.add_argument("--network", choices=["mlp", "conv"], default="mlp")
    parser.add_argument("--channels", default="32,64", help="conv channels per stage (--hidden "
                        "is not used with --network conv)")  # fmt: skip
    parser.add_argument("--dropout", type=float, default=0.0, help="in the dense layers")
    parser.add_argument("--weight-decay", type=float, default=0.0, help="> 0 switches to AdamW")
    parser.add_argument("--corruption", metavar="KIND:AMOUNT", help="denoising, e.g. mask:0.1")
    parser.add_argument(
        "--validation",
        action="store_true",
        help="train on 50000 images, score the other 10000, write nothing",
    )
    parser.add_argument("--epochs", type=int, help="fixed length instead of --minutes")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--checkpoint-minutes", type=float, default=1.5)
    args = parser.parse_args(argv)
    if args.validation and args.epochs is None and not args.quick:
        parser.error("--validation compares settings at a fixed length: give --epochs N")
    if args.quick:
        args.minutes, args.checkpoint_minutes = 0.05, 0.02
    torch.set_num_threads(args.threads)
    wall = time.perf_counter()
    x_train, _ = load_mnist("train", 2048 if args.quick else None)
    x_test, _ = load_mnist("test", 1000 if args.quick else None)
    if args.validation:  # the held-out end of the training set stands in for the test set
        held_out = len(x_train) // 6
        x_train, x_test = x_train[:-held_out].contiguous(), x_train[-held_out:].contiguous()
        args.no_write = True
    scored = "validation" if args.validation else "test"

    pca_train, pca_test, pca_s = pca_errors(x_train, x_test, args.latent)
    print(f"PCA ({args.latent} components): test {pca_test:.2f}, train {pca_train:.2f} "
          f"({pca_s:.1f} s)", flush=True)  # fmt: skip

    from latentkit import Autoencoder, AutoencoderConfig

    hidden = tuple(int(h) for h in args.hidden.split(","))
    channels = tuple(int(c) for c in args.channels.split(","))
    holder: dict[str, nn.Module] = {}

    def make(steps: int) -> nn.Module:
        torch.manual_seed(args.seed)
        config = AutoencoderConfig(
            input_shape=(1, 28, 28), latent_dim=args.latent,
            network=NetworkConfig(kind=args.network, hidden=hidden, channels=channels,
                                  dropout=args.dropout),
            reconstruction=args.reconstruction, output_activation="sigmoid",
        )  # fmt: skip
        holder["model"] = Autoencoder(config)
        return holder["model"]

    curve: list[list[object]] = []

    def checkpoint(seconds: float, epoch: int) -> None:
        error = ae_error(holder["model"], x_test)
        curve.append([f"{seconds / 60:.2f}", epoch, f"{error:.2f}"])
        print(f"{seconds / 60:.1f} min, epoch {epoch}: {scored} error {error:.2f}", flush=True)

    options = dict(batch_size=args.batch_size, lr=args.lr, scheduler="cosine",
                   seed=args.seed, num_threads=args.threads, channels_last=args.network == "conv",
                   optimizer="adamw" if args.weight_decay else "adam",
                   weight_decay=args.weight_decay,
                   corruption=corruption(args.corruption))  # fmt: skip
    model, run = fit_for_minutes(make, x_train, args.minutes * 60, options,
                                 checkpoint_s=args.checkpoint_minutes * 60,
                                 on_checkpoint=checkpoint, epochs=args.epochs)  # fmt: skip
    if not curve or curve[-1][1] != run.epochs:
        checkpoint(run.seconds, run.epochs)
    ae_test, ae_train = ae_error(model, x_test), ae_error(model, x_train)
    rows = [
        [f"latentkit Autoencoder {describe(args, hidden, channels)}", f"{run.seconds / 60:.1f}",
         f"{run.epochs}/{run.planned_epochs}", f"{ae_test:.2f}", f"{ae_train:.2f}",
         f"{ANCHOR_AE:.2f}"],
        [f"PCA, {args.latent} components (exact, fit on train)", f"{pca_s / 60:.2f}", "",
         f"{pca_test:.2f}", f"{pca_train:.2f}", f"{ANCHOR_PCA:.2f}"],
    ]  # fmt: skip
    headers = ["method", "fit time (min)", "epochs (run/planned)", f"{scored} error", "train error",
               "Hinton & Salakhutdinov 2006"]  # fmt: skip
    table = markdown_table(headers, rows)
    curve_table = markdown_table(["training time (min)", "epoch", f"{scored} error"], curve)
    print_table("Squared reconstruction error per MNIST image (summed over pixels)", table)
    print_table(f"Autoencoder {scored} error against training time", curve_table)
    in_time = run.seconds <= 15.5 * 60
    target = "met" if ae_test <= ANCHOR_AE and in_time else "not met"
    budget = (f"{args.epochs} epochs (fixed), {run.seconds / 60:.1f} min" if args.epochs
              else f"{args.minutes:g} min")  # fmt: skip
    notes = "\n\n".join([
        f"Budget: {budget} of autoencoder training wall time (evaluations "
        f"excluded){'; quick mode' if args.quick else ''}. Target (at most {ANCHOR_AE:.2f} "
        f"within 15 minutes): {target}. {machine_line(args.threads)}; seed {args.seed}. "
        f"Whole script wall time: {(time.perf_counter() - wall) / 60:.1f} min.",
        "Error: squared error summed over the 784 pixels (values in [0, 1]), mean over the "
        f"{len(x_test)} test images (train error over the {len(x_train)} training images). The "
        "paper's autoencoder was pretrained with stacked RBMs and fine-tuned with conjugate "
        "gradients (logistic units); this one is trained end to end with Adam.",
        "Test error against training time:\n\n" + curve_table,
    ])  # fmt: skip
    if not (args.quick or args.no_write):
        write_section(args.results, SECTION, table, notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
