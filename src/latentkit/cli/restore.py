"""``latentkit denoise``, ``inpaint`` and ``colorize``: restore images with a model.

Inputs (:mod:`latentkit.cli.inputs`): image files and folders, given as arguments or with
``--data``, each read at its own size and processed one at a time; or a dataset name, whose
first ``-n`` images (16 by default) are restored together. The model is RUN or ``--model``
(a run folder or a pretrained name); ``denoise`` and ``colorize`` default to the pretrained
model of their task (:data:`latentkit.zoo.DEFAULT_MODELS`), so that
``latentkit denoise photo.jpg --out clean.jpg`` needs none. The first argument is the model
unless it is an image file or a folder that is not a model folder.

Any size: a model trained on ``P x P`` tiles runs on images of any size through blended
patches (:func:`latentkit.apps.denoise.denoise`, :func:`latentkit.apps.inpaint.inpaint`,
:func:`latentkit.apps.colorize.colorize`). A gray model on colour images restores each colour
channel as a gray image; a colour model on gray images sees the gray repeated and gives back
the luma of its output (:func:`latentkit.apps.patchwise.across_channels`); both are said once.

Outputs (:mod:`latentkit.cli.outputs`): ``--out DIR`` (one file per input, named and
formatted as the input, same bit depth), ``--out FILE`` for one input, ``--out FILE.npy`` for
all results as one array; for a dataset, ``--out FILE.png`` is the before/after panel, as is
``--panel FILE.png`` for any input. Inputs are never overwritten.

Quality is printed only against clean images that are known: a dataset's or photo's own
pixels before a corruption this command added (``--sigma`` noise; an inpainting mask drawn
here: center, pixels, boxes), or ``--reference FILE_OR_DIR`` (matched by name). Colorizing
prints PSNR only against ``--reference``.

Guardrails: a one-line warning when the model's training did not prepare it for the task
(its ``train_config`` had no gaussian corruption for denoise, no grayscale corruption for
colorize, no mask for inpaint's autoencoder method; a pretrained model's ``task`` counts);
inpainting's method defaults by model (:func:`latentkit.apps.inpaint.default_method`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from latentkit.cli.common import add_command, add_run_arguments, count, fraction, number, say, seed
from latentkit.cli.restoration import DATASET_IMAGES, apply, sources

__all__ = ["add_colorize", "add_denoise", "add_inpaint"]

#: corruption kinds (training's CorruptionConfig.kind) that prepare a model for each task
TRAINED_FOR: dict[str, tuple[str, ...]] = {
    "denoise": ("gaussian",),
    "colorize": ("grayscale",),
    "inpaint": ("mask", "box_mask"),
}
WARNINGS: dict[str, str] = {
    "denoise": "warning: this model was not trained to denoise (no gaussian corruption in its "
    "training); results may be blurry",
    "colorize": "warning: this model was not trained to colorize (no grayscale corruption in "
    "its training); results may stay gray or take wrong colours",
    "inpaint": "warning: this model was not trained to inpaint (no mask or box_mask corruption "
    "in its training); filled pixels may be blurry or wrong (a VAE with --method "
    "latent_optimisation needs no such training)",
}
MASKS = ("center", "pixels", "boxes")


class _ImagesFirst:
    """Mixin of the positional RUN: an image file or image folder joins the images instead
    (the model then comes from --model or the task's default)."""

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        from latentkit.cli.inputs import looks_like_images

        if isinstance(values, str) and looks_like_images(values):
            namespace.images = [values, *(getattr(namespace, "images", None) or [])]
            return
        super().__call__(parser, namespace, values, option_string)  # type: ignore[misc]


class _AddImages(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        namespace.images = [*(getattr(namespace, "images", None) or []), *(values or [])]


def _common(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(parser)
    run = next(a for a in parser._actions if a.dest == "run" and not a.option_strings)
    run.__class__ = type("RunOrImage", (_ImagesFirst, type(run)), {})
    run.help = f"{run.help}; or the first image (the model is then --model or the default)"
    parser.add_argument("images", nargs="*", action=_AddImages, default=None, metavar="IMAGE",
                        help="image files or folders (read recursively) to restore")  # fmt: skip
    parser.add_argument("-n", type=count(1, 10_000), default=None,
                        help=f"number of images (default: {DATASET_IMAGES} of a dataset, every "
                        "image file given)")  # fmt: skip
    parser.add_argument("--seed", type=seed, default=0, help="seed of the corruption (default 0)")
    parser.add_argument("--out", required=True,
                        help="a folder (one file per input, named and formatted as the input), "
                        "an image file (one input), .npy (all results), or for a dataset a .png "
                        "before/after panel")  # fmt: skip
    parser.add_argument("--panel", default=None, metavar="FILE.png",
                        help="also write a before/after panel")  # fmt: skip
    parser.add_argument("--reference", default=None, metavar="FILE_OR_DIR",
                        help="clean images (matched by name) to print PSNR against")  # fmt: skip


def _open(args: argparse.Namespace, task: str) -> Any:
    from latentkit.cli.main import UsageError
    from latentkit.cli.runs import open_run

    model = open_run(args.run)
    if model.capabilities.conditional:
        raise UsageError(
            f"image restoration takes a model without labels; this {model.model_type} needs a "
            "label for every image (train a vae or ae for restoration)"
        )
    shape = tuple(model.input_shape)
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise UsageError(
            f"{task} needs a model of gray or RGB images (C, H, W); this {model.model_type} "
            f"takes inputs of shape {shape}"
        )
    return model


def trained_for(model: Any, task: str) -> bool | None:
    """Whether the model's training prepared it for ``task``; None when nothing is recorded.

    A pretrained model's ``task`` counts; otherwise the corruption of its ``train_config``
    (written by the trainer into the model folder) must be one of :data:`TRAINED_FOR`.
    """
    metadata = model.metadata if isinstance(model.metadata, dict) else {}
    if metadata.get("task") == task:
        return True
    config = metadata.get("train_config")
    if not isinstance(config, dict):
        return None
    corruption = config.get("corruption")
    kind = corruption.get("kind") if isinstance(corruption, dict) else None
    return kind in TRAINED_FOR[task]


def _warn_untrained(model: Any, task: str) -> None:
    if trained_for(model, task) is False:
        say(WARNINGS[task])


def _restore_error(exc: Exception) -> Exception:
    from latentkit.cli.main import UsageError

    return UsageError(" ".join(str(exc).split()))


# -- denoise ----------------------------------------------------------------------------------


def add_denoise(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Denoise images of any size (adding seeded gaussian noise first when --sigma is given).",
        "  latentkit denoise photo.jpg --out clean.jpg            (the pretrained default)\n"
        "  latentkit denoise runs/dae photos/ --out denoised/ --panel panel.png\n"
        "  latentkit denoise runs/dae --data mnist --sigma 0.5 --out denoised.png",
    )
    _common(parser)
    parser.add_argument("--sigma", type=number(0, 10), default=None,
                        help="add noise of this std (on the [0, 1] scale) first, and measure "
                        "PSNR against the images before it (default: none)")  # fmt: skip
    parser.set_defaults(_run=run_denoise)
    return parser


def run_denoise(args: argparse.Namespace) -> int:
    from latentkit.apps.denoise import denoise
    from latentkit.apps.patchwise import across_channels
    from latentkit.data.corruptions import gaussian_noise

    model = _open(args, "denoise")
    _warn_untrained(model, "denoise")
    if args.sigma is not None:
        say(f"denoise: adding gaussian noise of std {args.sigma:g} (seed {args.seed}) first")

    def prepare(images: Any, generator: Any, _: Any) -> tuple[Any, Any, bool]:
        if args.sigma is None:
            return images, None, False
        return gaussian_noise(images, args.sigma, clip=True, generator=generator), None, True

    def restore(images: Any, _: Any) -> Any:
        try:
            return across_channels(lambda x: denoise(model, x), images, model.input_shape[0])
        except ValueError as exc:
            raise _restore_error(exc) from exc

    return apply(args, model, "denoise", prepare, restore)


# -- inpaint ----------------------------------------------------------------------------------


def add_inpaint(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Fill missing pixels: a masked-trained autoencoder, or VAE latent optimisation.",
        "  latentkit inpaint runs/vae --data mnist --mask center --size 14 --out inpainted.png\n"
        "  latentkit inpaint runs/inpainter scan.png --mask scratches.png --out fixed.png",
    )
    _common(parser)
    parser.add_argument("--mask", default="center", metavar="KIND_OR_FILE",
                        help="center, pixels or boxes (drawn here, measured against the image), "
                        "or a mask image (white = missing; a folder: one per input, by name) "
                        "(default: center)")  # fmt: skip
    parser.add_argument("--size", type=count(1, 100_000), default=None,
                        help="box side of center and boxes (default: half the smaller "
                        "side)")  # fmt: skip
    parser.add_argument("--fraction", type=fraction, default=0.5,
                        help="pixels mask: share hidden (default 0.5)")  # fmt: skip
    parser.add_argument("--method", choices=["autoencoder", "latent_optimisation"], default=None,
                        help="default: latent_optimisation for a VAE (a model with a decoder "
                        "likelihood), autoencoder otherwise")  # fmt: skip
    parser.set_defaults(_run=run_inpaint)
    return parser


def _mask_of(
    args: argparse.Namespace, images: Any, generator: Any, item: Any
) -> tuple[Any, Any, bool]:
    """The masked images, the mask of missing pixels, and whether the clean image is known."""
    from latentkit.cli.main import UsageError
    from latentkit.data.corruptions import mask_center_box, mask_random_boxes, mask_random_pixels

    side = min(images.shape[-2:])
    size = args.size or max(1, side // 2)
    if args.mask in MASKS and args.mask != "pixels" and size > side:
        raise UsageError(
            f"--size {size} is larger than the images ({images.shape[-2]} x {images.shape[-1]})"
        )
    if args.mask == "center":
        return (*mask_center_box(images, size), True)
    if args.mask == "boxes":
        return (*mask_random_boxes(images, 3, max(1, size // 2), generator=generator), True)
    if args.mask == "pixels":
        return (*mask_random_pixels(images, args.fraction, generator=generator), True)
    missing = _mask_file(args, images, item)
    return images.masked_fill(missing, 0.0), missing, False


def _check_mask(args: argparse.Namespace) -> None:
    from latentkit.cli.main import UsageError

    if args.mask not in MASKS and not (args.mask and Path(args.mask).exists()):
        raise UsageError(
            f"--mask {args.mask!r}: expected {', '.join(MASKS)}, or a mask image file or "
            "folder (white = missing)"
        )


def _mask_file(args: argparse.Namespace, images: Any, item: Any) -> Any:
    """The mask image for ``images`` (white = missing), as a bool tensor of their shape."""
    from latentkit.cli.main import UsageError
    from latentkit.cli.outputs import reference_for
    from latentkit.data.photos import fit_to_shape, read_photo

    path = Path(args.mask)
    if path.is_dir():
        if item is None:
            raise UsageError(f"--mask {args.mask} is a folder: one mask per input image, by "
                             "name; for a dataset pass one mask file")  # fmt: skip
        path = reference_for(str(path), item, False)
    pixels = read_photo(path).pixels[None]  # (1, C, H, W)
    if tuple(pixels.shape[-2:]) != tuple(images.shape[-2:]):
        raise UsageError(
            f"--mask {path} is {pixels.shape[-1]} x {pixels.shape[-2]} but the image is "
            f"{images.shape[-1]} x {images.shape[-2]}; a mask has the size of its image"
        )
    missing = fit_to_shape(pixels, (1, *pixels.shape[-2:])) > 0.5  # (1, 1, H, W)
    if not missing.any():
        raise UsageError(f"--mask {path} marks no pixel as missing (white = missing)")
    return missing.expand_as(images).contiguous()


def run_inpaint(args: argparse.Namespace) -> int:
    from latentkit.apps.inpaint import default_method, inpaint
    from latentkit.apps.patchwise import across_channels

    _check_mask(args)
    model = _open(args, "inpaint")
    method = args.method or default_method(model)
    if args.method is None:
        say(f"inpaint: method {method} (the default for this {model.model_type})")
    if method == "autoencoder":
        _warn_untrained(model, "inpaint")

    def prepare(images: Any, generator: Any, item: Any) -> tuple[Any, Any, bool]:
        return _mask_of(args, images, generator, item)

    def restore(images: Any, missing: Any) -> Any:
        def fill(x: Any, m: Any) -> Any:
            return inpaint(model, x, m, method=method)

        try:
            return across_channels(fill, images, model.input_shape[0], missing)
        except (TypeError, ValueError) as exc:
            raise _restore_error(exc) from exc

    return apply(args, model, "inpaint", prepare, restore)


# -- colorize ---------------------------------------------------------------------------------


def add_colorize(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        "Colorize gray images (colour images: from their luminance) with a colorization model.",
        "  latentkit colorize old.png --out color.png             (the pretrained default)\n"
        "  latentkit colorize runs/colorizer photos/ --out colorized/ --reference originals/",
    )
    _common(parser)
    parser.add_argument("--size", type=count(1, 100_000), nargs=2, metavar=("H", "W"), default=None,
                        help="resize the images to H x W first (default: each at its own "
                        "size)")  # fmt: skip
    parser.set_defaults(_run=run_colorize)
    return parser


def run_colorize(args: argparse.Namespace) -> int:
    from latentkit.apps.colorize import colorize
    from latentkit.data.photos import fit_to_shape
    from latentkit.data.transforms import rgb_to_gray

    sources(args, "colorize")  # "--data is required" before the model is opened
    model = _open(args, "colorize")
    _warn_untrained(model, "colorize")
    said: list[bool] = []

    def prepare(images: Any, _: Any, __: Any) -> tuple[Any, Any, bool]:
        if args.size is not None:
            images = fit_to_shape(images, (images.shape[1], *args.size))
        if images.shape[1] == 3 and not said:
            said.append(True)
            say("colorize: colour inputs are colorized from their luminance (their own colours "
                "are replaced)")  # fmt: skip
        return (rgb_to_gray(images) if images.shape[1] == 3 else images), None, False

    def restore(images: Any, _: Any) -> Any:
        try:
            return colorize(model, images)
        except ValueError as exc:
            raise _restore_error(exc) from exc

    return apply(args, model, "colorize", prepare, restore)
