"""``latentkit demo``: the whole system in one command, in about two minutes on 2 CPU cores.

It uses MNIST when found (``$LATENTKIT_DATA`` or the cache; never downloaded here) and the
bundled 8x8 digits otherwise, and says which. It trains three small models:

- a VAE with a 16-D latent (reconstructions, samples, interpolations, inpainting by latent
  optimisation, anomaly scores),
- a VAE with a 2-D latent (the latent map and the decoded manifold),
- a denoising autoencoder (gaussian noise, sigma 0.5),

and writes ``<out>/report.html`` with every figure, plus the three run folders.
Anomalies are Fashion-MNIST test images when that dataset is found, else inverted digits.
The run is reproducible: each model's initial weights are drawn from the training seed (0)
alone, and every other random draw uses a seeded generator.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from latentkit.cli.common import add_command, epoch_printer, say

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Train small models on MNIST (or the bundled digits) and write an HTML report.",
        "  latentkit demo --out demo",
    )
    parser.add_argument("--out", default="demo", help="output folder (default: demo)")
    parser.add_argument("--quick", action="store_true", help="tiny run (seconds), for smoke tests")
    parser.add_argument("--data", choices=["auto", "mnist", "digits"], default="auto",
                        help="dataset (default: MNIST when found, else digits)")  # fmt: skip
    return parser


def _load_data(choice: str) -> tuple[Any, Any, str]:
    from latentkit.datasets import load
    from latentkit.errors import DataError

    if choice in ("auto", "mnist"):
        try:
            return (
                load("mnist", "train", download=False),
                load("mnist", "test", download=False),
                "mnist",
            )
        except DataError:  # not on this machine (never downloaded here)
            if choice == "mnist":
                raise
    return load("digits", "train"), load("digits", "test"), "digits"


def _anomalies(name: str, test: Any) -> tuple[Any, str]:
    from latentkit.datasets import load
    from latentkit.errors import DataError

    if name == "mnist":
        try:
            fashion = load("fashion-mnist", "test", download=False)
            return fashion.x[:2000], "Fashion-MNIST test images"
        except DataError:  # not on this machine: fall back to inverted digits
            pass
    return 1.0 - test.x[:2000], "inverted test digits"


def _untrained(key: str, image: tuple[int, ...], hidden: tuple[int, ...], seed: int) -> Any:
    """The demo's model ``key`` ("vae", "vae2" or "dae"), its initial weights from ``seed``."""
    from latentkit import VAE, Autoencoder, AutoencoderConfig, VAEConfig
    from latentkit._seeding import build_seeded
    from latentkit.nn import NetworkConfig

    network = NetworkConfig(hidden=hidden)
    factories = {
        "vae": lambda: VAE(VAEConfig(input_shape=image, latent_dim=16, network=network)),
        "vae2": lambda: VAE(VAEConfig(input_shape=image, latent_dim=2, network=network)),
        "dae": lambda: Autoencoder(
            AutoencoderConfig(input_shape=image, latent_dim=64, network=network)
        ),
    }
    return build_seeded(factories[key], seed)


def run(args: argparse.Namespace) -> int:
    import torch

    from latentkit.apps import anomaly, inpaint
    from latentkit.apps.denoise import denoise
    from latentkit.apps.latent import latent_grid
    from latentkit.data.corruptions import gaussian_noise, mask_center_box
    from latentkit.training import TrainConfig, Trainer
    from latentkit.training.config import CorruptionConfig
    from latentkit.viz import AnomalyResult, ReportSection, Restoration, build_report
    from latentkit.viz.charts import plot_latent_scatter
    from latentkit.viz.plots import plot_manifold

    start = time.perf_counter()
    out = Path(args.out)
    train, test, name = _load_data(args.data)
    found = ", found on disk)" if name == "mnist" else "; MNIST not found: the bundled digits)"
    say(f"latentkit demo: using {name} ({len(train)} training images{found}")
    image = tuple(train.shape)
    big = image[-1] >= 28
    hidden = (512, 256) if big else (128, 64)
    epochs = {"vae": 10, "vae2": 8, "dae": 4} if big else {"vae": 60, "vae2": 60, "dae": 40}
    if args.quick:
        train = train.subset(slice(0, 2000))
        epochs = dict.fromkeys(epochs, 1)
    threads = min(torch.get_num_threads(), 4)

    def fit(key: str, **train_options: Any) -> Any:
        config = TrainConfig(epochs=epochs[key], batch_size=128, lr=1e-3, seed=0, progress=False,
                             num_threads=threads, **train_options)  # fmt: skip
        model = _untrained(key, image, hidden, config.seed)
        t0 = time.perf_counter()
        printer = epoch_printer(config.epochs, prefix=f"  {key} ")
        history = Trainer(config, callbacks=[printer]).fit(model, train, out=out / key)
        final = history.records[-1]["train_loss"]
        say(f"  trained {key}: {epochs[key]} epochs in {time.perf_counter() - t0:.0f} s, "
            f"final loss {final:.2f}")  # fmt: skip
        return model.eval()

    say("training a 16-D VAE (quality), a 2-D VAE (map) and a denoising autoencoder ...")
    vae = fit("vae", binarize="dynamic")
    vae2 = fit("vae2", binarize="dynamic")
    dae = fit("dae", corruption=CorruptionConfig(kind="gaussian", amount=0.5))

    say("computing examples: denoising, inpainting, anomaly scores, the latent map ...")
    g = torch.Generator().manual_seed(0)
    clean = test.x[:16]
    noisy = gaussian_noise(clean, 0.5, generator=g)
    masked, missing = mask_center_box(clean, image[-1] // 2)
    restorations = [
        Restoration("denoise (sigma 0.5)", noisy, denoise(dae, noisy), clean),
        Restoration("inpaint (VAE latent optimisation)", masked,
                    inpaint.inpaint(vae, clean, missing, method="latent_optimisation"), clean,
                    mask=missing),
    ]  # fmt: skip
    outliers, outlier_name = _anomalies(name, test)
    normal_scores = anomaly.anomaly_scores(vae, test.x[:2000], "elbo")
    outlier_scores = anomaly.anomaly_scores(vae, outliers, "elbo")
    threshold = anomaly.threshold_from_fpr(normal_scores, 0.05)
    labels = torch.cat([torch.zeros(len(normal_scores)), torch.ones(len(outlier_scores))])
    auroc = anomaly.detection_metrics(torch.cat([normal_scores, outlier_scores]), labels)["auroc"]
    codes2 = anomaly.posterior_means(vae2, test.x[:2000])
    map_section = ReportSection(
        "2-D latent space",
        html=f"<p>A second VAE with a 2-D latent, trained on the same {name} images: its "
        "test codes coloured by digit, and the images it decodes on a grid over the plane.</p>",
        figures=(plot_latent_scatter(codes2, test.y[:2000]), plot_manifold(latent_grid(vae2, 15))),
    )
    anomaly_result = AnomalyResult(
        normal_scores, outlier_scores, threshold,
        score_name=f"negative ELBO (anomalous: {outlier_name})",
    )  # fmt: skip
    report = build_report(
        out / "vae", test, out / "report.html", title=f"latentkit demo on {name}",
        extra_sections=[map_section], anomaly=anomaly_result, restorations=restorations,
    )  # fmt: skip
    say(f"anomaly AUROC ({name} test vs {outlier_name}): {auroc:.3f}")
    say(f"done in {time.perf_counter() - start:.0f} s")
    say(f"wrote {report} (open it in a browser); run folders in {out}/")
    return 0
