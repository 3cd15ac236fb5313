"""The report of a sequence model: molecules drawn with RDKit (samples with their numbers,
reconstructions, an interpolation), text without RDKit or for other tokens, no image or table
figures."""

from __future__ import annotations

import html
import sys

import pytest
import torch

from latentkit.data.dataset import Dataset
from latentkit.data.sequences import Tokenizer
from latentkit.models.registry import create_model
from latentkit.viz import build_report
from latentkit.viz.molecules import CHEM_NOTE
from tests.viz.test_report import PNG_PREFIX, Page

MOLECULES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccccc1", "CCN(CC)CC"]
TEXT = ["MKVLA", "GGSA", "MKKA", "AVLG"]
SAMPLED = ["CCO", "OCC", "c1ccccc1", "C1CC", "CCCl", ""]  # what the patched sampler returns


def trained(strings: list[str], kind: str, steps: int = 300):
    """A small sequence VAE that reconstructs its four training strings."""
    tok = Tokenizer.fit(strings, kind)
    model = create_model(
        "sequence_vae", (16,), seed=0, tokens=list(tok.tokens), token_kind=kind,
        latent_dim=4, embed_dim=16, encoder_hidden=32, decoder_hidden=64,
    )  # fmt: skip
    x = tok.encode(strings, 16).float()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        out = model.loss(x, generator=g)
        opt.zero_grad()
        (out.reconstruction.mean() + 0.01 * out.kl.mean()).backward()
        opt.step()
    return model.eval(), Dataset(x, None, "mols.csv", {})


@pytest.fixture(scope="module")
def smiles_model():
    return trained(MOLECULES, "smiles")


def section_html(path) -> str:
    text = path.read_text()
    return text[text.index('<section id="sequences">') :].split("</section>")[0]


def test_molecules_drawn_with_their_numbers(smiles_model, tmp_path, monkeypatch):
    pytest.importorskip("rdkit")
    import latentkit.viz.sequences as sequences

    model, data = smiles_model
    calls = []

    def fake_sample(model, n, **kwargs):
        calls.append(n)
        return SAMPLED

    monkeypatch.setattr(sequences, "sample_strings", fake_sample)
    out = build_report(model, data, tmp_path / "r.html")
    page = Page(out.read_text())
    assert page.sections["sequences"] == "Molecules"
    # no image or table figures for token ids; the footer says why the image ones are missing
    assert not {"reconstructions", "samples", "feature-errors", "row-scores"} & set(page.sections)
    assert "this data is sequences of tokens" in out.read_text()
    body = section_html(out)
    assert calls == [sequences.SAMPLES]
    # hand counts on SAMPLED: valid CCO, OCC (= CCO), benzene, CCCl; CCO is in the data
    assert '<td>validity</td><td class="num">0.6667</td>' in body  # 4 of 6
    assert '<td>uniqueness (distinct share of the valid)</td><td class="num">0.75</td>' in body
    assert 'novelty (not among 4 rows of mols.csv)</td><td class="num">0.6667' in body  # 2 of 3
    # the trained model reconstructs its molecules: each input beside itself
    for s in MOLECULES:
        assert f"<tr><td><code>{s}</code></td><td><code>{s}</code></td></tr>" in body
    images = [src for src in Page(body).images]
    assert len(images) >= 2 and all(src.startswith(PNG_PREFIX) for src in images)
    assert "the first 4 valid samples" in body  # CCO, OCC, benzene, CCCl
    assert "beside their greedy reconstructions" in body  # the model's decoding
    assert html.escape(CHEM_NOTE) not in body


def test_interpolation_shows_the_valid_steps(smiles_model, tmp_path, monkeypatch):
    pytest.importorskip("rdkit")
    import latentkit.viz.sequences as sequences

    model, data = smiles_model
    seen = []

    def fake_path(model, start, end, steps):
        seen.append((start, end, steps))
        return [(0.0, "CCO"), (0.5, "CCCO"), (1.0, "Oc1ccccc1")]

    monkeypatch.setattr(sequences, "interpolate_molecules", fake_path)
    body = section_html(build_report(model, data, tmp_path / "r.html", sections=["sequences"]))
    assert seen == [("CCO", "c1ccccc1O", sequences.STEPS)]  # the data's first two molecules
    assert "decoded line between CCO and c1ccccc1O" in body
    assert len(Page(body).images) == 3  # samples, reconstructions, the path


def test_without_rdkit_the_report_builds_and_says_how_to_draw(smiles_model, tmp_path, monkeypatch):
    for name in ("rdkit", "rdkit.Chem", "rdkit.Chem.Draw"):
        monkeypatch.setitem(sys.modules, name, None)  # import rdkit raises ImportError
    model, data = smiles_model
    out = build_report(model, data, tmp_path / "r.html")
    body = section_html(out)
    assert body.count(html.escape(CHEM_NOTE)) == 1
    assert not Page(body).images  # nothing drawn, strings as text
    assert "<th>sampled string</th>" in body and "<th>decoded</th>" in body
    for s in MOLECULES:
        assert f"<td><code>{s}</code></td><td><code>{s}</code></td>" in body
    assert "<h3>Interpolation</h3>" in body


def test_text_sequences_are_written_not_drawn(tmp_path, monkeypatch):
    import latentkit.viz.sequences as sequences

    model, data = trained(TEXT, "chars", steps=200)
    monkeypatch.setattr(sequences, "sample_strings", lambda *a, **k: ["MKVLA", "MKVLA", "GAVL"])
    body = section_html(build_report(model, data, tmp_path / "r.html"))
    page = Page(body)
    assert page.sections == {"sequences": "Sequences"} and not page.images
    assert html.escape(CHEM_NOTE) not in body
    # distinct: 2 of 3; of the distinct ones, GAVL is not in the data: 1 of 2
    assert '<td>distinct share</td><td class="num">0.6667</td>' in body
    assert '<td>not among 4 rows of mols.csv</td><td class="num">0.5</td>' in body
    for s in TEXT:
        assert f"<td><code>{s}</code></td><td><code>{s}</code></td><td><code>True</code>" in body
    steps = body.split("<h3>Interpolation</h3>")[1]
    assert "<td><code>0.00</code></td><td><code>MKVLA</code></td>" in steps  # starts at row 0
    assert steps.strip().endswith("<td><code>GGSA</code></td></tr></table>")  # ends at row 1


def test_novelty_reference_is_the_whole_data_not_the_evaluation_subset(
    smiles_model, tmp_path, monkeypatch
):
    pytest.importorskip("rdkit")
    import latentkit.viz.sequences as sequences

    model, data = smiles_model
    monkeypatch.setattr(sequences, "sample_strings", lambda *a, **k: SAMPLED)
    big = Dataset(data.x.repeat(5, 1), None, "mols.csv", {})  # 20 rows, 4 evaluated
    body = section_html(build_report(model, big, tmp_path / "r.html", eval_points=4))
    assert "novelty (not among 20 rows of mols.csv)" in body


def test_token_accuracy_by_hand():
    from latentkit.viz.context import token_accuracy

    ids = torch.tensor([[5.0, 6.0, 2.0, 0.0], [7.0, 2.0, 0.0, 0.0]])  # tokens, end id, padding
    decoded = torch.tensor([[5.0, 6.0, 2.0, 0.0], [8.0, 2.0, 0.0, 0.0]])
    assert token_accuracy(ids, decoded) == {
        "reconstructed tokens right": 4 / 5,
        "sequences reconstructed exactly": 0.5,
    }
    decoded[0, 3] = 9.0  # after the end id: padding is not counted
    assert token_accuracy(ids, decoded)["sequences reconstructed exactly"] == 0.5


def test_metrics_of_a_sequence_model_count_tokens_not_squared_ids(smiles_model, tmp_path):
    model, data = smiles_model
    out = build_report(model, data, tmp_path / "r.html", sections=["metrics"])
    text = out.read_text()
    assert "reconstruction MSE" not in text
    # the trained model reconstructs its four molecules
    assert '<td>sequences reconstructed exactly</td><td class="num">1</td>' in text


def test_latent_map_of_a_sequence_model_is_not_coloured_by_id_errors(smiles_model, monkeypatch):
    """Squared differences of token ids are not an anomaly score: the map is plain."""
    import latentkit.viz.sections as sections
    from latentkit.viz.context import ReportContext

    seen = {}

    def spy(*args, **kwargs):
        seen.update(kwargs)
        raise RuntimeError("stop")

    monkeypatch.setattr(sections.charts, "plot_latent_scatter", spy)
    model, data = smiles_model
    with pytest.raises(RuntimeError, match="stop"):
        sections.latent_scatter_section(ReportContext(
            model=model, document={}, rows=None, data=data, seed=0, max_points=10, iwae_k=1,
            iwae_points=1, anomaly=None, restorations=(),
        ))  # fmt: skip
    assert seen["values"] is None


def test_grid_with_an_invalid_molecule_writes_its_legend():
    pytest.importorskip("rdkit")
    from latentkit.viz.molecules import molecule_grid

    image = molecule_grid(["CCO", "C1CC"], ["ethanol", "decoded 2: invalid"], keep_invalid=True)
    assert image.size[0] > 0
    empty = molecule_grid(["CCO", "C1CC"], ["ethanol", ""], keep_invalid=True)
    assert image.tobytes() != empty.tobytes()  # the invalid cell's legend is drawn
