"""Every subcommand as a user runs it: a subprocess on small data, its outputs, and one-line
errors with exit status 2 for bad flags and missing files."""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from latentkit import Autoencoder, AutoencoderConfig
from latentkit.nn import NetworkConfig
from latentkit.training.config import CorruptionConfig, TrainConfig
from latentkit.training.trainer import Trainer


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "latentkit", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def ok(*args: str, cwd: Path) -> str:
    result = cli(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A folder with a VAE run trained by the CLI and a denoising autoencoder."""
    folder = tmp_path_factory.mktemp("cli")
    ok("train", "--data", "digits", "--model", "vae", "--latent-dim", "2", "--epochs", "2",
       "--out", "vae", cwd=folder)  # fmt: skip
    from latentkit.datasets import load

    torch.manual_seed(0)
    dae = Autoencoder(AutoencoderConfig(input_shape=(1, 8, 8), latent_dim=16,
                                        network=NetworkConfig(hidden=(64,))))  # fmt: skip
    config = TrainConfig(epochs=30, batch_size=64, progress=False,
                         corruption=CorruptionConfig(kind="gaussian", amount=0.3))  # fmt: skip
    Trainer(config).fit(dae, load("digits", "train"), out=folder / "dae")
    return folder


def png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        pixels = np.asarray(image.convert("L"), dtype=np.float64)
        assert pixels.std() > 5  # not blank
        return image.size


def test_help_is_fast_and_every_command_has_an_example(workdir):
    out = ok("--help", cwd=workdir)
    # fast because nothing heavy is imported (checked by what is imported, not by a clock)
    code = (
        "import contextlib, io, sys\n"
        "from latentkit.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "heavy = [m for m in ('torch', 'numpy', 'matplotlib', 'fastapi') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=workdir, timeout=300)
    commands = ["train", "evaluate", "encode", "reconstruct", "generate", "interpolate",
                "denoise", "inpaint", "colorize", "anomaly", "report", "serve", "demo"]  # fmt: skip
    for command in commands:
        assert command in out
        assert "example" in ok(command, "--help", cwd=workdir)


def test_evaluate_json(workdir):
    metrics = json.loads(ok("evaluate", "vae", "--data", "digits", "--k", "10", "--json",
                            cwd=workdir))  # fmt: skip
    assert metrics["samples"] == 359 and metrics["model_type"] == "vae"
    assert metrics["nll_iwae_k10"] <= metrics["negative_elbo"] + 1.0
    assert metrics["active_units"] in (1, 2)


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".parquet"])
def test_encode_formats(workdir, suffix):
    out = workdir / f"codes{suffix}"
    assert "359 codes" in ok("encode", "vae", "--data", "digits", "--out", out.name, cwd=workdir)
    if suffix == ".npy":
        codes = np.load(out)
    elif suffix == ".csv":
        with open(out) as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == ["z0", "z1", "label"]
        codes = np.array(rows[1:], dtype=float)
    else:
        import pyarrow.parquet as pq

        codes = np.column_stack([c.to_numpy() for c in pq.read_table(out).columns])
    assert codes.shape == (359, 3)


def test_reconstruct_generate_interpolate_write_pngs(workdir):
    ok("reconstruct", "vae", "--data", "digits", "-n", "8", "--out", "rec.png", cwd=workdir)
    ok("generate", "vae", "-n", "16", "--temperature", "0.7", "--out", "gen.png", cwd=workdir)
    ok("generate", "vae", "-n", "5", "--out", "gen.npy", cwd=workdir)
    assert np.load(workdir / "gen.npy").shape == (5, 1, 8, 8)
    ok("interpolate", "vae", "--data", "digits", "--pairs", "0:1", "2:3", "--steps", "6",
       "--method", "spherical", "--out", "walk.png", cwd=workdir)  # fmt: skip
    for name in ("rec.png", "gen.png", "walk.png"):
        width, height = png_size(workdir / name)
        assert width > 100 and height > 50


def psnr_change(output: str) -> tuple[float, float]:
    match = re.search(r"PSNR ([\d.]+) dB -> ([\d.]+) dB", output)
    assert match, output
    return float(match[1]), float(match[2])


def test_denoise_improves_psnr(workdir):
    out = ok("denoise", "dae", "--data", "digits", "--sigma", "0.3", "-n", "64",
             "--out", "den.png", cwd=workdir)  # fmt: skip
    before, after = psnr_change(out)
    assert after > before + 1.0, out
    png_size(workdir / "den.png")


def test_inpaint_both_methods(workdir):
    for method in ("autoencoder", "latent_optimisation"):
        run = "dae" if method == "autoencoder" else "vae"
        out = ok("inpaint", run, "--data", "digits", "--mask", "center", "--method", method,
                 "--out", f"inp-{method}.png", cwd=workdir)  # fmt: skip
        assert "inpaint: PSNR" in out
        png_size(workdir / f"inp-{method}.png")
    result = cli("inpaint", "dae", "--data", "digits", "--method", "latent_optimisation",
                 "--out", "x.png", cwd=workdir)  # fmt: skip
    assert result.returncode == 2 and "latent optimisation needs a VAE" in result.stderr


def test_colorize_on_an_image_folder(workdir, data_root):
    torch.manual_seed(0)
    from latentkit.apps.colorize import train_colorizer
    from latentkit.datasets import load

    patches = load(data_root / "images" / "Set5", mode="rgb", patch_size=8, patches="random",
                   n_patches=200).x  # fmt: skip
    model = train_colorizer(patches, latent_dim=16, network=NetworkConfig(hidden=(64,)),
                            train=TrainConfig(epochs=2, batch_size=64, progress=False))  # fmt: skip
    model.save(workdir / "colorizer")
    set5 = str(data_root / "images" / "Set5")  # PSNR only against a reference, by name
    out = ok("colorize", "colorizer", "--data", set5, "-n", "2", "--out", "col",
             "--panel", "col.png", "--reference", set5, cwd=workdir)  # fmt: skip
    assert "colorize: PSNR" in out
    png_size(workdir / "col.png")


def test_anomaly_csv_has_score_and_flag(workdir):
    out = ok("anomaly", "vae", "--data", "digits", "--method", "elbo", "--contamination", "0.1",
             "--normal-class", "0", "--out", "scores.csv", cwd=workdir)  # fmt: skip
    assert "AUROC" in out
    with open(workdir / "scores.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 359 and set(rows[0]) == {"index", "score", "is_anomaly"}
    flagged = sum(int(float(r["is_anomaly"])) for r in rows)
    assert 30 <= flagged <= 40  # 10 percent of 359


def test_anomaly_oneclass_scores_are_written(workdir):
    method = "neighbors+reconstruction+standardized"
    out = ok("anomaly", "vae", "--data", "digits", "--method", method, "--normal-class", "0",
             "--out", "oneclass.csv", cwd=workdir)  # fmt: skip
    assert "AUROC" in out
    assert "reference: the codes and errors of" in out and "left out" not in out  # test split
    with open(workdir / "oneclass.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 359 and all(math.isfinite(float(r["score"])) for r in rows)


def test_oneclass_methods_of_the_cli_are_the_library_s_but_complexity():
    from latentkit.apps.oneclass import METHODS
    from latentkit.cli.anomaly_cmd import ONECLASS_METHODS

    assert set(ONECLASS_METHODS) == set(METHODS) - {"complexity"}


def test_anomaly_of_the_training_table_leaves_each_row_out_of_its_neighbours(tmp_path):
    rows = np.random.default_rng(0).normal(size=(60, 3)).astype(np.float32)
    rows[7] = [8.0, -8.0, 8.0]  # one far row
    np.save(tmp_path / "t.npy", rows)
    ok("train", "--data", "t.npy", "--model", "ae", "--latent-dim", "2", "--epochs", "2",
       "--out", "run", cwd=tmp_path)  # fmt: skip
    out = ok("anomaly", "run", "--method", "neighbors", "--out", "s.csv", cwd=tmp_path)
    assert "each left out of its own neighbours" in out
    with open(tmp_path / "s.csv") as fh:
        scores = [float(r["score"]) for r in csv.DictReader(fh)]
    assert max(range(60), key=scores.__getitem__) == 7


def test_report_is_written(workdir):
    ok("report", "vae", "--data", "digits", "--points", "300", "--out", "report.html", cwd=workdir)
    html = (workdir / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "vae", "-n", "0", "--out", "x.png"], "-n: must be in [1, 100000], got 0"),
        (["encode", "missing-run", "--data", "digits", "--out", "c.npy"], "does not exist"),
        (["encode", "vae", "--data", "digits", "--out", "c.txt"], "extension must be one of"),
        (["encode", "vae", "--data", "nonexistent", "--out", "c.npy"], "nonexistent"),
        (["encode", "vae", "--data", "mnist", "--root", "x", "--out", "c.npy"], "unrecognized"),
        (["evaluate", "vae", "--data", "digits", "--k", "0"], "--k: must be in [1, 100000], got 0"),
        (
            ["interpolate", "vae", "--data", "digits", "--pairs", "0:9999", "--out", "w.png"],
            "indices must be in",
        ),
        (
            ["anomaly", "vae", "--data", "digits", "--contamination", "2", "--out", "s.csv"],
            "--contamination",
        ),
        (["report", "vae", "--data", "digits", "--out", "r.pdf"], ".html"),
        (["train", "--data", "digits", "--epochs", "x", "--out", "r"], "expected a whole number"),
        (["nosuchcommand"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(workdir, args, message):
    result = cli(*args, cwd=workdir)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr
