"""The loop the restoration commands share (``latentkit denoise``, ``inpaint``, ``colorize``).

:func:`apply` takes the task's two steps, ``prepare`` (the corruption this command adds, if
any: noise, a mask, the gray version; and whether the clean image is therefore known) and
``restore`` (the model, at any size), and runs them either

- on image files (:func:`latentkit.cli.inputs.photo_inputs`): one at a time, each at its own
  size, the result written as the input was (:mod:`latentkit.cli.outputs`) before the next
  is read; PSNR against ``--reference`` or, when this command corrupted the image, against the
  image itself; or
- on a dataset (a name, or the run's own data): its first ``-n`` images together, PSNR against
  them when this command corrupted them, the result as a panel (``.png``), an array (``.npy``)
  or one PNG per image in a folder.

See :mod:`latentkit.cli.restore` for the commands and what they print.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from latentkit.cli.common import say

__all__ = ["DATASET_IMAGES", "Prepare", "Restore", "apply", "sources"]

DATASET_IMAGES = 16  # images of a dataset restored when -n is not given

#: (images, generator, the input or None for a dataset) -> (model input, mask, clean known?)
Prepare = Callable[[Any, Any, Any], tuple[Any, Any, bool]]
Restore = Callable[[Any, Any], Any]  # (model input, mask) -> output


def sources(args: argparse.Namespace, task: str) -> list[str]:
    from latentkit.cli.main import UsageError

    if not args.out.strip():
        raise UsageError("--out is empty: name a folder, an image file or a .npy file")
    texts = list(args.images or [])
    if args.data:
        if texts:
            raise UsageError("give the images as arguments or with --data, not both")
        texts = [args.data]
    if not texts and task == "colorize":
        raise UsageError("--data is required: the images to colorize (files, a folder, a dataset)")
    return texts


def _is_dataset(texts: list[str]) -> bool:
    from latentkit.cli.inputs import kind_of

    return not texts or (len(texts) == 1 and kind_of(texts[0]) in ("dataset", "table"))


def apply(args: argparse.Namespace, model: Any, task: str, prepare: Prepare, restore: Restore):
    """Run ``restore(prepare(images))`` on the inputs and write what was asked."""
    texts = sources(args, task)
    if _is_dataset(texts):
        return _on_dataset(args, model, task, texts[0] if texts else None, prepare, restore)
    return _on_photos(args, model, task, texts, prepare, restore)


def _channels_note(task: str, model_channels: int, image_channels: int, name: Any) -> str | None:
    if image_channels == model_channels or task == "colorize":
        return None
    if model_channels == 1:
        return (f"{name}: colour image, gray model: each colour channel is processed as a gray "
                "image (so are the other colour images)")  # fmt: skip
    return (f"{name}: gray image, colour model: the gray is repeated to RGB and the result's "
            "luminance written (so are the other gray images)")  # fmt: skip


def _on_photos(args, model, task, texts, prepare: Prepare, restore: Restore) -> int:  # type: ignore[no-untyped-def]
    import numpy as np
    import torch

    from latentkit.cli.inputs import photo_inputs, read_photo_input
    from latentkit.cli.main import UsageError
    from latentkit.cli.outputs import (
        plan_outputs,
        reference_for,
        refuse_inputs,
        write_panel,
        write_result,
    )
    from latentkit.cli.runs import write_images
    from latentkit.data.photos import fit_to_shape, read_photo
    from latentkit.evaluation.metrics import psnr

    items = photo_inputs(texts, split=args.split, limit=args.n)
    single = len(items) == 1
    paths = plan_outputs(args.out, items)
    if args.panel:
        refuse_inputs([Path(args.panel)], items, "--panel")
        if Path(args.panel).suffix.lower() != ".png":
            raise UsageError(f"cannot write the panel {Path(args.panel).name}: it is a .png file")
    references = [reference_for(args.reference, i, single) for i in items] if args.reference else []
    generator = torch.Generator().manual_seed(args.seed)
    said: set[str] = set()
    stack, shown, before, after = [], [], [], []
    for i, item in enumerate(items):
        photo = read_photo_input(item)
        clean = photo.pixels[None]  # (1, C, H, W)
        note = _channels_note(task, model.input_shape[0], photo.channels, item.name)
        if note and note.split(": ", 1)[1] not in said:
            said.add(note.split(": ", 1)[1])
            say(note)
        corrupted, mask, known = prepare(clean, generator, item)
        output = restore(corrupted, mask)  # (1, C', H, W)
        target = None
        if references:
            target = read_photo(references[i]).pixels[None]
            if tuple(target.shape[-2:]) != tuple(output.shape[-2:]):
                raise UsageError(
                    f"--reference {references[i]} is {target.shape[-1]} x {target.shape[-2]} "
                    f"but {item.name} is {output.shape[-1]} x {output.shape[-2]}; the reference "
                    "must be the clean version of the same image"
                )
            target = fit_to_shape(target, tuple(output.shape[1:]))
        elif known:
            target = clean
        if target is not None:
            before.append(psnr(fit_to_shape(corrupted, tuple(target.shape[1:])), target).item())
            after.append(psnr(output, target).item())
        if paths is None:
            stack.append(output[0])
        else:
            write_result(paths[i], output[0], photo)
        if len(shown) < 8:
            shown.append((corrupted[0], output[0], None if target is None else target[0]))
    _say_psnr(task, before, after, "--reference" if references else "the inputs")
    if paths is None:
        if any(o.shape != stack[0].shape for o in stack):
            raise UsageError(
                "the results differ in size and cannot be one .npy array; write them as files "
                "with --out FOLDER"
            )
        write_images(args.out, torch.stack(stack).numpy().astype(np.float32))
        say(f"wrote {args.out}")
    if args.panel:
        rows = [("input", [s[0] for s in shown]), (f"{task} output", [s[1] for s in shown])]
        if all(s[2] is not None for s in shown):
            rows.append(("reference" if references else "clean", [s[2] for s in shown]))
        write_panel(args.panel, rows, task)
    return 0


def _say_psnr(task: str, before: list[float], after: list[float], against: str) -> None:
    if not after:
        return
    mean_before, mean_after = sum(before) / len(before), sum(after) / len(after)
    images = "image" if len(after) == 1 else "images"
    say(f"{task}: PSNR {mean_before:.2f} dB -> {mean_after:.2f} dB on {len(after)} {images} "
        f"(against {against})")  # fmt: skip


def _dataset_name(args: argparse.Namespace, text: str | None) -> str:
    from latentkit.cli.main import UsageError
    from latentkit.cli.runs import read_preprocessing

    name = text or read_preprocessing(args.run).get("data")
    if not name or not isinstance(name, str):
        raise UsageError("--data is required (this model does not record its dataset): image "
                         "files, a folder or a dataset name")  # fmt: skip
    return name


def _on_dataset(args, model, task, text, prepare: Prepare, restore: Restore) -> int:  # type: ignore[no-untyped-def]
    import torch

    from latentkit.cli.inputs import read_data
    from latentkit.cli.main import UsageError
    from latentkit.cli.outputs import is_folder, write_panel
    from latentkit.cli.runs import write_images
    from latentkit.data.photos import write_photo
    from latentkit.datasets import available
    from latentkit.evaluation.metrics import psnr

    if args.reference:
        raise UsageError(
            "--reference takes image files or a folder of them; a dataset's clean images are "
            "known (corrupt them with --sigma or a mask to measure)"
        )
    suffix = Path(args.out).suffix.lower()
    if not is_folder(args.out) and suffix not in (".png", ".npy"):
        raise UsageError(
            f"cannot write {Path(args.out).name} for a dataset: the extension must be .png (a "
            "before/after panel) or .npy (the results), or a folder (one PNG per image)"
        )
    if args.panel and Path(args.panel).suffix.lower() != ".png":
        raise UsageError(f"cannot write the panel {Path(args.panel).name}: it is a .png file")
    name = _dataset_name(args, text)
    split = args.split or ("test" if name.lower() in available() else "train")
    data = read_data(name, split)
    if not data.is_image:
        raise UsageError(
            f"{task} needs images of shape (C, H, W); {name} holds rows of {data.shape}"
        )
    x = data.x[: args.n or DATASET_IMAGES]
    corrupted, mask, known = prepare(x, torch.Generator().manual_seed(args.seed), None)
    output = restore(corrupted, mask)
    if known:
        shaped = corrupted if corrupted.shape == x.shape else corrupted.expand_as(x)
        _say_psnr(task, psnr(shaped, x).tolist(), psnr(output, x).tolist(), "the clean images")
    panels = [args.panel] if args.panel else []
    if is_folder(args.out):
        for i, image in enumerate(output):
            write_photo(Path(args.out) / f"{i:05d}.png", image)
        say(f"wrote {len(output)} PNG files into {args.out}")
    elif suffix == ".png":
        panels.append(args.out)
    else:
        write_images(args.out, output)
        say(f"wrote {args.out}")
    for path in panels:
        if known:
            from latentkit._io import atomic_write_bytes
            from latentkit.viz.grids import figure_to_png_bytes
            from latentkit.viz.plots import plot_restoration

            fig = plot_restoration(corrupted, output, x, task=task, n=min(len(output), 8),
                                   mask=mask)  # fmt: skip
            atomic_write_bytes(path, figure_to_png_bytes(fig))
            say(f"wrote {path}")
        else:
            n = min(len(output), 8)
            rows = [("input", list(corrupted[:n])), (f"{task} output", list(output[:n]))]
            write_panel(path, rows, task)
    return 0
