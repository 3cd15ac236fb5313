"""Denoising: latentkit against scikit-image and BM3D on MNIST and on gray BSD68.

(a) MNIST. Gaussian noise of sigma 0.1, 0.3 and 0.5 on pixels in [0, 1], noisy images clipped
    to [0, 1]. Test images: a fixed seeded subset of the MNIST test set (``--mnist-test``).
    - latentkit denoising autoencoder (``apps.denoise.train_denoiser``): a conv ``Autoencoder``
      (channels 32-64, dense 256, code ``--mnist-latent``, BCE) trained on the 60000 training
      images with fresh clipped noise of that sigma every batch (one model per sigma),
      ``--mnist-epochs`` epochs, Adam 1e-3 with a cosine schedule, batch 128.
    - latentkit ``ResidualDenoiser`` (DnCNN-style, predicts the noise; ``apps.denoise.
      train_residual_denoiser``): ONE blind model for all three sigmas, trained on the 60000
      training images (whole 28x28 images, random flips/rotations) with noise of sigma uniform
      in [0, 0.55] per image, clipped to [0, 1] like the test noise; ``--mnist-rd-depth`` x
      ``--mnist-rd-width`` (8 x 32), a fixed ``--mnist-rd-steps`` steps of ``--mnist-rd-batch``
      images, Adam 1e-3 cosine-decayed to 1e-5. It is the same network family as the BSD68
      model below, a supervised denoiser rather than an autoencoder; the DAE rows answer
      how the autoencoder itself does.
    - scikit-image ``denoise_nl_means`` / ``denoise_tv_chambolle`` / ``denoise_wavelet``, each
      with its parameters chosen per sigma by a grid search (mean PSNR) on a validation set of
      noisy *training* images (``--tune-images``, seeded), never on test images.
(b) Natural images. Train on patches of Train400 (gray, 180x180); test on CBSD68 converted to
    gray with latentkit's ``rgb_to_gray`` (BT.601 luma) rounded to 8 bits. Noise of sigma 15,
    25, 50 on the 0-255 scale is added to the [0, 1] image as sigma/255 and NOT clipped (the
    DnCNN protocol); every output is clipped to [0, 1] and rounded to 8 bits before PSNR/SSIM
    (as the DnCNN/KAIR test code does).
    - latentkit ``ResidualDenoiser`` (DnCNN-style, predicts the noise; ``apps.denoise.
      train_residual_denoiser``): ONE blind model for sigma uniform in [0, 55]/255, trained for
      a fixed ``--bsd-steps`` steps of ``--bsd-batch`` random 40x40 patches (64 random
      positions per Train400 image, random flips/rotations), Adam 1e-3 cosine-decayed to 1e-5.
    - BM3D (``bm3d`` package, ``bm3d.bm3d(noisy, sigma_psd=sigma)``, the known sigma): it
      takes tens of seconds per image here, so it runs on a fixed subset of CBSD68
      (``--bm3d-images``, evenly spaced in name order) at sigma 25 (``--bm3d-sigmas``); the
      other methods are reported on the same subset too.
    - scikit-image NLM / TV / wavelet, tuned per sigma on ``--bsd-tune-images`` Train400
      images (the last ones in name order).
Anchors (Zhang et al. 2017, Table 1, BSD68 gray): BM3D 31.07 / 28.57 / 25.62 dB, DnCNN-S
31.73 / 29.23 / 26.23 dB at sigma 15 / 25 / 50. Target: beat BM3D at sigma 25.

Training amounts are fixed by epochs and steps (not wall-clock), so a busy machine only slows the
run down. Each part writes its own RESULTS.md section (``--part`` runs one). Figures in
``--figures``: ``denoising_mnist.png`` (8 test images at sigma 0.5; rows: noisy, NLM, TV,
wavelet, DAE, ResidualDenoiser, clean) and ``denoising_bsd68.png`` (a 128x128 crop of the
first BM3D-subset image at sigma 25; left to right: noisy, NLM, TV, wavelet, latentkit, BM3D,
clean).

Usage::

    python benchmarks/denoising.py --threads 1     # full run
    python benchmarks/denoising.py --quick         # smoke test, writes nothing
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mnist import HERE, add_run_arguments, load_mnist, machine_line, save_grid, write_section
from _results import markdown_table, print_table

SECTION_MNIST = "Denoising (MNIST, Gaussian noise, clipped)"
SECTION_BSD = "Denoising (gray CBSD68, Gaussian noise, not clipped)"
MNIST_SIGMAS = (0.1, 0.3, 0.5)
MNIST_RD_SIGMAS = (0.0, 0.55)  # the blind MNIST ResidualDenoiser's training noise range
BSD_SIGMAS = (15, 25, 50)  # on the 0-255 scale
ANCHORS = {"BM3D": (31.07, 28.57, 25.62), "DnCNN-S": (31.73, 29.23, 26.23)}
Image = np.ndarray  # (H, W) float64 in [0, 1] (noisy ones may leave it)
Method = Callable[..., Image]


# -- data ----------------------------------------------------------------------------------
def data_root() -> Path:
    return Path(os.environ.setdefault("LATENTKIT_DATA", str(HERE.parents[1] / "shared" / "data")))


def add_noise(clean: Tensor, sigma: float, seed: int, *, clip: bool) -> Tensor:
    """``clean + N(0, sigma^2)`` with a seeded generator, optionally clipped to [0, 1].

    Parameters
    ----------
    clean : Tensor of shape (N, C, H, W)
    sigma : float
        Standard deviation on the scale of ``clean``.
    """
    generator = torch.Generator().manual_seed(seed)
    noisy = clean + sigma * torch.randn(clean.shape, generator=generator)
    return noisy.clamp(0.0, 1.0) if clip else noisy


def to_8bit(x: Tensor) -> Tensor:
    """Clip to [0, 1] and round to the 256 levels of an 8-bit image (values stay in [0, 1])."""
    return (x.clamp(0.0, 1.0) * 255.0).round() / 255.0


def load_gray_folder(folder: Path, limit: int | None = None) -> tuple[list[Tensor], list[str]]:
    """Images of ``folder`` (any sizes) as 8-bit gray ``(1, 1, H, W)`` tensors, name order."""
    from PIL import Image as PILImage

    from latentkit.data.transforms import rgb_to_gray

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")[:limit]
    images = []
    for f in files:
        with PILImage.open(f) as img:
            rgb = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0  # (H, W, 3)
        x = torch.from_numpy(rgb).permute(2, 0, 1)[None]  # (1, 3, H, W)
        images.append(to_8bit(rgb_to_gray(x)))
    return images, [f.name for f in files]


# -- peers (numpy, one image at a time) --------------------------------------------------------
def nlm(noisy: Image, sigma: float, *, h: float, patch: int, distance: int) -> Image:
    from skimage.restoration import denoise_nl_means

    return denoise_nl_means(noisy, h=h * sigma, sigma=sigma, patch_size=patch,
                            patch_distance=distance, fast_mode=True)  # fmt: skip


def tv(noisy: Image, sigma: float, *, weight: float) -> Image:
    from skimage.restoration import denoise_tv_chambolle

    return denoise_tv_chambolle(noisy, weight=weight)


def wavelet(noisy: Image, sigma: float, *, wavelet: str, method: str) -> Image:
    from skimage.restoration import denoise_wavelet

    return denoise_wavelet(noisy, sigma=sigma, wavelet=wavelet, method=method, mode="soft",
                           rescale_sigma=True)  # fmt: skip


def bm3d_method(noisy: Image, sigma: float) -> Image:
    import bm3d

    return np.asarray(bm3d.bm3d(noisy, sigma_psd=sigma), dtype=np.float64)


WAVELET_GRID = [{"wavelet": w, "method": m} for w in ("db1", "db2", "sym4")
                for m in ("BayesShrink", "VisuShrink")]  # fmt: skip
GRIDS: dict[str, dict[str, tuple[Method, list[dict[str, Any]]]]] = {
    "mnist": {
        "NLM": (nlm, [{"h": h, "patch": p, "distance": 4}
                      for h in (0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0) for p in (3, 5)]),
        "TV (Chambolle)": (tv, [{"weight": w} for w in (0.03, 0.06, 0.1, 0.15, 0.25, 0.4, 0.7)]),
        "wavelet": (wavelet, WAVELET_GRID),
    },
    "bsd": {
        "NLM": (nlm, [{"h": h, "patch": p, "distance": 6}
                      for h in (0.3, 0.45, 0.6, 0.8, 1.0) for p in (5, 7)]),
        "TV (Chambolle)": (tv, [{"weight": w} for w in (0.015, 0.02, 0.03, 0.05, 0.07, 0.1, 0.14,
                                                         0.2, 0.3)]),
        "wavelet": (wavelet, WAVELET_GRID),
    },
}  # fmt: skip


def run_method(fn: Method, noisy: list[Tensor], sigma: float, **params: Any) -> list[Tensor]:
    """Apply a numpy method image by image; returns ``(1, 1, H, W)`` float32 tensors."""
    out = []
    for x in noisy:
        y = fn(x[0, 0].double().numpy(), sigma, **params)
        out.append(torch.from_numpy(np.asarray(y, dtype=np.float32))[None, None])
    return out


def mean_scores(restored: list[Tensor], clean: list[Tensor], quantize: bool) -> tuple[float, float]:
    """Mean PSNR (dB) and SSIM over images (each clipped to [0, 1], rounded if ``quantize``)."""
    from latentkit.evaluation.metrics import psnr, ssim

    p, s = [], []
    for r, c in zip(restored, clean, strict=True):
        r = to_8bit(r) if quantize else r.clamp(0.0, 1.0)
        p.append(float(psnr(r, c)[0]))
        s.append(float(ssim(r, c)[0]))
    return float(np.mean(p)), float(np.mean(s))


def tune(fn: Method, grid: list[dict[str, Any]], noisy: list[Tensor], clean: list[Tensor],
         sigma: float, quantize: bool) -> dict[str, Any]:  # fmt: skip
    """The grid point with the best mean PSNR on the validation images."""
    scores = [mean_scores(run_method(fn, noisy, sigma, **g), clean, quantize)[0] for g in grid]
    return grid[int(np.argmax(scores))]


def describe(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


# -- (a) MNIST --------------------------------------------------------------------------------
def mnist_part(args: argparse.Namespace) -> tuple[list[list[object]], list[str], Tensor]:
    """Rows of the MNIST table, notes, and the figure grid at the largest sigma."""
    from latentkit.apps.denoise import (
        denoise,
        denoise_images,
        train_denoiser,
        train_residual_denoiser,
    )
    from latentkit.nn import NetworkConfig, ResidualDenoiserConfig
    from latentkit.training.config import TrainConfig

    x_train, _ = load_mnist("train", 1000 if args.quick else None)
    x_test_all, _ = load_mnist("test")
    pick = torch.randperm(len(x_test_all), generator=torch.Generator().manual_seed(args.seed))
    x_test = x_test_all[pick[: args.mnist_test]]
    val_pick = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(args.seed + 1))
    x_val = x_train[val_pick[: args.tune_images]]
    clean_test, clean_val = list(x_test.split(1)), list(x_val.split(1))
    rows: list[list[object]] = []
    notes: list[str] = []
    figure: list[Tensor] = []
    rd_config = ResidualDenoiserConfig(depth=args.mnist_rd_depth, width=args.mnist_rd_width)
    rd_name = f"latentkit ResidualDenoiser {rd_config.depth}x{rd_config.width} (blind)"
    t = time.perf_counter()
    residual = train_residual_denoiser(x_train, sigmas=MNIST_RD_SIGMAS, config=rd_config,
                                       steps=args.mnist_rd_steps, batch_size=args.mnist_rd_batch,
                                       clip=True, seed=args.seed)  # fmt: skip
    rd_train_s = time.perf_counter() - t
    print(f"MNIST {rd_name}: trained in {rd_train_s:.0f} s", flush=True)
    for i, sigma in enumerate(MNIST_SIGMAS):
        noisy_test = add_noise(x_test, sigma, 10 * args.seed + i, clip=True)
        noisy_val = list(add_noise(x_val, sigma, 10 * args.seed + i + 5, clip=True).split(1))
        results = {"noisy input": (list(noisy_test.split(1)), 0.0, "")}
        for name, (fn, grid) in GRIDS["mnist"].items():
            grid = grid[:2] if args.quick else grid
            t = time.perf_counter()
            best = tune(fn, grid, noisy_val, clean_val, sigma, quantize=False)
            out = run_method(fn, list(noisy_test.split(1)), sigma, **best)
            results[name] = (out, time.perf_counter() - t, describe(best))
        t = time.perf_counter()
        train = TrainConfig(epochs=args.mnist_epochs, batch_size=128, lr=1e-3, scheduler="cosine",
                            seed=args.seed, progress=False, device="cpu",
                            num_threads=args.threads)  # fmt: skip
        network = NetworkConfig(kind="conv", channels=(32, 64), dense=256)
        model = train_denoiser(x_train, sigma, latent_dim=args.mnist_latent, network=network,
                               train=train)  # fmt: skip
        out = list(denoise(model, noisy_test).split(1))
        results["latentkit DAE (conv AE)"] = (out, time.perf_counter() - t, "")
        t = time.perf_counter()
        out = list(denoise_images(residual, noisy_test, batch_size=100).split(1))
        results[rd_name] = (out, time.perf_counter() - t, "")
        for name, (out, seconds, params) in results.items():
            p, s = mean_scores(out, clean_test, quantize=False)
            rows.append([f"{sigma:g}", name, f"{p:.2f}", f"{s:.3f}", f"{seconds:.0f}", params])
            print(f"MNIST sigma {sigma:g} {name}: PSNR {p:.2f} SSIM {s:.3f} ({seconds:.0f} s)",
                  flush=True)  # fmt: skip
        if sigma == MNIST_SIGMAS[-1]:
            figure = [torch.cat(v[0][:8]) for v in results.values()] + [x_test[:8]]
    notes.append(
        f"MNIST: {len(x_test)} test images (a fixed subset drawn with seed {args.seed}), "
        f"peers tuned on {len(x_val)} noisy training images per sigma (grid search on mean "
        f"PSNR); the DAE was trained for {args.mnist_epochs} epochs on {len(x_train)} training "
        f"images per sigma (code {args.mnist_latent}). The ResidualDenoiser is one blind model "
        f"for all sigmas: {rd_config.depth} conv layers of {rd_config.width} channels, "
        f"{args.mnist_rd_steps} steps of {args.mnist_rd_batch} training images "
        f"({args.mnist_rd_steps * args.mnist_rd_batch} image draws) with clipped noise of sigma "
        f"uniform in [{MNIST_RD_SIGMAS[0]:g}, {MNIST_RD_SIGMAS[1]:g}], trained once in "
        f"{rd_train_s:.0f} s. Time = tuning + test (peers), training + test (DAE) or test only "
        "(ResidualDenoiser, whose training is counted once above), in seconds. Rows: "
        + ", ".join(r[1] for r in rows[: len(rows) // 3]) + "."
    )  # fmt: skip
    return rows, notes, torch.cat(figure)


# -- (b) natural images -----------------------------------------------------------------------
def bsd_part(args: argparse.Namespace) -> tuple[str, list[str], Tensor]:
    """The BSD68 tables (Markdown), notes, and a crop strip at sigma 25."""
    from latentkit.apps.denoise import denoise_images, train_residual_denoiser
    from latentkit.datasets import load
    from latentkit.nn import ResidualDenoiserConfig

    root = data_root() / "images"
    size = 64 if args.quick else None
    clean, names = load_gray_folder(root / "CBSD68", 2 if args.quick else None)
    if size:
        clean = [c[..., :size, :size] for c in clean]
    train_images = load(root / "Train400", "all", mode="gray").x  # (400, 1, 180, 180)
    tune_clean = list(train_images[-args.bsd_tune_images :].split(1))
    patches = load(root / "Train400", "all", mode="gray", patch_size=40, patches="random",
                   n_patches=64, seed=args.seed).x  # (25600, 1, 40, 40)  # fmt: skip
    if args.quick:
        patches = patches[:512]
    config = ResidualDenoiserConfig(depth=args.bsd_depth, width=args.bsd_width,
                                    downscale=args.bsd_downscale)  # fmt: skip
    t = time.perf_counter()

    def progress(step: int, loss: float) -> None:
        if step % max(1, args.bsd_steps // 20) == 0:
            print(f"residual denoiser step {step}/{args.bsd_steps}: loss {loss:.2e} "
                  f"({time.perf_counter() - t:.0f} s)", flush=True)  # fmt: skip

    model = train_residual_denoiser(patches, sigmas=(0.0, 55 / 255), config=config,
                                    steps=args.bsd_steps, batch_size=args.bsd_batch,
                                    seed=args.seed, callback=progress)  # fmt: skip
    train_s = time.perf_counter() - t
    n_sub = min(args.bm3d_images, len(clean))
    subset = sorted({round(k * (len(clean) - 1) / max(1, n_sub - 1)) for k in range(n_sub)})
    ours = f"latentkit ResidualDenoiser {config.depth}x{config.width}" + (
        f", unshuffle {config.downscale}" if config.downscale > 1 else "")  # fmt: skip
    full: dict[str, list[object]] = {}
    sub_rows: list[list[object]] = []
    target = "Target (beat BM3D at sigma 25): not measured (sigma 25 not in --bm3d-sigmas)."
    tuned: list[str] = []
    strip: list[Tensor] = []
    for i, sigma255 in enumerate(BSD_SIGMAS):
        sigma = sigma255 / 255
        noisy = [add_noise(c, sigma, 1000 * args.seed + 100 * i + j, clip=False)
                 for j, c in enumerate(clean)]  # fmt: skip
        tune_noisy = [add_noise(c, sigma, 7 + 100 * i + j, clip=False)
                      for j, c in enumerate(tune_clean)]  # fmt: skip
        outputs: dict[str, tuple[list[Tensor], float]] = {"noisy input": (noisy, 0.0)}
        for name, (fn, grid) in GRIDS["bsd"].items():
            grid = grid[:2] if args.quick else grid
            best = tune(fn, grid, tune_noisy, tune_clean, sigma, quantize=True)
            tuned.append(f"{name} at sigma {sigma255}: {describe(best)}")
            t = time.perf_counter()
            outputs[name] = (run_method(fn, noisy, sigma, **best), time.perf_counter() - t)
        t = time.perf_counter()
        outputs[ours] = ([denoise_images(model, x) for x in noisy], time.perf_counter() - t)
        for name, (out, seconds) in outputs.items():
            p, s = mean_scores(out, clean, quantize=True)
            full.setdefault(name, [name]).extend([f"{p:.2f}", f"{s:.3f}", f"{seconds:.0f}"])
            print(f"BSD68 sigma {sigma255} {name}: PSNR {p:.2f} SSIM {s:.3f} ({seconds:.0f} s)",
                  flush=True)  # fmt: skip
        if sigma255 in args.bm3d_sigmas:
            t = time.perf_counter()
            bm = run_method(bm3d_method, [noisy[j] for j in subset], sigma)
            bm_s = time.perf_counter() - t
            picked = [clean[j] for j in subset]
            for name, (out, _) in outputs.items():
                p, s = mean_scores([out[j] for j in subset], picked, quantize=True)
                sub_rows.append([sigma255, name, f"{p:.2f}", f"{s:.3f}", ""])
            p, s = mean_scores(bm, picked, quantize=True)
            if sigma255 == 25:
                mine = mean_scores([outputs[ours][0][j] for j in subset], picked, True)[0]
                target = (f"Target (beat BM3D at sigma 25): {'met' if mine > p else 'not met'} on "
                          f"the subset ({mine:.2f} vs {p:.2f} dB); on all images "
                          f"{float(full[ours][4]):.2f} dB against the paper's BM3D 28.57 and "
                          f"DnCNN-S 29.23 dB.")  # fmt: skip
            sub_rows.append([sigma255, "BM3D (bm3d 4.0.3)", f"{p:.2f}", f"{s:.3f}", f"{bm_s:.0f}"])
            print(f"BSD68 subset sigma {sigma255} BM3D: PSNR {p:.2f} ({bm_s:.0f} s)", flush=True)
            if sigma255 == 25:
                strip = crop_strip(outputs, bm, subset, clean)
    headers = ["method"] + [f"{h} (sigma {s})" for s in BSD_SIGMAS
                            for h in ("PSNR", "SSIM", "time (s)")]  # fmt: skip
    anchors = [[f"{k} (Zhang et al. 2017, BSD68)"] + [x for v in vals for x in (f"{v:.2f}", "", "")]
               for k, vals in ANCHORS.items()]  # fmt: skip
    table = markdown_table(headers, [*full.values(), *anchors])
    sub_table = markdown_table(["sigma", "method", "PSNR", "SSIM", "time (s)"], sub_rows)
    sub_names = ", ".join(names[j] for j in subset)
    notes = [
        f"BSD68: {len(clean)} CBSD68 images as 8-bit gray; the model trained for "
        f"{args.bsd_steps} steps of {args.bsd_batch} patches ({args.bsd_steps * args.bsd_batch} "
        f"patch draws from {len(patches)} patches) in {train_s / 60:.1f} min. Peers tuned on "
        f"{len(tune_clean)} Train400 images (the last ones in name order): " + "; ".join(tuned)
        + ". Time (s) = test time over all images. " + target,
        f"BM3D subset ({len(subset)} images evenly spaced in name order: {sub_names}):\n\n"
        + sub_table,
    ]  # fmt: skip
    return table, notes, torch.cat(strip, dim=-1) if strip else torch.zeros(1, 1, 1, 1)


def crop_strip(outputs: dict[str, tuple[list[Tensor], float]], bm3d: list[Tensor],
               subset: list[int], clean: list[Tensor]) -> list[Tensor]:  # fmt: skip
    """128x128 crops of the first subset image: each method, BM3D, then the clean image."""
    j = subset[0]
    h, w = clean[j].shape[-2:]
    top, left = max(0, h // 2 - 64), max(0, w // 2 - 64)

    def crop(x: Tensor) -> Tensor:
        return to_8bit(x)[..., top : top + 128, left : left + 128]

    parts = [crop(out[j]) for out, _ in outputs.values()] + [crop(bm3d[0]), crop(clean[j])]
    return [torch.nn.functional.pad(p, (0, 4), value=1.0) for p in parts]


# -- main -------------------------------------------------------------------------------------
def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, threads=1)
    parser.add_argument("--part", choices=["all", "mnist", "bsd"], default="all")
    parser.add_argument("--mnist-test", type=int, default=1000, help="test images (subset)")
    parser.add_argument("--mnist-epochs", type=int, default=3)
    parser.add_argument("--mnist-latent", type=int, default=128)
    parser.add_argument("--mnist-rd-steps", type=int, default=400)
    parser.add_argument("--mnist-rd-batch", type=int, default=32)
    parser.add_argument("--mnist-rd-depth", type=int, default=8)
    parser.add_argument("--mnist-rd-width", type=int, default=32)
    parser.add_argument("--tune-images", type=int, default=200, help="validation images")
    parser.add_argument("--bsd-steps", type=int, default=1200)
    parser.add_argument("--bsd-batch", type=int, default=32)
    parser.add_argument("--bsd-depth", type=int, default=10)
    parser.add_argument("--bsd-width", type=int, default=32)
    parser.add_argument("--bsd-downscale", type=int, default=1, choices=[1, 2])
    parser.add_argument("--bsd-tune-images", type=int, default=4)
    parser.add_argument("--bm3d-images", type=int, default=12)
    parser.add_argument("--bm3d-sigmas", type=int, nargs="*", default=[25])
    args = parser.parse_args(argv)
    if args.quick:
        args.mnist_test, args.mnist_epochs, args.tune_images = 100, 1, 20
        args.mnist_rd_steps, args.mnist_rd_depth, args.mnist_rd_width = 10, 3, 8
        args.bsd_steps, args.bsd_depth, args.bsd_width, args.bm3d_images = 20, 4, 8, 1
        args.bsd_tune_images = 2
    return args


def finish(args: argparse.Namespace, section: str, table: str, notes: list[str],
           wall: float) -> None:  # fmt: skip
    """Print one part's table and, unless quick or --no-write, write its RESULTS.md section."""
    print_table(section, table)
    notes.insert(0, f"{machine_line(args.threads)}; seed {args.seed}; wall time of this part "
                    f"{(time.perf_counter() - wall) / 60:.1f} min.")  # fmt: skip
    if not (args.quick or args.no_write):
        write_section(args.results, section, table, "\n\n".join(notes))


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    torch.set_num_threads(args.threads)
    write = not (args.quick or args.no_write)
    if args.part in ("all", "mnist"):
        wall = time.perf_counter()
        rows, notes, grid = mnist_part(args)
        headers = ["sigma", "method", "PSNR (dB)", "SSIM", "time (s)", "tuned parameters"]
        if write:
            print("figure:", save_grid(grid, args.figures / "denoising_mnist.png", nrow=8))
        finish(args, SECTION_MNIST, markdown_table(headers, rows), notes, wall)
    if args.part in ("all", "bsd"):
        wall = time.perf_counter()
        table, notes, strip = bsd_part(args)
        if write:
            print("figure:", save_grid(strip, args.figures / "denoising_bsd68.png", nrow=1))
        finish(args, SECTION_BSD, table, notes, wall)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
