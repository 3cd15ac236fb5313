"""``latentkit train`` on the user's own photos: one file, a folder of mixed sizes with
--patch-size, and a one-line hint when the sizes differ and no patch size is given."""

from __future__ import annotations

import contextlib
import io

import numpy as np
from PIL import Image

import latentkit
from latentkit.cli.main import main


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def photos(folder):
    rng = np.random.default_rng(0)
    (folder / "sub").mkdir(parents=True)
    Image.fromarray((rng.random((40, 52, 3)) * 255).astype("uint8")).save(folder / "a.png")
    Image.fromarray((rng.random((33, 47, 3)) * 255).astype("uint8")).save(folder / "sub" / "b.jpg")
    return folder


def test_train_on_a_folder_of_mixed_sizes_with_patches(tmp_path):
    folder = photos(tmp_path / "photos")
    code, _, err = run(["train", "--data", str(folder), "--model", "ae", "--epochs", "1",
                        "--out", str(tmp_path / "r")])  # fmt: skip
    assert code == 2 and "differ in size" in err and "--patch-size" in err
    assert err.count("\n") == 1
    code, _, err = run(["train", "--data", str(folder), "--patch-size", "16", "--model", "ae",
                          "--epochs", "1", "--out", str(tmp_path / "r")])  # fmt: skip
    assert code == 0, err
    assert latentkit.load(tmp_path / "r").input_shape == (3, 16, 16)


def test_train_on_one_image_file(tmp_path):
    folder = photos(tmp_path / "photos")
    code, _, err = run(["train", "--data", str(folder / "a.png"), "--model", "ae", "--epochs",
                        "1", "--out", str(tmp_path / "r")])  # fmt: skip
    assert code == 0, err
    assert latentkit.load(tmp_path / "r").input_shape == (3, 40, 52)
