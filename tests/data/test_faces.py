"""The faces source: SMILEsmileD (gray) and GENKI-4K (colour) read from their zips."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from latentkit import datasets
from latentkit.data import faces as faces_module
from latentkit.errors import DataError
from tests.conftest import require_data


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_gray_split_is_stratified_disjoint_and_complete() -> None:
    folder = require_data("faces")
    train = datasets.load("faces", "train", root=folder.parent)
    test = datasets.load("faces", "test", root=folder.parent)
    assert train.x.shape == (10532, 1, 64, 64) and test.x.shape == (2633, 1, 64, 64)
    assert train.x.dtype == torch.float32 and train.y.dtype == torch.int64
    assert float(train.x.min()) >= 0.0 and float(train.x.max()) <= 1.0
    # 3,690 smiling and 9,475 neutral faces: round(0.2 * count) of each in test
    assert int(test.y.sum()) == round(0.2 * 3690) and int((test.y == 0).sum()) == round(0.2 * 9475)
    assert set(train.meta["files"]).isdisjoint(test.meta["files"])
    rows = _csv_rows(folder / "smilesmiled_labels.csv")
    assert len(rows) == 13165
    assert sorted(train.meta["files"] + test.meta["files"]) == sorted(r["file"] for r in rows)
    label = {r["file"]: int(r["smiling"]) for r in rows}
    assert [label[f] for f in test.meta["files"]] == test.y.tolist()
    assert test.meta["class_names"] == ["not smiling", "smiling"]


def test_pixels_match_an_independent_decode() -> None:
    folder = require_data("faces")
    test = datasets.load("faces", "test", root=folder.parent)
    with zipfile.ZipFile(folder / "smilesmiled.zip") as zf:
        for i in (0, len(test) - 1):
            img = Image.open(io.BytesIO(zf.read(test.meta["files"][i]))).convert("L")
            expected = np.asarray(img, dtype=np.float32) / 255.0
            np.testing.assert_allclose(test.x[i, 0].numpy(), expected, atol=1e-7)


def test_split_is_deterministic_and_follows_the_seed() -> None:
    folder = require_data("faces")
    a = datasets.load("faces", "test", root=folder.parent)
    b = datasets.load("faces", "test", root=folder.parent, seed=0)
    c = datasets.load("faces", "test", root=folder.parent, seed=1)
    assert a.meta["files"] == b.meta["files"] and torch.equal(a.x, b.x)
    assert a.meta["files"] != c.meta["files"] and len(a) == len(c)


def test_color_variant_drops_the_bad_crops() -> None:
    folder = require_data("faces")
    data = datasets.load("faces", "all", root=folder.parent, variant="color")
    by_name = datasets.load("faces-color", "test", root=folder.parent)
    assert by_name.x.shape[1] == 3 and by_name.meta["variant"] == "color"
    assert data.x.shape == (3883, 3, 64, 64) and int(data.y.sum()) == 2107
    bad = {r["file"] for r in _csv_rows(folder / "genki4k_labels.csv") if r["crop_ok"] == "0"}
    assert len(bad) == 117 and bad.isdisjoint(data.meta["files"])
    # a colour crop is not gray: its channels differ somewhere
    assert float((data.x[:, 0] - data.x[:, 1]).abs().max()) > 0.1


def _fake_faces(root: Path, images: dict[str, Image.Image | bytes], labels: dict[str, str]) -> Path:
    folder = root / "faces"
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "smilesmiled.zip", "w") as zf:
        for name, image in images.items():
            if isinstance(image, bytes):
                zf.writestr(name, image)
            else:
                buffer = io.BytesIO()
                image.save(buffer, format="JPEG")
                zf.writestr(name, buffer.getvalue())
    lines = ["file,smiling"] + [f"{k},{v}" for k, v in labels.items()]
    (folder / "smilesmiled_labels.csv").write_text("\n".join(lines) + "\n")
    return root


def test_small_fake_folder_loads(tmp_path: Path) -> None:
    images = {f"p/{i}.jpg": Image.new("L", (64, 64), 40 * i) for i in range(5)}
    root = _fake_faces(tmp_path, images, {f"p/{i}.jpg": str(i % 2) for i in range(5)})
    data = datasets.load("faces", "all", root=root)
    assert data.x.shape == (5, 1, 64, 64) and data.y.tolist() == [0, 1, 0, 1, 0]
    assert abs(float(data.x[2].mean()) - 80 / 255) < 0.02


@pytest.mark.parametrize(
    ("images", "labels", "message"),
    [
        ({"a.jpg": Image.new("L", (32, 64))}, {"a.jpg": "1"}, "expected a 64x64 face crop"),
        ({"a.jpg": Image.new("L", (64, 64))}, {"b.jpg": "1"}, "not in the zip"),
        ({"a.jpg": Image.new("L", (64, 64))}, {"a.jpg": "yes"}, "smiling 0 or 1"),
        ({"a.jpg": b"not a jpeg"}, {"a.jpg": "0"}, "cannot decode"),
        ({"a.jpg": bytes(2 << 20)}, {"a.jpg": "0"}, "refused"),
    ],
)
def test_malformed_files_raise_one_line(
    tmp_path: Path, images: dict, labels: dict, message: str
) -> None:
    root = _fake_faces(tmp_path, images, labels)
    with pytest.raises(DataError, match=message) as info:
        datasets.load("faces", "all", root=root)
    assert "\n" not in str(info.value)


def test_image_pixel_limit_is_checked_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _fake_faces(tmp_path, {"a.jpg": Image.new("L", (64, 64))}, {"a.jpg": "0"})
    monkeypatch.setenv("LATENTKIT_MAX_IMAGE_PIXELS", "100")
    with pytest.raises(DataError, match="too large to decode"):
        datasets.load("faces", "all", root=root)


def test_missing_files_and_bad_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LATENTKIT_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(DataError, match=r"Put smilesmiled\.zip and smilesmiled_labels\.csv"):
        datasets.load("faces", root=tmp_path)
    with pytest.raises(DataError, match="unknown variant"):
        datasets.load("faces", root=tmp_path, variant="sepia")
    with pytest.raises(DataError, match="unknown split"):
        datasets.load("faces", "val", root=tmp_path)
    assert "faces" in datasets.available()
    assert faces_module.MAX_MEMBER_BYTES < 2 << 20


def test_a_replaced_label_file_is_read_again(tmp_path: Path) -> None:
    images = {f"p/{i}.jpg": Image.new("L", (64, 64), 40 * i) for i in range(4)}
    root = _fake_faces(tmp_path, images, {f"p/{i}.jpg": "0" for i in range(4)})
    assert datasets.load("faces", "all", root=root).y.tolist() == [0, 0, 0, 0]
    lines = ["file,smiling"] + [f"p/{i}.jpg,{int(i > 1)}" for i in range(4)]
    (root / "faces" / "smilesmiled_labels.csv").write_text("\n".join(lines) + "\n\n")
    assert datasets.load("faces", "all", root=root).y.tolist() == [0, 0, 1, 1]
