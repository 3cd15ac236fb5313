"""Train a VAE on the bundled 8x8 digits, report its test log-likelihood, and save samples.

python examples/vae_digits.py [--epochs 30] [--out runs/example-vae]
"""

from __future__ import annotations

import argparse

import torch

from latentkit import VAE, TrainConfig, Trainer, VAEConfig
from latentkit.datasets import load
from latentkit.evaluation import log_likelihood
from latentkit.nn import NetworkConfig
from latentkit.viz import plot_samples, save_figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", default="runs/example-vae")
    args = parser.parse_args()

    torch.manual_seed(0)
    train, test = load("digits", "train"), load("digits", "test")
    model = VAE(VAEConfig(input_shape=train.shape, latent_dim=8,
                          network=NetworkConfig(hidden=(128, 64))))  # fmt: skip
    Trainer(TrainConfig(epochs=args.epochs, batch_size=64, progress=False)).fit(
        model, train, out=args.out
    )
    nll = -log_likelihood(model, test.x, k=200).mean()
    print(f"test NLL (IWAE, k=200): {nll:.2f} nats")
    samples = model.sample(32, generator=torch.Generator().manual_seed(0))
    path = save_figure(plot_samples(samples), f"{args.out}/samples.png")
    print(f"wrote {args.out} and {path}")


if __name__ == "__main__":
    main()
