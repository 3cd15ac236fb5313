"""Your own photos from the command line: image files of every format and bit depth, folders
of mixed sizes, any-size models, outputs named and formatted as the inputs, references,
masks, and the guardrails of the restoration commands. Files are written by the tests;
the models are tiny and trained here on 8x8 patches (seconds)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from latentkit import VAE, Autoencoder, AutoencoderConfig, VAEConfig
from latentkit.cli.main import main
from latentkit.data.photos import read_photo, write_photo
from latentkit.nn import NetworkConfig
from latentkit.training.config import CorruptionConfig, TrainConfig
from latentkit.training.trainer import Trainer

H, W = 48, 64  # every photo here is 64 x 48 unless said otherwise


def photo(height: int = H, width: int = W, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A smooth synthetic photo (gradients and a disc) in [0, 1], (H, W, C)."""
    yy, xx = np.mgrid[0:height, 0:width]
    yy, xx = yy / height, xx / width
    disc = ((xx - 0.3 - 0.1 * seed) ** 2 + (yy - 0.5) ** 2) < 0.06
    planes = [0.25 + 0.35 * xx * (1 + 0.3 * c) + 0.2 * yy + 0.3 * disc for c in range(channels)]
    return np.clip(np.stack(planes, -1), 0, 1)


def as_tensor(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(pixels.transpose(2, 0, 1).copy()).float()  # (C, H, W)


def patches(channels: int) -> torch.Tensor:
    """8x8 patches (stride 2) of four photos: (N, C, 8, 8)."""
    images = torch.stack([as_tensor(photo(channels=channels, seed=s)) for s in range(4)])
    tiles = images.unfold(2, 8, 2).unfold(3, 8, 2)  # (4, C, 21, 29, 8, 8)
    return tiles.permute(0, 2, 3, 1, 4, 5).reshape(-1, channels, 8, 8).contiguous()


def trained(folder, model, data, corruption: CorruptionConfig | None, epochs: int = 4) -> str:
    """Fit, then save with the train config in the metadata, as the trainer's run folder."""
    config = TrainConfig(
        epochs=epochs, batch_size=64, lr=3e-3, progress=False, corruption=corruption
    )
    Trainer(config).fit(model, data)
    model.save(folder, extra={"train_config": config.to_dict()})
    return str(folder)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, str]:
    """dae (gray, gaussian noise), ae and ae3 (gray and RGB, no corruption), colorizer (RGB,
    grayscale),
    inpainter (gray, box masks), vae (gray, untrained: latent optimisation only)."""
    root = tmp_path_factory.mktemp("photo-runs")
    torch.manual_seed(0)
    net = NetworkConfig(hidden=(64,))
    gray, colour = patches(1), patches(3)

    def ae(channels: int) -> Autoencoder:
        return Autoencoder(
            AutoencoderConfig(input_shape=(channels, 8, 8), latent_dim=16, network=net)
        )

    vae = VAE(VAEConfig(input_shape=(1, 8, 8), latent_dim=4, network=net))
    vae.save(root / "vae")
    return {
        "dae": trained(root / "dae", ae(1), gray, CorruptionConfig(kind="gaussian", amount=0.1)),
        "ae": trained(root / "ae", ae(1), gray, None, epochs=1),
        "ae3": trained(root / "ae3", ae(3), colour, None, epochs=1),
        "colorizer": trained(root / "colorizer", ae(3), colour, CorruptionConfig(kind="grayscale")),
        "inpainter": trained(
            root / "inpainter", ae(1), gray, CorruptionConfig(kind="box_mask", amount=0.4), epochs=1
        ),
        "vae": str(root / "vae"),
    }


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys, *argv) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return out


def refused(capsys, *argv) -> str:
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    return err


def save(path, pixels: np.ndarray, bits: int = 8, mode: str | None = None):
    """Write ``pixels`` (H, W, C) in [0, 1] as the suffix says, at ``bits``, converted to
    Pillow ``mode`` (RGBA, P) when given."""
    if bits == 16:
        return write_photo(path, as_tensor(pixels), bits=16)
    values = np.rint(pixels * 255).astype(np.uint8)
    image = Image.fromarray(values[..., 0] if values.shape[2] == 1 else values)
    (image.convert(mode) if mode else image).save(path)
    return path


# name, channels, bits, Pillow mode to convert to, expected note
FILES = [
    ("rgb8.png", 3, 8, None, None),
    ("gray8.png", 1, 8, None, None),
    ("gray16.png", 1, 16, None, None),
    ("rgb16.png", 3, 16, None, None),
    ("photo.jpg", 3, 8, None, None),
    ("gray16.tif", 1, 16, None, None),
    ("rgb8.tif", 3, 8, None, None),
    ("photo.bmp", 3, 8, None, None),
    ("photo.webp", 3, 8, None, None),
    ("rgba.png", 3, 8, "RGBA", "rgba.png: RGBA converted to RGB (alpha dropped)"),
    ("palette.png", 3, 8, "P", "palette.png: palette image converted to RGB"),
]


@pytest.mark.parametrize(("name", "channels", "bits", "mode", "note"), FILES)
def test_denoise_writes_the_input_format_size_and_depth(
    capsys, tmp_path, runs, name, channels, bits, mode, note
):
    save(tmp_path / name, photo(channels=channels), bits, mode)
    before = (tmp_path / name).read_bytes()
    out = ok(capsys, "denoise", runs["dae"], tmp_path / name, "--out", tmp_path / "out")
    result, source = read_photo(tmp_path / "out" / name), read_photo(tmp_path / name)
    assert result.format == source.format and result.bits == source.bits == bits
    assert result.size == (H, W) and result.channels == source.channels
    assert (tmp_path / name).read_bytes() == before  # the input is untouched
    assert f"wrote {tmp_path / 'out' / name}" in out and "PSNR" not in out
    if note:
        assert note in out
    if source.channels == 3:  # a gray model on a colour photo: per channel, said once
        assert out.count("each colour channel is processed as a gray image") == 1


def test_a_tile_model_denoises_a_larger_photo(capsys, tmp_path, runs):
    save(tmp_path / "photo.png", photo())
    out = ok(
        capsys,
        "denoise",
        runs["dae"],
        tmp_path / "photo.png",
        "--sigma",
        "0.1",
        "--out",
        tmp_path / "clean.png",
        "--panel",
        tmp_path / "panel.png",
    )
    match = re.search(
        r"denoise: PSNR ([\d.]+) dB -> ([\d.]+) dB on 1 image \(against the inputs", out
    )
    assert match and float(match[2]) > float(match[1]) + 1.0, out
    assert read_photo(tmp_path / "clean.png").size == (H, W)
    with Image.open(tmp_path / "panel.png") as panel:
        assert panel.format == "PNG" and panel.size[0] > 100


def test_one_input_to_a_file_of_another_format(capsys, tmp_path, runs):
    save(tmp_path / "photo.png", photo(), bits=16)
    out = ok(capsys, "denoise", runs["dae"], tmp_path / "photo.png", "--out", tmp_path / "c.jpg")
    assert "holds 8 bits" in out
    result = read_photo(tmp_path / "c.jpg")
    assert result.format == "JPEG" and result.bits == 8 and result.size == (H, W)


def test_a_folder_of_mixed_sizes_recursively(capsys, tmp_path, runs):
    sizes = {"a.png": (48, 64), "sub/b.jpg": (30, 41), "sub/deeper/c.tif": (17, 9)}
    for name, (h, w) in sizes.items():
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        save(tmp_path / "in" / name, photo(h, w))
    ok(capsys, "denoise", runs["dae"], tmp_path / "in", "--out", tmp_path / "out")
    for name, size in sizes.items():
        result = read_photo(tmp_path / "out" / name)
        assert result.size == size and result.format == read_photo(tmp_path / "in" / name).format
    ok(
        capsys,
        "denoise",
        runs["dae"],
        "--data",
        tmp_path / "in",
        "-n",
        "2",
        "--out",
        tmp_path / "two",
    )
    assert len(list((tmp_path / "two").rglob("*.*"))) == 2
    err = refused(capsys, "denoise", runs["dae"], tmp_path / "in", "--out", tmp_path / "x.npy")
    assert "differ in size" in err
    err = refused(capsys, "denoise", runs["dae"], tmp_path / "in", "--out", tmp_path / "x.png")
    assert "names one file but there are 3 inputs" in err


def test_same_size_results_as_one_array(capsys, tmp_path, runs):
    for i in range(2):
        save(tmp_path / f"p{i}.png", photo(seed=i))
    ok(
        capsys,
        "denoise",
        runs["dae"],
        tmp_path / "p0.png",
        tmp_path / "p1.png",
        "--out",
        tmp_path / "all.npy",
    )
    assert np.load(tmp_path / "all.npy").shape == (2, 3, H, W)


def test_inputs_are_never_overwritten(capsys, tmp_path, runs):
    save(tmp_path / "photo.png", photo())
    before = (tmp_path / "photo.png").read_bytes()
    for flags in (
        ["--out", tmp_path / "photo.png"],
        ["--out", tmp_path],
        ["--out", tmp_path / "o", "--panel", tmp_path / "photo.png"],
    ):
        err = refused(capsys, "denoise", runs["dae"], tmp_path / "photo.png", *flags)
        assert "inputs are never overwritten" in err
    assert (tmp_path / "photo.png").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


def test_psnr_only_against_a_reference(capsys, tmp_path, runs):
    (tmp_path / "clean").mkdir()
    (tmp_path / "noisy").mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        clean = photo(seed=i)
        save(tmp_path / "clean" / f"p{i}.png", clean)
        save(
            tmp_path / "noisy" / f"p{i}.jpg",
            np.clip(clean + rng.normal(0, 0.08, clean.shape), 0, 1),
        )
    out = ok(capsys, "denoise", runs["dae"], tmp_path / "noisy", "--out", tmp_path / "out")
    assert "PSNR" not in out  # no clean image is known: no number (never "inf dB")
    out = ok(
        capsys,
        "denoise",
        runs["dae"],
        tmp_path / "noisy",
        "--out",
        tmp_path / "out",
        "--reference",
        tmp_path / "clean",
    )
    line = next(line for line in out.splitlines() if "PSNR" in line)
    assert "on 2 images (against --reference)" in line and "inf" not in line
    err = refused(
        capsys,
        "denoise",
        runs["dae"],
        tmp_path / "noisy",
        "--out",
        tmp_path / "o2",
        "--reference",
        tmp_path / "noisy" / "p0.jpg",
    )
    assert "one file but there are several inputs" in err
    (tmp_path / "clean" / "p1.png").unlink()
    err = refused(
        capsys,
        "denoise",
        runs["dae"],
        tmp_path / "noisy",
        "--out",
        tmp_path / "o3",
        "--reference",
        tmp_path / "clean",
    )
    assert "no reference for p1.jpg" in err


def test_a_dataset_without_sigma_prints_no_psnr(capsys, tmp_path, runs):
    out = ok(
        capsys, "denoise", runs["dae"], "--data", "digits", "-n", "4", "--out", tmp_path / "d.png"
    )
    assert "PSNR" not in out and (tmp_path / "d.png").exists()
    out = ok(
        capsys,
        "denoise",
        runs["dae"],
        "--data",
        "digits",
        "-n",
        "4",
        "--sigma",
        "0.2",
        "--out",
        tmp_path / "d.npy",
    )
    assert "against the clean images" in out and np.load(tmp_path / "d.npy").shape == (4, 1, 8, 8)


def test_warnings_when_a_model_was_not_trained_for_the_task(capsys, tmp_path, runs):
    save(tmp_path / "photo.png", photo())
    save(tmp_path / "gray.png", photo(channels=1))
    warning = "warning: this model was not trained to denoise (no gaussian corruption"
    out = ok(capsys, "denoise", runs["ae"], tmp_path / "photo.png", "--out", tmp_path / "a.png")
    assert warning in out
    out = ok(capsys, "denoise", runs["dae"], tmp_path / "photo.png", "--out", tmp_path / "b.png")
    assert "warning:" not in out
    out = ok(capsys, "denoise", runs["vae"], tmp_path / "photo.png", "--out", tmp_path / "v.png")
    assert "warning:" not in out  # saved without a train config: nothing is known, no warning
    err = refused(
        capsys, "colorize", runs["dae"], tmp_path / "gray.png", "--out", tmp_path / "c.png"
    )
    assert "colorization model maps RGB" in err
    out = ok(
        capsys, "colorize", runs["colorizer"], tmp_path / "gray.png", "--out", tmp_path / "c.png"
    )
    assert "warning:" not in out
    out = ok(capsys, "colorize", runs["ae3"], tmp_path / "gray.png", "--out", tmp_path / "d.png")
    assert "warning: this model was not trained to colorize (no grayscale corruption" in out
    out = ok(
        capsys,
        "inpaint",
        runs["ae"],
        tmp_path / "gray.png",
        "--method",
        "autoencoder",
        "--out",
        tmp_path / "i.png",
    )
    assert "warning: this model was not trained to inpaint" in out
    out = ok(
        capsys, "inpaint", runs["inpainter"], tmp_path / "gray.png", "--out", tmp_path / "j.png"
    )
    assert "warning:" not in out and "method autoencoder" in out
    out = ok(capsys, "inpaint", runs["vae"], tmp_path / "gray.png", "--out", tmp_path / "k.png")
    assert "method latent_optimisation" in out and "warning:" not in out


def test_colorize_a_gray_photo(capsys, tmp_path, runs):
    colour = photo()
    gray = (colour @ np.array([0.299, 0.587, 0.114]))[..., None]
    save(tmp_path / "old.png", gray)
    save(tmp_path / "ref.png", colour)
    out = ok(
        capsys, "colorize", runs["colorizer"], tmp_path / "old.png", "--out", tmp_path / "color.png"
    )
    assert "PSNR" not in out  # no reference: nothing to measure against
    result = read_photo(tmp_path / "color.png")
    assert result.channels == 3 and result.size == (H, W) and result.format == "PNG"
    out = ok(
        capsys,
        "colorize",
        runs["colorizer"],
        tmp_path / "old.png",
        "--out",
        tmp_path / "color2.png",
        "--reference",
        tmp_path / "ref.png",
    )
    assert "colorize: PSNR" in out and "against --reference" in out


def test_a_colour_model_on_a_gray_photo_gives_gray(capsys, tmp_path, runs):
    save(tmp_path / "gray.png", photo(channels=1))
    out = ok(
        capsys, "denoise", runs["colorizer"], tmp_path / "gray.png", "--out", tmp_path / "o.png"
    )
    assert "gray image, colour model" in out
    assert read_photo(tmp_path / "o.png").channels == 1


def test_inpaint_with_a_mask_file(capsys, tmp_path, runs):
    save(tmp_path / "photo.png", photo())
    mask = np.zeros((H, W, 1))
    mask[10:20, 30:45] = 1.0  # white = missing
    save(tmp_path / "mask.png", mask)
    out = ok(
        capsys,
        "inpaint",
        runs["inpainter"],
        tmp_path / "photo.png",
        "--mask",
        tmp_path / "mask.png",
        "--out",
        tmp_path / "filled.png",
    )
    assert "PSNR" not in out
    source, filled = (
        read_photo(tmp_path / "photo.png").pixels,
        read_photo(tmp_path / "filled.png").pixels,
    )
    hole = torch.from_numpy(mask[..., 0] > 0.5).expand_as(source)
    assert torch.equal(filled[~hole], source[~hole])  # observed pixels kept exactly
    assert not torch.equal(filled[hole], source[hole])
    save(tmp_path / "small.png", mask[:10])
    err = refused(
        capsys,
        "inpaint",
        runs["inpainter"],
        tmp_path / "photo.png",
        "--mask",
        tmp_path / "small.png",
        "--out",
        tmp_path / "x.png",
    )
    assert "a mask has the size of its image" in err
    err = refused(
        capsys,
        "inpaint",
        runs["inpainter"],
        tmp_path / "photo.png",
        "--mask",
        "nowhere.png",
        "--out",
        tmp_path / "x.png",
    )
    assert "center, pixels, boxes" in err
    out = ok(
        capsys,
        "inpaint",
        runs["inpainter"],
        tmp_path / "photo.png",
        "--mask",
        "center",
        "--out",
        tmp_path / "c.png",
    )
    assert "against the inputs" in out  # the mask was drawn here: the clean photo is known


def test_the_first_argument_may_be_the_image(capsys, tmp_path, runs, monkeypatch):
    from latentkit import zoo

    monkeypatch.setitem(zoo.DEFAULT_MODELS, "denoise", runs["dae"])  # the task's default model
    save(tmp_path / "photo.jpg", photo())
    ok(capsys, "denoise", tmp_path / "photo.jpg", "--out", tmp_path / "clean.jpg")
    assert read_photo(tmp_path / "clean.jpg").size == (H, W)
    ok(capsys, "denoise", tmp_path / "photo.jpg", "--model", runs["ae"], "--out", tmp_path / "o")
    assert (tmp_path / "o" / "photo.jpg").is_file()


def test_other_commands_read_photos_at_the_model_size(capsys, tmp_path, runs):
    save(tmp_path / "photo.png", photo())
    out = ok(
        capsys,
        "encode",
        runs["dae"],
        "--data",
        tmp_path / "photo.png",
        "--out",
        tmp_path / "codes.npy",
    )
    assert "resized to 8 x 8 and converted to gray" in out
    assert np.load(tmp_path / "codes.npy").shape[0] == 1
    (tmp_path / "tree" / "deep").mkdir(parents=True)
    save(tmp_path / "tree" / "a.png", photo(20, 30))
    save(tmp_path / "tree" / "deep" / "b.png", photo(33, 12, channels=1), mode="RGBA")
    out = ok(
        capsys,
        "reconstruct",
        runs["dae"],
        "--data",
        tmp_path / "tree",
        "--out",
        tmp_path / "rec.npy",
    )
    assert "deep/b.png: RGBA converted to RGB (alpha dropped)" in out
    assert np.load(tmp_path / "rec.npy").shape == (2, 1, 8, 8)


def readme_section() -> str:
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    return text.split("\n## Your own photos\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_photo_section_runs_as_shown(capsys, tmp_path, runs, monkeypatch):
    """The commands of README's "Your own photos", on files as it names them. The runs it
    names are this module's tiny models; the task defaults are the shipped pretrained models
    when they are installed, else these tiny models (tests/zoo tests the shipped ones)."""
    from latentkit import zoo

    monkeypatch.chdir(tmp_path)
    for name, run_name in (("dae", "dae"), ("inpainter", "inpainter"), ("vae", "vae")):
        shutil.copytree(runs[run_name], tmp_path / "runs" / name)
    for task, run_name in (("denoise", "dae"), ("colorize", "colorizer")):
        if zoo.DEFAULT_MODELS.get(task) not in zoo.names():
            monkeypatch.setitem(zoo.DEFAULT_MODELS, task, runs[run_name])
    save(tmp_path / "photo.jpg", photo())
    save(tmp_path / "old.png", photo(channels=1))
    for i, name in enumerate(["a.png", "trip/b.jpg", "trip/day2/c.tif"]):
        (tmp_path / "photos" / name).parent.mkdir(parents=True, exist_ok=True)
        save(tmp_path / "photos" / name, photo(40 + 8 * i, 30 + 16 * i, seed=i))
    rng = np.random.default_rng(0)
    for folder in ("clean", "noisy"):
        (tmp_path / folder).mkdir()
    for i in range(2):
        clean = photo(seed=i)
        save(tmp_path / "clean" / f"p{i}.png", clean)
        noisy = np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1)
        save(tmp_path / "noisy" / f"p{i}.png", noisy)
    save(tmp_path / "scan.png", photo(channels=1))
    scratches = np.zeros((H, W, 1))
    scratches[20:23, 5:60] = 1.0
    save(tmp_path / "scratches.png", scratches)

    (commands,) = re.findall(r"```bash\n(.*?)```", readme_section(), flags=re.S)
    printed = []
    for line in commands.strip().splitlines():
        argv = shlex.split(line)
        assert argv[0] == "latentkit", line
        printed.append(ok(capsys, *argv[1:]))
    assert read_photo("clean.jpg").size == (H, W) and read_photo("clean.jpg").format == "JPEG"
    assert read_photo("color.png").channels == 3
    assert read_photo("denoised/trip/day2/c.tif").size == (56, 62)
    assert Path("panel.png").is_file() and Path("fixed.png").is_file()
    assert "against --reference" in printed[3] and "against the inputs" in printed[4]
    assert np.load("codes.npy").shape == (3, 4)


def test_the_colour_profile_goes_with_the_result_where_it_fits(capsys, tmp_path, runs):
    values = np.rint(photo() * 255).astype(np.uint8)
    Image.fromarray(values).save(tmp_path / "p.png", icc_profile=b"rgb profile")
    Image.fromarray(values[..., 0]).save(tmp_path / "g.png", icc_profile=b"gray profile")
    ok(capsys, "denoise", runs["dae"], tmp_path / "p.png", "--out", tmp_path / "d.png")
    ok(capsys, "colorize", runs["colorizer"], tmp_path / "g.png", "--out", tmp_path / "c.png")
    with Image.open(tmp_path / "d.png") as denoised, Image.open(tmp_path / "c.png") as coloured:
        assert denoised.info.get("icc_profile") == b"rgb profile"
        assert "icc_profile" not in coloured.info  # gray in, RGB out: the profile would lie
    Image.fromarray(values).convert("CMYK").save(tmp_path / "k.jpg", icc_profile=b"cmyk")
    assert read_photo(tmp_path / "k.jpg").icc_profile is None
