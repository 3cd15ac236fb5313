"""``latentkit demo``: it says which data it uses and writes a report with every section."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
from PIL import Image

SECTIONS = {
    "config", "metrics", "training-curves", "reconstructions", "samples", "latent-scatter",
    "traversals", "interpolations", "kl-per-dimension", "anomaly", "restoration",
    "section-2-d-latent-space",
}  # fmt: skip


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.images: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for key in ("src", "href"):
            if attrs.get(key, "").startswith(("http:", "https:", "//")):
                self.links.append(attrs[key])


def test_demo_writes_a_complete_self_contained_report(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "latentkit", "demo", "--quick", "--data", "digits", "--out", "d"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "using digits" in result.stdout
    for key in ("vae", "vae2", "dae"):  # a progress line per epoch while it trains
        assert f"  {key} epoch 1/1: train_loss" in result.stdout, result.stdout
    assert "wrote d/report.html" in result.stdout
    parser = _Collect()
    parser.feed((tmp_path / "d" / "report.html").read_text())
    missing = SECTIONS - parser.ids
    assert not missing, missing
    assert not parser.links
    assert len(parser.images) >= 12
    for src in parser.images:
        assert src.startswith("data:image/png;base64,")
        with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as image:
            assert image.format == "PNG"
            assert np.asarray(image.convert("L"), dtype=float).std() > 5  # not blank
    for run in ("vae", "vae2", "dae"):
        assert (tmp_path / "d" / run / "model.safetensors").exists()


def test_demo_models_start_from_the_seed_alone():
    """Each demo model's initial weights follow the training seed, whatever the global stream
    holds, and the demo leaves that stream untouched."""
    import torch

    from latentkit.cli.demo import _untrained

    torch.manual_seed(0)
    expected = torch.rand(3)
    for key in ("vae", "vae2", "dae"):
        torch.manual_seed(0)
        first = _untrained(key, (1, 8, 8), (16,), seed=0).state_dict()
        assert torch.equal(torch.rand(3), expected)
        torch.rand(50)
        second = _untrained(key, (1, 8, 8), (16,), seed=0).state_dict()
        assert all(torch.equal(first[k], second[k]) for k in first)
