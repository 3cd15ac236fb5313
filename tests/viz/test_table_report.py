"""The report of a table run, as a user makes it: ``latentkit train --data t.csv`` then
``latentkit report RUN --data t.csv`` (in-process), on a CSV written by the test."""

from __future__ import annotations

import html
import re
import sys

import numpy as np
import pytest
import torch

from latentkit.cli.main import main
from latentkit.data.dataset import Dataset
from latentkit.viz import build_report
from tests.viz.helpers import small_vae
from tests.viz.test_report import Page, check_self_contained

COLUMNS = ["alcohol", "acidity", "sugar", "density", "ph", "sulphates"]
ODD_ROW, ODD_COLUMN = 7, "sugar"


def write_csv(path, rows: int = 240, seed: int = 0) -> np.ndarray:
    """Six correlated named columns (two hidden factors plus noise); row 7 has an absurd
    sugar value. Returns the values, ``(rows, 6)``."""
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(rows, 2))
    mixing = rng.normal(size=(2, len(COLUMNS)))
    values = 10 + factors @ mixing + 0.1 * rng.normal(size=(rows, len(COLUMNS)))
    values[ODD_ROW, COLUMNS.index(ODD_COLUMN)] = 400.0
    lines = [",".join(COLUMNS)] + [",".join(f"{v:.4f}" for v in row) for row in values]
    path.write_text("\n".join(lines) + "\n")
    return values


@pytest.fixture(scope="module")
def table_report(tmp_path_factory):
    """A VAE with a 4-D code trained by the CLI on the CSV, and its report's HTML."""
    folder = tmp_path_factory.mktemp("table")
    csv = folder / "wine.csv"
    values = write_csv(csv)
    run, out = folder / "run", folder / "report.html"
    train = ["train", "--data", str(csv), "--model", "vae", "--latent-dim", "4", "--epochs",
             "4", "--batch-size", "32", "--out", str(run)]  # fmt: skip
    assert main(train) == 0
    assert main(["report", str(run), "--data", str(csv), "--out", str(out)]) == 0
    return out.read_text(encoding="utf-8"), values


def alt_of(text: str, section: str) -> str:
    body = text.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
    return html.unescape(re.search(r'alt="([^"]*)"', body).group(1))


def test_table_report_has_the_table_sections(table_report):
    text, _ = table_report
    page = Page(text)
    assert list(page.sections) == [
        "config", "metrics", "training-curves", "feature-errors", "latent-scatter",
        "kl-per-dimension", "row-scores",
    ]  # fmt: skip
    check_self_contained(page)
    # image sections are stated once, not as confusing one-line notes
    assert "needs at least two images" not in text and "tabular data has no images" not in text
    assert text.count("are drawn for image data") == 1
    assert "were passed" not in text


def test_per_feature_errors_name_the_columns(table_report):
    text, _ = table_report
    alt = alt_of(text, "feature-errors")
    assert "Reconstruction error per feature (6 features)" in alt
    assert [part.rsplit(" ", 1)[0] for part in alt.split(": ", 1)[1].split(", ")] == COLUMNS
    assert "standardised by the run&#x27;s scaler" in text or "standardised by the run's" in text


def test_latent_map_names_its_method(table_report):
    text, _ = table_report
    alt = alt_of(text, "latent-scatter")
    method = "t-SNE" if "openTSNE" in sys.modules or _has_opentsne() else "PCA"
    assert f"{method} of 4-D codes" in alt


def _has_opentsne() -> bool:
    import importlib.util

    return importlib.util.find_spec("openTSNE") is not None


def test_anomaly_histogram_and_worst_rows(table_report):
    text, values = table_report
    alt = alt_of(text, "row-scores")
    assert "Anomaly scores of 240 rows" in alt and "reconstruction error" in alt
    body = text.split('<section id="row-scores">', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    assert "row" in rows[0] and "feature 1" in rows[0]
    first = re.findall(r"<td[^>]*>(.*?)</td>", rows[1])
    assert first[0] == str(ODD_ROW)  # the absurd row is the most anomalous
    assert len(rows) == 1 + 10 and len(first) == 2 + 3
    # its worst features, with their values as written in the file (the scaler undone)
    for cell in first[2:]:
        name, value, _ = re.fullmatch(r"(\w+) = (\S+) \((\S+)\)", cell).groups()
        assert float(value) == pytest.approx(values[ODD_ROW, COLUMNS.index(name)], rel=1e-3)
    assert "the file&#x27;s units" in body or "the file's units" in body


def test_worst_rows_keep_their_numbers_in_a_subset(tmp_path):
    """With more rows than eval_points, rows are listed by their number in the data."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(500, 4, generator=g)
    x[321, 2] = 80.0
    data = Dataset(x, None, "t", {"columns": ["a", "b", "c", "d"]})
    model = small_vae((4,), latent_dim=3).eval()
    out = build_report(model, data, tmp_path / "r.html", eval_points=100, iwae_k=2,
                       iwae_points=10)  # fmt: skip
    text = out.read_text(encoding="utf-8")
    assert "Anomaly scores of 101 rows" not in text
    body = text.split('<section id="row-scores">', 1)[1]
    first = re.findall(r"<td[^>]*>(.*?)</td>", re.findall(r"<tr>(.*?)</tr>", body)[1])
    # row 321 is in the subset only if drawn; the listed numbers are rows of the data
    numbers = [int(n) for n in re.findall(r'<tr><td class="num">(\d+)</td>', body)]
    assert all(0 <= n < 500 for n in numbers) and len(set(numbers)) == len(numbers) == 10
    assert first[2].split(" = ")[0] in ["a", "b", "c", "d"]
    assert "standardised units" in body  # no scaler given: values as the model sees them


def test_feature_names_fall_back_to_indices():
    from latentkit.viz.context import ReportContext

    def names(meta: dict) -> list[str]:
        data = Dataset(torch.randn(10, 3), None, "t", meta)
        return ReportContext(
            model=small_vae((3,), 2), document={}, rows=None, data=data, seed=0, max_points=10,
            iwae_k=1, iwae_points=1, anomaly=None, restorations=(),
        ).feature_names  # fmt: skip

    assert names({"columns": ["a", "b", "c"]}) == ["a", "b", "c"]
    assert names({"columns": ["0", "1", "2"]}) == ["f0", "f1", "f2"]  # an array file's columns
    assert names({}) == names({"columns": ["a", "b"]}) == ["f0", "f1", "f2"]
