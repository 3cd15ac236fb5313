"""Train a denoising autoencoder on MNIST (or the bundled digits when MNIST is not found)
and write a before/after panel.

    python examples/denoise_mnist.py [--sigma 0.5] [--epochs 5] [--out denoise.png]
"""

from __future__ import annotations

import argparse

import torch

from latentkit.apps.denoise import evaluate_denoising, train_denoiser
from latentkit.datasets import load
from latentkit.errors import DataError
from latentkit.nn import NetworkConfig
from latentkit.training import TrainConfig
from latentkit.viz import plot_restoration, save_figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sigma", type=float, default=0.5)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--out", default="denoise.png")
    args = parser.parse_args()

    torch.manual_seed(0)
    try:
        train, test = load("mnist", "train", download=False), load("mnist", "test", download=False)
    except DataError:
        train, test = load("digits", "train"), load("digits", "test")
    model = train_denoiser(
        train.x, args.sigma, latent_dim=64, network=NetworkConfig(hidden=(512,)),
        train=TrainConfig(epochs=args.epochs, batch_size=128, progress=False),
    )  # fmt: skip
    result = evaluate_denoising(model, test.x[:500], args.sigma)
    print(f"{train.name}, sigma {args.sigma}: PSNR {result['psnr_noisy']:.2f} dB (noisy) -> "
          f"{result['psnr_denoised']:.2f} dB (denoised)")  # fmt: skip
    panel = plot_restoration(result["noisy"], result["denoised"], test.x[:500], task="denoise")
    print(f"wrote {save_figure(panel, args.out)}")


if __name__ == "__main__":
    main()
