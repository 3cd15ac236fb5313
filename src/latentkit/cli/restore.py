"""``latentkit denoise``, ``inpaint`` and ``colorize``: restore images with a trained model.

Each writes a before/after PNG panel (corrupted input, output, clean target) or the restored
images as ``.npy``, and prints the PSNR gain when a clean target is known.
"""

from __future__ import annotations

import argparse
from typing import Any

from latentkit.cli.common import add_command, add_run_arguments, count, fraction, number, say, seed

__all__ = ["add_colorize", "add_denoise", "add_inpaint"]


def _common(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(parser)
    parser.add_argument(
        "-n", type=count(1, 10_000), default=16, help="number of images (default 16)"
    )
    parser.add_argument("--seed", type=seed, default=0, help="seed of the corruption")
    parser.add_argument("--out", required=True, help="output file: .png (panel) or .npy")


def _write(args: argparse.Namespace, task: str, corrupted: Any, output: Any, clean: Any) -> None:
    from latentkit._io import atomic_write_bytes
    from latentkit.cli.runs import write_images
    from latentkit.evaluation.metrics import psnr

    if args.out.lower().endswith(".png"):
        from latentkit.viz.grids import figure_to_png_bytes
        from latentkit.viz.plots import plot_restoration

        fig = plot_restoration(corrupted, output, clean, task=task, n=min(len(output), 8))
        atomic_write_bytes(args.out, figure_to_png_bytes(fig))
    else:
        write_images(args.out, output)
    base = corrupted if corrupted.shape == clean.shape else corrupted.expand_as(clean)
    before, after = psnr(base, clean).mean().item(), psnr(output, clean).mean().item()
    say(f"{task}: PSNR {before:.2f} dB -> {after:.2f} dB on {len(output)} images")
    say(f"wrote {args.out}")


def _prepare(args: argparse.Namespace) -> tuple[Any, Any]:
    from latentkit.cli.runs import load_data_for, open_run

    model = _unconditional(open_run(args.run))
    return model, load_data_for(model, args.data, args.split, args.run, limit=args.n)


def _unconditional(model: Any) -> Any:
    from latentkit.cli.main import UsageError

    if model.capabilities.conditional:
        raise UsageError(
            f"image restoration takes a model without labels; this {model.model_type} needs a "
            "label for every image (train a vae or ae for restoration)"
        )
    return model


def add_denoise(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Denoise images (adding seeded gaussian noise first when --sigma is given).",
        "  latentkit denoise runs/dae --data mnist --sigma 0.5 --out denoised.png",
    )
    _common(parser)
    parser.add_argument(
        "--sigma", type=number(0, 10), default=None, help="noise std on the [0, 1] scale"
    )
    parser.set_defaults(_run=run_denoise)
    return parser


def run_denoise(args: argparse.Namespace) -> int:
    import torch

    from latentkit.apps.denoise import denoise
    from latentkit.data.corruptions import gaussian_noise

    model, data = _prepare(args)
    noisy = data.x
    if args.sigma is not None:
        g = torch.Generator().manual_seed(args.seed)
        noisy = gaussian_noise(data.x, args.sigma, clip=True, generator=g)
    _write(args, "denoise", noisy, denoise(model, noisy), data.x)
    return 0


def add_inpaint(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Fill masked pixels: a masked-trained autoencoder, or VAE latent optimisation.",
        "  latentkit inpaint runs/vae --data mnist --mask center --size 14 "
        "--method latent_optimisation --out inpainted.png",
    )
    _common(parser)
    parser.add_argument("--mask", choices=["center", "pixels", "boxes"], default="center")
    parser.add_argument(
        "--size", type=count(1, 100_000), default=None, help="box side (default: half)"
    )
    parser.add_argument("--fraction", type=fraction, default=0.5, help="pixels mask: share hidden")
    parser.add_argument(
        "--method", choices=["autoencoder", "latent_optimisation"], default="autoencoder"
    )
    parser.set_defaults(_run=run_inpaint)
    return parser


def run_inpaint(args: argparse.Namespace) -> int:
    import torch

    from latentkit.apps.inpaint import inpaint
    from latentkit.cli.main import UsageError
    from latentkit.data.corruptions import mask_center_box, mask_random_boxes, mask_random_pixels

    model, data = _prepare(args)
    if not data.is_image:
        raise UsageError("inpainting needs image data of shape (C, H, W)")
    g = torch.Generator().manual_seed(args.seed)
    size = args.size or min(data.shape[1:]) // 2
    if size > min(data.shape[1:]):
        raise UsageError(
            f"--size {size} is larger than the images ({data.shape[1]} x {data.shape[2]})"
        )
    if args.mask == "center":
        masked, missing = mask_center_box(data.x, size)
    elif args.mask == "boxes":
        masked, missing = mask_random_boxes(data.x, 3, max(1, size // 2), generator=g)
    else:
        masked, missing = mask_random_pixels(data.x, args.fraction, generator=g)
    try:
        output = inpaint(model, data.x, missing, method=args.method)
    except TypeError as exc:
        raise UsageError(str(exc)) from exc
    _write(args, "inpaint", masked, output, data.x)
    return 0


def add_colorize(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Colorize gray versions of color images with a colorization model.",
        "  latentkit colorize runs/colorizer --data images/McMaster -n 4 --out colorized.png",
    )
    _common(parser)
    parser.add_argument("--size", type=count(1, 100_000), nargs=2, metavar=("H", "W"), default=None,
                        help="resize the images (needed when a folder mixes sizes)")  # fmt: skip
    parser.set_defaults(_run=run_colorize)
    return parser


def run_colorize(args: argparse.Namespace) -> int:
    from latentkit.apps.colorize import colorize
    from latentkit.cli.main import UsageError
    from latentkit.cli.runs import open_run
    from latentkit.data.transforms import rgb_to_gray
    from latentkit.datasets import load
    from latentkit.errors import DataError

    if not args.data:
        raise UsageError("--data is required: a folder of color images")
    model = _unconditional(open_run(args.run))
    options = {"mode": "rgb"} if args.size is None else {"mode": "rgb", "size": tuple(args.size)}
    color = load(args.data, **options).x[: args.n]
    if color.ndim != 4 or color.shape[1] != 3:
        raise DataError(f"{args.data}: colorize needs RGB images, got shape {tuple(color.shape)}")
    gray = rgb_to_gray(color)
    try:
        output = colorize(model, gray)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    _write(args, "colorize", gray, output, color)
    return 0
