"""How each pretrained model is trained from scratch and measured on its test set.

A :class:`Recipe` names a model's task, data and licence, and holds two functions:
``train(quick)`` builds and trains the model from a fixed seed and returns it with the settings
it used, and ``measure(model, quick)`` returns its numbers on its test set and a one-line
headline. ``zoo/train.py`` runs them (``make zoo``), times the training and writes each
model's folder and card into ``src/latentkit/zoo/pretrained/``. ``quick=True`` shrinks every
recipe to seconds (a smoke test: few steps, few images); the numbers it gives mean nothing.

The models:

- ``denoiser-gray`` / ``denoiser-color``: blind residual denoisers
  (:class:`~latentkit.models.residual.ResidualDenoisingModel`, DnCNN-B style, 10 layers of 32
  channels at full resolution) trained by
  :func:`~latentkit.apps.denoise.train_residual_denoiser` on patches of the training photos
  (``zoo/_photos.py``) with noise of a standard deviation drawn per patch from [0, 55] on the
  0-255 scale; measured on CBSD68 (gray: its BT.601 luma) at
  sigma 15, 25 and 50 against the noisy input.
- ``colorizer``: a patch autoencoder (gray in, RGB out, squared error) whose predicted chroma
  is then shrunk toward gray by a factor chosen on held-out training photos and folded into
  its last layer (``zoo/_chroma.py``); applied by
  :func:`~latentkit.apps.colorize.colorize`, which keeps the input luminance. Measured on
  McMaster and the colour images of Set14 against the gray input.
- ``mnist-vae-16d``, ``mnist-vae-2d``, ``fashion-mnist-vae-16d``: convolutional VAEs with a
  Bernoulli likelihood on the [0, 1] pixel values (what ``latentkit train`` does); measured by
  :func:`latentkit.evaluation.evaluate` (negative ELBO and IWAE NLL, k = 100) on the test set.
- ``mnist-inpainter``: an autoencoder trained by :func:`~latentkit.apps.inpaint.train_inpainter`
  to fill one random 14 x 14 box; measured on the missing pixels of the MNIST test images
  (a centred 14 x 14 box, and 50 % random pixels) against the masked input.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

import torch

from latentkit.models.base import AbstractModel

__all__ = ["RECIPES", "Recipe"]

Task = Literal["denoise", "colorize", "generate", "inpaint"]
Trained = tuple[AbstractModel, dict[str, Any]]
Measured = tuple[dict[str, Any], str]

PHOTO_LICENCE = (
    "BSDS500 (Arbelaez et al. 2011; photos from the Corel database): non-commercial research "
    "and teaching; SunHays80 (Sun & Hays 2012; SUN database photos): licence unknown, research "
    "use only. The weights are derived from these photos: research use only."
)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How one pretrained model is made and measured."""

    name: str  # folder name and the name users type
    task: Task  # the command that applies it
    summary: str  # one line: what it is
    train_data: str  # what it was trained on
    test_data: str  # what its numbers are measured on
    licence: str  # of the data (and hence of the weights)
    usage: str  # one command line that uses it
    train: Callable[[bool], Trained]  # quick -> (trained model, settings used)
    measure: Callable[[AbstractModel, bool], Measured]  # (model, quick) -> (numbers, headline)
    preprocessing: dict[str, Any] = dataclasses.field(default_factory=dict)


# -- photo denoisers --------------------------------------------------------------------------

SIGMAS = (15, 25, 50)  # test noise levels on the 0-255 scale


def _train_denoiser(channels: int, quick: bool) -> Trained:
    from _photos import random_patches, training_photos

    from latentkit.apps.denoise import train_residual_denoiser
    from latentkit.models.residual import ResidualDenoisingConfig, ResidualDenoisingModel
    from latentkit.nn.denoiser import ResidualDenoiserConfig

    photos = training_photos()
    settings: dict[str, Any] = {
        "photos": len(photos), "patches_per_photo": 32, "patch": 40, "steps": 1500,
        "batch_size": 32, "sigma_range_255": [0, 55], "lr": 1e-3, "final_lr": 1e-5, "seed": 0,
        # full resolution: with downscale=2 the colour model had barely left "predict no
        # noise" after 1500 steps (+0.6 dB at sigma 25 against +6 at full resolution)
        "network": {"channels": channels, "depth": 10, "width": 32, "downscale": 1},
    }  # fmt: skip
    if quick:
        photos = photos[:: len(photos) // 3][:3]
        settings |= {"photos": len(photos), "patches_per_photo": 4, "steps": 3, "batch_size": 4,
                     "network": {**settings["network"], "depth": 3, "width": 8}}  # fmt: skip
    patches = random_patches(
        photos, settings["patches_per_photo"], settings["patch"], gray=channels == 1, seed=0
    )
    network = ResidualDenoiserConfig(**settings["network"])
    trained = train_residual_denoiser(
        patches, sigmas=(0.0, 55 / 255), config=network, steps=settings["steps"],
        batch_size=settings["batch_size"], lr=settings["lr"], final_lr=settings["final_lr"],
        seed=0,
    )  # fmt: skip
    # patchwise use (images of another size in apps.denoise.denoise): 128 x 128 tiles
    model = ResidualDenoisingModel(
        ResidualDenoisingConfig(input_shape=(channels, 128, 128), network=network)
    )
    model.network.load_state_dict(trained.state_dict())
    return model.eval(), settings


def _noisy(clean: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return clean + sigma * torch.randn(clean.shape, generator=generator)


def _measure_denoiser(model: AbstractModel, quick: bool) -> Measured:
    from _photos import read_rgb, test_photos, to_gray

    from latentkit.evaluation.metrics import psnr

    paths = test_photos("CBSD68")[:2] if quick else test_photos("CBSD68")
    gray = model.input_shape[0] == 1
    numbers: dict[str, Any] = {"test_set": "CBSD68", "images": len(paths), "noise": (
        "gaussian, not clipped, seeded per image; the noisy baseline is clipped to [0, 1]; "
        "PSNR (peak 1) of the output clipped to [0, 1], mean over images")}  # fmt: skip
    for sigma in SIGMAS:
        before, after = [], []
        for index, path in enumerate(paths):
            clean = read_rgb(path)[None]  # (1, 3, H, W)
            clean = to_gray(clean) if gray else clean
            noisy = _noisy(clean, sigma / 255, seed=1000 * sigma + index)
            before.append(psnr(noisy.clamp(0, 1), clean).item())
            after.append(psnr(model.denoise(noisy), clean).item())
        numbers[f"psnr_noisy_sigma{sigma}"] = round(sum(before) / len(before), 2)
        numbers[f"psnr_denoised_sigma{sigma}"] = round(sum(after) / len(after), 2)
    kind = "gray" if gray else "colour"
    headline = f"CBSD68 {kind}, PSNR noisy -> denoised: " + ", ".join(
        f"s{s} {numbers[f'psnr_noisy_sigma{s}']:.2f} -> {numbers[f'psnr_denoised_sigma{s}']:.2f}"
        for s in SIGMAS
    )
    return numbers, headline + " dB"


# -- colorizer --------------------------------------------------------------------------------


def _train_colorizer(quick: bool) -> Trained:
    from _chroma import choose_shrink, fold_shrink
    from _photos import random_patches, read_rgb, training_photos

    from latentkit._seeding import build_seeded
    from latentkit.models.autoencoder import Autoencoder, AutoencoderConfig
    from latentkit.nn import NetworkConfig
    from latentkit.training.config import CorruptionConfig, TrainConfig
    from latentkit.training.trainer import Trainer

    photos = training_photos()
    held_out, used = photos[::10], [p for i, p in enumerate(photos) if i % 10]
    settings: dict[str, Any] = {
        "photos": len(used), "validation_photos": len(held_out), "patches_per_photo": 48,
        "patch": 32, "epochs": 12, "batch_size": 64, "lr": 1e-3, "min_lr": 1e-5, "seed": 0,
        "latent_dim": 128, "network": {"kind": "conv", "channels": [32, 64, 128], "dense": 0},
    }  # fmt: skip
    if quick:
        used, held_out = used[:3], held_out[:1]
        settings |= {"photos": 3, "validation_photos": 1, "patches_per_photo": 8, "epochs": 1,
                     "latent_dim": 8,
                     "network": {**settings["network"], "channels": [4, 8, 8]}}  # fmt: skip
    patches = random_patches(used, settings["patches_per_photo"], settings["patch"], seed=0)
    config = AutoencoderConfig(
        input_shape=(3, settings["patch"], settings["patch"]),
        latent_dim=settings["latent_dim"],
        network=NetworkConfig.from_dict(settings["network"]),
        reconstruction="mse",  # squared error: the mean colour, not a guess
        output_activation="none",  # linear output: the shrink folds into the last layer
    )
    model = build_seeded(lambda: Autoencoder(config), settings["seed"])
    train = TrainConfig(
        epochs=settings["epochs"], batch_size=settings["batch_size"], lr=settings["lr"],
        scheduler="cosine", min_lr=settings["min_lr"], seed=settings["seed"], progress=False,
        corruption=CorruptionConfig(kind="grayscale"),
    )  # fmt: skip
    Trainer(train).fit(model, patches)
    model.eval()
    validation = [read_rgb(p)[None] for p in held_out]
    shrink, scores = choose_shrink(model, validation)
    fold_shrink(model, shrink)
    settings |= {"chroma_shrink": shrink, "validation_psnr_by_shrink": scores}
    return model, settings


def _colour_images(name: str, quick: bool) -> list[torch.Tensor]:
    """The test set's colour images ``(1, 3, H, W)``; images with R = G = B are left out."""
    from _photos import read_rgb, test_photos

    images = [read_rgb(p)[None] for p in test_photos(name)]
    images = [x for x in images if not (x[:, 1:] == x[:, :1]).all()]  # Set14: bridge, man
    return images[:1] if quick else images


def _measure_colorizer(model: AbstractModel, quick: bool) -> Measured:
    from latentkit.apps.colorize import evaluate_colorization

    numbers: dict[str, Any] = {"metric": (
        "PSNR (peak 1, RGB) against the original, of the gray input (R = G = B = BT.601 luma) "
        "and of the colorized output; mean over the colour images of each set")}  # fmt: skip
    parts = []
    for name in ("McMaster", "Set14"):
        images = _colour_images(name, quick)
        results = [evaluate_colorization(model, x) for x in images]
        gray = sum(r["psnr_gray"] for r in results) / len(results)
        colour = sum(r["psnr_colorized"] for r in results) / len(results)
        key = name.lower()
        numbers |= {f"{key}_images": len(images), f"{key}_psnr_gray": round(gray, 2),
                    f"{key}_psnr_colorized": round(colour, 2)}  # fmt: skip
        parts.append(f"{name} {gray:.2f} -> {colour:.2f}")
    return numbers, "PSNR gray -> colorized: " + ", ".join(parts) + " dB"


# -- MNIST and Fashion-MNIST VAEs -------------------------------------------------------------


def _train_vae(data: str, latent_dim: int, epochs: int, quick: bool) -> Trained:
    from latentkit._seeding import build_seeded
    from latentkit.datasets import load
    from latentkit.models.vae import VAE, VAEConfig
    from latentkit.nn import NetworkConfig
    from latentkit.training.config import TrainConfig
    from latentkit.training.trainer import Trainer

    settings: dict[str, Any] = {
        "data": data, "images": 60000, "latent_dim": latent_dim, "likelihood": "bernoulli",
        "network": {"kind": "conv", "channels": [32, 64], "dense": 0}, "epochs": epochs,
        "batch_size": 128, "lr": 1e-3, "min_lr": 1e-5, "seed": 0,
    }  # fmt: skip
    train = load(data, "train", download=False)
    if quick:
        train = train.subset(slice(0, 256))
        settings |= {"images": 256, "epochs": 1, "network": {**settings["network"],
                                                             "channels": [4, 8]}}  # fmt: skip
    config = VAEConfig(
        input_shape=(1, 28, 28), latent_dim=latent_dim,
        network=NetworkConfig.from_dict(settings["network"]),
    )  # fmt: skip
    model = build_seeded(lambda: VAE(config), settings["seed"])
    Trainer(
        TrainConfig(epochs=settings["epochs"], batch_size=settings["batch_size"],
                    lr=settings["lr"], scheduler="cosine", min_lr=settings["min_lr"],
                    seed=settings["seed"], progress=False)
    ).fit(model, train)  # fmt: skip
    return model.eval(), settings


def _measure_vae(data: str) -> Callable[[AbstractModel, bool], Measured]:
    def measure(model: AbstractModel, quick: bool) -> Measured:
        from latentkit.datasets import load
        from latentkit.evaluation import evaluate

        test = load(data, "test", download=False)
        x = test.x[:64] if quick else test.x
        k = 5 if quick else 100
        summary = evaluate(model, x, k=k, seed=0, images=True).summary
        numbers = {
            "test_set": f"{data} test", "images": len(x), "likelihood": "bernoulli on the [0, 1] "
            "pixel values (not binarized: not comparable to binarized-MNIST results)",
            "negative_elbo_nats": round(summary["negative_elbo"], 2),
            f"nll_iwae_k{k}_nats": round(summary[f"nll_iwae_k{k}"], 2),
            "reconstruction_psnr_db": round(summary["psnr"], 2),
            "active_units": summary.get("active_units"),
        }  # fmt: skip
        headline = (
            f"{data} test: -ELBO {numbers['negative_elbo_nats']:.2f}, "
            f"IWAE NLL (k={k}) {numbers[f'nll_iwae_k{k}_nats']:.2f} nats"
        )
        return numbers, headline

    return measure


# -- MNIST inpainter --------------------------------------------------------------------------


def _train_inpainter(quick: bool) -> Trained:
    from latentkit.apps.inpaint import train_inpainter
    from latentkit.datasets import load
    from latentkit.nn import NetworkConfig
    from latentkit.training.config import TrainConfig

    settings: dict[str, Any] = {
        "data": "mnist", "images": 60000, "mask": "box_mask", "box_side": 14, "latent_dim": 64,
        "network": {"kind": "conv", "channels": [32, 64], "dense": 0}, "epochs": 12,
        "batch_size": 128, "lr": 1e-3, "min_lr": 1e-5, "seed": 0,
    }  # fmt: skip
    train = load("mnist", "train", download=False).x
    if quick:
        train = train[:256]
        settings |= {"images": 256, "epochs": 1, "network": {**settings["network"],
                                                             "channels": [4, 8]}}  # fmt: skip
    model = train_inpainter(
        train, kind="box_mask", amount=0.5, latent_dim=settings["latent_dim"],
        network=NetworkConfig.from_dict(settings["network"]),
        train=TrainConfig(epochs=settings["epochs"], batch_size=settings["batch_size"],
                          lr=settings["lr"], scheduler="cosine", min_lr=settings["min_lr"],
                          seed=settings["seed"], progress=False),
    )  # fmt: skip
    return model, settings


def _measure_inpainter(model: AbstractModel, quick: bool) -> Measured:
    from latentkit.apps.inpaint import inpaint
    from latentkit.data.corruptions import mask_center_box, mask_random_pixels
    from latentkit.datasets import load
    from latentkit.evaluation.metrics import psnr

    x = load("mnist", "test", download=False).x
    x = x[:64] if quick else x
    _, box = mask_center_box(x, 14)
    _, pixels = mask_random_pixels(x, 0.5, generator=torch.Generator().manual_seed(0))
    numbers: dict[str, Any] = {"test_set": "mnist test", "images": len(x), "metric": (
        "PSNR (peak 1) on the missing pixels only, mean over the images where the masked input "
        "is not already exact there (all missing pixels black)")}  # fmt: skip
    parts = []
    for key, missing in (("center_box14", box), ("random_pixels50", pixels)):
        masked = x.masked_fill(missing, 0.0)
        before = psnr(masked, x, mask=missing)
        after = psnr(inpaint(model, x, missing, method="autoencoder"), x, mask=missing)
        kept = torch.isfinite(before) & torch.isfinite(after)
        numbers |= {f"{key}_images": int(kept.sum()),
                    f"{key}_psnr_masked": round(before[kept].mean().item(), 2),
                    f"{key}_psnr_inpainted": round(after[kept].mean().item(), 2)}  # fmt: skip
        parts.append(
            f"{key.replace('_', ' ')} {numbers[f'{key}_psnr_masked']:.2f} -> "
            f"{numbers[f'{key}_psnr_inpainted']:.2f}"
        )
    return numbers, "MNIST test, PSNR masked -> inpainted: " + ", ".join(parts) + " dB"


# -- the catalogue ----------------------------------------------------------------------------

MNIST_LICENCE = "MNIST (LeCun, Cortes, Burges; from NIST SD-1/SD-3): CC BY-SA 3.0."
FASHION_LICENCE = "Fashion-MNIST (Zalando Research, Xiao et al. 2017): MIT."
PHOTO_DATA = (
    "colour photos: BSDS500 train, val and test without the 68 CBSD68 test images "
    "(manifest.csv in_cbsd68 = 0), and SunHays80"
)

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in [
        Recipe(
            "denoiser-gray", "denoise",
            "blind gray photo denoiser, gaussian noise std 0-50 on the 0-255 scale",
            PHOTO_DATA + ", as 8-bit BT.601 luma", "CBSD68 (its 68 images as 8-bit gray)",
            PHOTO_LICENCE,
            "latentkit denoise denoiser-gray --data photos/ --sigma 0.1 --out denoised.png",
            lambda quick: _train_denoiser(1, quick), _measure_denoiser,
        ),
        Recipe(
            "denoiser-color", "denoise",
            "blind colour photo denoiser, gaussian noise std 0-50 on the 0-255 scale",
            PHOTO_DATA, "CBSD68 (68 colour images)", PHOTO_LICENCE,
            "latentkit denoise denoiser-color --data photos/ --sigma 0.1 --out denoised.png",
            lambda quick: _train_denoiser(3, quick), _measure_denoiser,
        ),
        Recipe(
            "colorizer", "colorize",
            "photo colorizer: predicts conservative chroma, keeps the input luminance",
            PHOTO_DATA + " (every 10th photo held out to choose the chroma shrink)",
            "McMaster (18 images) and the colour images of Set14", PHOTO_LICENCE,
            "latentkit colorize colorizer --data photos/ --out colorized.png",
            _train_colorizer, _measure_colorizer,
        ),
        Recipe(
            "mnist-vae-16d", "generate", "convolutional VAE with a 16-D code, MNIST",
            "MNIST train (60000 images)", "MNIST test (10000 images)", MNIST_LICENCE,
            "latentkit generate mnist-vae-16d -n 64 --out samples.png",
            lambda quick: _train_vae("mnist", 16, 20, quick), _measure_vae("mnist"),
            {"data": "mnist"},
        ),
        Recipe(
            "mnist-vae-2d", "generate", "convolutional VAE with a 2-D code (latent maps), MNIST",
            "MNIST train (60000 images)", "MNIST test (10000 images)", MNIST_LICENCE,
            "latentkit serve mnist-vae-2d",
            lambda quick: _train_vae("mnist", 2, 15, quick), _measure_vae("mnist"),
            {"data": "mnist"},
        ),
        Recipe(
            "fashion-mnist-vae-16d", "generate",
            "convolutional VAE with a 16-D code, Fashion-MNIST",
            "Fashion-MNIST train (60000 images)", "Fashion-MNIST test (10000 images)",
            FASHION_LICENCE, "latentkit generate fashion-mnist-vae-16d -n 64 --out samples.png",
            lambda quick: _train_vae("fashion-mnist", 16, 20, quick),
            _measure_vae("fashion-mnist"), {"data": "fashion-mnist"},
        ),
        Recipe(
            "mnist-inpainter", "inpaint",
            "masked autoencoder that fills a missing box of an MNIST digit",
            "MNIST train (60000 images), one random 14 x 14 box hidden per image and batch",
            "MNIST test (10000 images)", MNIST_LICENCE,
            "latentkit inpaint mnist-inpainter --mask center --out inpainted.png",
            _train_inpainter, _measure_inpainter, {"data": "mnist"},
        ),
    ]
}  # fmt: skip
