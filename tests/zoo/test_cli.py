"""``latentkit models`` and the model argument of every applying command: RUN or ``--model``,
a run folder or a pretrained name (an existing path wins), a default per task where one makes
sense, one-line errors otherwise."""

from __future__ import annotations

import argparse
import json
import re

import numpy as np
import pytest
from PIL import Image

from latentkit import zoo
from latentkit.cli.main import build_parser, main

APPLYING = ["denoise", "inpaint", "colorize", "generate", "encode", "evaluate", "reconstruct",
            "interpolate", "anomaly", "report", "serve"]  # fmt: skip


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(capsys, *argv: str) -> str:
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_models_lists_every_pretrained_model(capsys):
    code, out, _ = run(capsys, "models")
    assert code == 0
    for card in zoo.cards():
        assert card["name"] in out and card["headline"] in out
        assert f"make zoo ZOO={card['name']}" in out and f"{card['parameters']:,}" in out
        assert f"{card['megabytes']:.2f} MB" in out
    code, out, _ = run(capsys, "models", "--json")
    assert code == 0 and {c["name"] for c in json.loads(out)} == set(zoo.names())


def test_models_shows_one_card(capsys):
    code, out, _ = run(capsys, "models", "mnist-vae-2d")
    assert code == 0 and out.startswith("# mnist-vae-2d") and "make zoo ZOO=mnist-vae-2d" in out
    assert "mnist-vae-16d" in one_line_error(capsys, "models", "mnist-vae")


def subcommand(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]


def required_flags(name: str) -> list[str]:
    return [t for a in subcommand(name)._actions if a.required and a.option_strings
            for t in (a.option_strings[-1], "x")]  # fmt: skip


@pytest.mark.parametrize("command", APPLYING)
def test_every_applying_command_takes_a_pretrained_name(command):
    parser = build_parser()
    folder = str(zoo.path("mnist-vae-2d"))
    for argv in (["--model", "mnist-vae-2d"], ["mnist-vae-2d"], [folder], ["--model", folder]):
        args = parser.parse_args([command, *argv, *required_flags(command)])
        assert args.run == folder, argv
    assert "--model" in subcommand(command).format_help()


def test_defaults_per_task(capsys):
    assert zoo.DEFAULT_MODELS == {"denoise": "denoiser-color", "colorize": "colorizer"}
    parser = build_parser()
    for command, name in zoo.DEFAULT_MODELS.items():
        args = parser.parse_args([command, *required_flags(command)])
        assert args.run == str(zoo.path(name))
    for command in sorted(set(APPLYING) - set(zoo.DEFAULT_MODELS)):
        err = one_line_error(capsys, command, *required_flags(command))
        assert "no model given" in err and "mnist-vae-16d" in err, command


def test_generate_with_a_pretrained_name(capsys, tmp_path):
    for argv in (["mnist-vae-16d"], ["--model", "mnist-vae-2d"]):
        out = tmp_path / f"{argv[-1]}.npy"
        code, _, err = run(capsys, "generate", *argv, "-n", "4", "--out", out)
        assert code == 0, err
        samples = np.load(out)
        assert samples.shape == (4, 1, 28, 28) and samples.std() > 0.05


def test_an_existing_folder_wins_over_a_pretrained_name(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "train", "--data", "digits", "--model", "vae", "--latent-dim",
                       "2", "--epochs", "1", "--out", "mnist-vae-16d")  # fmt: skip
    assert code == 0, err
    code, _, err = run(capsys, "generate", "mnist-vae-16d", "-n", "3", "--out", "s.npy")
    assert code == 0, err
    assert np.load(tmp_path / "s.npy").shape == (3, 1, 8, 8)  # the local digits run


def test_bad_model_arguments_fail_in_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = one_line_error(capsys, "generate", "nope", "--out", "x.png")
    assert "does not exist" in err and "denoiser-gray" in err
    err = one_line_error(capsys, "generate", "--model", "nope", "--out", "x.png")
    assert "does not exist" in err
    err = one_line_error(capsys, "generate", "mnist-vae-16d", "--model", "mnist-vae-2d",
                         "--out", "x.png")  # fmt: skip
    assert "given twice" in err
    one_line_error(capsys, "generate", "--model", "", "--out", "x.png")
    assert not list(tmp_path.iterdir())


def write_photos(folder, channels: int, n: int = 2, size: int = 128) -> None:
    """Smooth synthetic photos (gradients and a disc), 8-bit PNG."""
    folder.mkdir()
    yy, xx = np.mgrid[0:size, 0:size] / size
    for i in range(n):
        base = (
            0.2
            + 0.5 * xx * (i + 1) / n
            + 0.2 * yy
            + 0.3 * ((xx - 0.5) ** 2 + (yy - 0.4) ** 2 < 0.05)
        )
        planes = [np.clip(base * (0.6 + 0.2 * c), 0, 1) for c in range(channels)]
        array = (np.stack(planes, -1) * 255).round().astype(np.uint8)
        Image.fromarray(array[..., 0] if channels == 1 else array).save(folder / f"p{i}.png")


def psnr_gain(stdout: str) -> tuple[float, float]:
    line = next(line for line in stdout.splitlines() if "PSNR" in line)
    before, after = re.findall(r"(-?\d+\.\d+) dB", line)[:2]  # "PSNR 20.05 dB -> 32.29 dB"
    return float(before), float(after)


def test_denoise_with_a_pretrained_name(capsys, tmp_path):
    write_photos(tmp_path / "gray", 1)
    argv = ["--data", tmp_path / "gray", "--sigma", "0.1", "--out", tmp_path / "d.npy"]
    code, out, err = run(capsys, "denoise", "--model", "denoiser-gray", *argv)
    assert code == 0, err
    before, after = psnr_gain(out)
    assert after > before + 3, out
    assert np.load(tmp_path / "d.npy").shape == (2, 1, 128, 128)


def test_denoise_defaults_to_the_colour_denoiser(capsys, tmp_path):
    write_photos(tmp_path / "rgb", 3)
    code, out, err = run(capsys, "denoise", "--data", tmp_path / "rgb", "--sigma", "0.1",
                         "--out", tmp_path / "d.npy")  # fmt: skip
    assert code == 0, err
    before, after = psnr_gain(out)
    assert after > before + 3, out
    assert np.load(tmp_path / "d.npy").shape == (2, 3, 128, 128)
