"""The HTML report: sections per model kind, embedded PNGs, no network, clear errors."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser

import pytest
import torch

from latentkit.data.dataset import Dataset
from latentkit.training import TrainConfig, Trainer
from latentkit.viz import SECTIONS, AnomalyResult, ReportSection, Restoration, build_report
from latentkit.viz.grids import new_figure
from tests.viz.helpers import decode_png, gray_std, small_vae

PNG_PREFIX = "data:image/png;base64,"
TABLE_SECTIONS = ("feature-errors", "columns", "row-scores")
FACTOR_SECTIONS = ("factors",)  # data with factor labels (dsprites) only: tests/viz/test_factors.py
SEQUENCE_SECTIONS = ("sequences",)  # sequence models only: tests/viz/test_sequence_report.py


class Page(HTMLParser):
    """Section ids with their headings, image sources and every src/href/tag seen."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.sections: dict[str, str] = {}
        self.images: list[str] = []
        self.links: list[str] = []
        self.tags: set[str] = set()
        self._section: str | None = None
        self._in_h2 = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        self.links += [v for k, v in attrs.items() if k in ("src", "href") and v]
        if tag == "section":
            self._section = attrs["id"]
            self.sections[self._section] = ""
        elif tag == "h2":
            self._in_h2 = True
        elif tag == "img":
            self.images.append(attrs["src"])

    def handle_endtag(self, tag):
        self._in_h2 = self._in_h2 and tag != "h2"

    def handle_data(self, data):
        if self._in_h2 and self._section is not None:
            self.sections[self._section] += data


def check_self_contained(page: Page) -> None:
    assert page.images, "no figure embedded"
    for src in page.images:
        assert src.startswith(PNG_PREFIX)
        pixels = decode_png(base64.b64decode(src[len(PNG_PREFIX) :], validate=True))
        assert gray_std(pixels) > 20
    assert not [link for link in page.links if not link.startswith(("#", PNG_PREFIX))]
    assert not page.tags & {"script", "link", "iframe", "object"}
    assert all(title.strip() for title in page.sections.values()), "a section lacks its <h2>"


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory, digits):
    """A VAE with a 2-D latent space trained by the Trainer: config, weights, metrics.jsonl."""
    out = tmp_path_factory.mktemp("run")
    cfg = TrainConfig(epochs=2, batch_size=64, lr=3e-3, device="cpu", progress=False)
    train, val = digits.subset(slice(0, 512)), digits.subset(slice(-200, None))
    Trainer(cfg).fit(small_vae(digits.shape), train, val, out=out)
    return out


def test_vae_run_report_has_every_section(run_folder, digits, tmp_path):
    x = digits.x[:6]
    noisy = (x + 0.3 * torch.randn(x.shape, generator=torch.Generator())).clamp(0, 1)
    g = torch.Generator().manual_seed(0)
    anomaly = AnomalyResult(torch.randn(200, generator=g), torch.randn(40, generator=g) + 2, 1.0)
    fig = new_figure(3, 2)
    fig.add_subplot().plot([0, 1, 2], [2, 0, 1], color="tab:red")
    extra = ReportSection("Demo notes", "<p>made by the demo</p>", [fig], captions=["a line"])
    out = build_report(
        run_folder, digits, tmp_path / "report.html", title="Digits VAE", eval_points=400,
        anomaly=anomaly, restorations=[Restoration("denoise", noisy, x * 0.9, x)],
        extra_sections=[extra],
    )  # fmt: skip
    text = out.read_text(encoding="utf-8")
    page = Page(text)
    # the attribute vector needs binary labels: silent on the ten digits
    image_sections = [
        s
        for s in SECTIONS
        if s not in (*TABLE_SECTIONS, *FACTOR_SECTIONS, *SEQUENCE_SECTIONS, "attribute")
    ]
    assert list(page.sections) == [*image_sections, "demo-notes"]
    assert "Not shown" not in text  # table sections are silent on images
    assert len(page.images) == 12  # one per figure section, 2 for anomaly, 1 in the extra
    check_self_contained(page)
    assert "<title>Digits VAE</title>" in text and "made by the demo" in text
    config = json.loads((run_folder / "config.json").read_text())
    assert f"&quot;latent_dim&quot;: {config['config']['latent_dim']}" in text  # pretty JSON
    for number in ("val_kl", "negative ELBO", "IWAE NLL, k=32", "active units", "AUROC"):
        assert number in text
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # atomic: no temporaries


def test_autoencoder_report_leaves_out_vae_figures(ae, digits, tmp_path):
    out = build_report(ae, digits, tmp_path / "ae.html", eval_points=300)
    page = Page(out.read_text(encoding="utf-8"))
    assert list(page.sections) == [
        "config", "metrics", "reconstructions", "latent-scatter", "interpolations"
    ]  # fmt: skip
    check_self_contained(page)
    text = out.read_text(encoding="utf-8")
    assert "Not shown" in text and "latent_dim is 3, the manifold needs 2" in text
    assert "ELBO" not in text  # a plain autoencoder has no likelihood bound


def test_tabular_report_has_no_image_sections(tmp_path):
    g = torch.Generator().manual_seed(0)
    table = Dataset(torch.rand(300, 6, generator=g), torch.arange(300) % 3, "table")
    model = small_vae((6,), latent_dim=3).eval()
    out = build_report(model, table, tmp_path / "t.html", iwae_k=4, iwae_points=50)
    page = Page(out.read_text(encoding="utf-8"))
    assert list(page.sections) == [
        "config", "metrics", "feature-errors", "latent-scatter", "kl-per-dimension", "row-scores"
    ]  # fmt: skip
    check_self_contained(page)
    text = out.read_text(encoding="utf-8")
    assert "needs at least two images" not in text and "tabular data has no images" not in text
    assert text.count("are drawn for image data") == 1


def test_sections_can_be_chosen(vae, digits, tmp_path):
    out = build_report(vae, digits, tmp_path / "r.html", sections=["metrics", "manifold"])
    assert list(Page(out.read_text(encoding="utf-8")).sections) == ["metrics", "manifold"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sections": ["metrics", "umap"]}, "unknown report sections"),
        ({"eval_points": 0}, "eval_points must be >= 1"),
        ({"extra_sections": [ReportSection("Metrics", "<p>x</p>")]}, "unique"),
    ],
)
def test_bad_arguments_raise(vae, digits, tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_report(vae, digits, tmp_path / "r.html", **kwargs)
    assert not (tmp_path / "r.html").exists()


def test_data_must_fit_the_model(vae, tmp_path):
    other = Dataset(torch.rand(20, 1, 6, 6), None, "small")
    with pytest.raises(ValueError, match=r"shape \(1, 6, 6\) but the model expects \(1, 8, 8\)"):
        build_report(vae, other, tmp_path / "r.html")
    with pytest.raises(TypeError, match="latentkit Dataset"):
        build_report(vae, torch.rand(20, 1, 8, 8), tmp_path / "r.html")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"title": " "}, "title must not be empty"),
        ({"title": "A", "id": "Bad Id"}, "lowercase"),
        ({"title": "A", "figures": ["x.png"]}, "Figures or PNG bytes"),
        ({"title": "A", "captions": ["one"]}, "1 captions for 0 figures"),
    ],
)
def test_report_section_validates(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        ReportSection(**kwargs)


def test_report_section_refuses_non_png_bytes():
    with pytest.raises(ValueError, match="PNG"):
        ReportSection("Bytes", figures=[b"GIF89a..."]).render()


def test_tables_and_json_are_escaped_and_compact():
    from latentkit.viz.html import json_html, table_html

    text = table_html({"<b>": 1234567, "ratio": 0.123456, "none": None}, caption="a & b")
    assert "&lt;b&gt;" in text and "a &amp; b" in text and "<b>" not in text
    assert "1,234,567" in text and "0.1235" in text and "—" in text
    assert '"shape": [1, 28, 28]'.replace('"', "&quot;") in json_html({"shape": [1, 28, 28]})


def test_conditional_model_report_uses_labels(digits, tmp_path):
    from latentkit.models.registry import create_model

    torch.manual_seed(0)
    model = create_model("cvae", digits.shape, latent_dim=2, network={"hidden": [32]}).eval()
    small = digits.subset(slice(0, 200))
    out = build_report(model, small, tmp_path / "c.html", iwae_k=4, iwae_points=50)
    sections = list(Page(out.read_text(encoding="utf-8")).sections)
    assert "samples" in sections and "traversals" in sections
    assert "interpolations" not in sections and "manifold" not in sections
    with pytest.raises(ValueError, match="needs labels"):
        build_report(model, Dataset(small.x, None, "unlabelled"), tmp_path / "u.html")


def test_no_note_for_a_figure_the_caller_shows(ae, digits, tmp_path):
    """A demo that draws the manifold of a second, 2-D model gets no "manifold: not shown"."""
    from latentkit.viz.plots import plot_manifold

    extra = ReportSection("2-D model", figures=[plot_manifold(torch.rand(5, 5, 1, 8, 8))])
    out = build_report(ae, digits.subset(slice(0, 100)), tmp_path / "r.html",
                       extra_sections=[extra])  # fmt: skip
    text = out.read_text(encoding="utf-8")
    assert "the manifold needs 2" not in text
    plain = build_report(ae, digits.subset(slice(0, 100)), tmp_path / "p.html")
    assert "the manifold needs 2" in plain.read_text(encoding="utf-8")


def test_restoration_panels_name_their_task_once(vae, digits, tmp_path):
    from latentkit.data.corruptions import mask_center_box

    x = digits.x[:4]
    masked, missing = mask_center_box(x, 4)
    result = Restoration("inpaint", masked, x, x, mask=missing)
    out = build_report(vae, digits, tmp_path / "r.html", sections=["restoration"],
                       restorations=[result])  # fmt: skip
    text = out.read_text(encoding="utf-8")
    assert "<figcaption>" not in text  # the figure's title names the task
    section = Page(text)
    assert list(section.sections) == ["restoration"] and len(section.images) == 1


def test_binary_labels_get_the_attribute_vector_figure(vae, digits, tmp_path):
    keep = digits.y < 2
    binary = Dataset(digits.x[keep], digits.y[keep], "zeros and ones",
                     {"class_names": ["zero", "one"]})  # fmt: skip
    out = build_report(vae, binary, tmp_path / "b.html", iwae_k=4, iwae_points=50)
    text = out.read_text(encoding="utf-8")
    page = Page(text)
    assert page.sections.get("attribute") == "Attribute vector"
    check_self_contained(page)
    n1, n0 = int((binary.y == 1).sum()), int((binary.y == 0).sum())
    assert f"mean code of the {n1} points labelled one minus that of the {n0}" in text
    # a model conditioned on the label is told to change the label instead
    from latentkit.models.registry import create_model

    torch.manual_seed(0)
    model = create_model("cvae", digits.shape, latent_dim=2, network={"hidden": [32]}).eval()
    out = build_report(model, binary, tmp_path / "c.html", iwae_k=4, iwae_points=50)
    text = out.read_text(encoding="utf-8")
    assert "attribute" not in Page(text).sections and "change the label instead" in text
