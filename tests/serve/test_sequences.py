"""The explorer for sequence models: decoded strings and RDKit drawings of molecules from every
endpoint that decodes, typed strings encoded, uploads refused, text for other tokens and
without RDKit."""

from __future__ import annotations

import base64
import io
import sys

import pytest
import torch
from PIL import Image

from latentkit.data.dataset import Dataset
from latentkit.data.sequences import Tokenizer
from latentkit.models.registry import create_model
from latentkit.serve import create_app
from latentkit.serve.sequences import DRAWING_SIZE, sequence_outputs
from latentkit.serve.validation import MAX_STRING_CHARS
from latentkit.viz.molecules import CHEM_NOTE
from tests.serve.conftest import make_client, png_bytes
from tests.viz.test_sequence_report import MOLECULES, trained


@pytest.fixture(scope="module")
def smiles():
    model, data = trained(MOLECULES, "smiles")
    data = Dataset(data.x.repeat(2, 1), None, "mols.csv", {})  # 8 rows: the four twice
    return model, data


@pytest.fixture(scope="module")
def seq_client(smiles):
    model, data = smiles
    return make_client(create_app(model, data, max_points=8))


def drawing(url: str) -> Image.Image:
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix)
    return Image.open(io.BytesIO(base64.b64decode(url[len(prefix) :])))


def test_info_describes_the_sequences(seq_client, client):
    pytest.importorskip("rdkit")
    info = seq_client.get("/api/info").json()
    assert info["sequence"] == {
        "tokens": "smiles", "molecules": True, "drawn": True, "max_length": 15, "note": None
    }  # fmt: skip
    assert info["input_shape"] == [16] and info["map_available"]
    assert client.get("/api/info").json()["sequence"] is None  # an image model


def test_decode_sends_strings_and_drawings(seq_client, smiles):
    pytest.importorskip("rdkit")
    model, data = smiles
    with torch.inference_mode():
        z = model.encode(data.x[:4])
    result = seq_client.post("/api/decode", json={"z": z.tolist()}).json()
    assert result["strings"] == MOLECULES  # the trained model decodes its molecules
    assert all(drawing(url).size == (DRAWING_SIZE, DRAWING_SIZE) for url in result["images"])
    # a string that is no molecule gets no drawing
    ids = model.tokenizer.encode(["CCO", "C1CC", ""], 16).float()
    out = sequence_outputs(model, ids)
    assert out["strings"] == ["CCO", "C1CC", ""]
    assert out["images"][0].startswith("data:image/png") and out["images"][1:] == [None, None]


def test_sample_is_seeded_and_matches_the_model(seq_client, smiles):
    from latentkit.apps.sequences import sample_strings

    model, _ = smiles
    body = {"n": 5, "temperature": 1.0, "seed": 3}
    first = seq_client.post("/api/sample", json=body).json()
    assert first == seq_client.post("/api/sample", json=body).json() and first["seed"] == 3
    expected = sample_strings(model, 5, generator=torch.Generator().manual_seed(3))
    assert first["strings"] == expected and len(first["images"]) == 5


def test_interpolation_and_map_decode_send_strings(seq_client):
    pytest.importorskip("rdkit")
    result = seq_client.post(
        "/api/interpolate", json={"index_a": 0, "index_b": 1, "steps": 6}
    ).json()
    assert len(result["strings"]) == len(result["images"]) == len(result["codes"]) == 6
    assert result["strings"][0] == MOLECULES[0] and result["strings"][-1] == MOLECULES[1]
    point = seq_client.get("/api/map").json()["points"][2]
    decoded = seq_client.post("/api/map/decode", json={"point": point}).json()
    assert decoded["strings"] == [MOLECULES[2]]  # a data point's own position: its own code
    assert decoded["images"][0].startswith("data:image/png")


def test_encode_string(seq_client, smiles):
    model, _ = smiles
    result = seq_client.post("/api/encode_string", json={"string": "CCN(CC)CC"}).json()
    with torch.inference_mode():
        z = model.encode(model.tokenizer.encode(["CCN(CC)CC"], 16).float())[0]
    assert result["code"] == pytest.approx(z.tolist(), abs=1e-4)
    assert result["input"]["strings"] == ["CCN(CC)CC"]
    assert result["reconstruction"]["strings"] == ["CCN(CC)CC"]
    assert len(result["point"]) == 2


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"string": "CCS"}, 422, "unknown token 'S'"),
        ({"string": "C" * 20}, 422, "at most 15 fit"),
        ({"string": ""}, 422, "string: String should have at least 1 character"),
        ({"string": "C" * (MAX_STRING_CHARS + 1)}, 422, "at most 4096 characters"),
        ({"string": 5}, 422, "string: Input should be a valid string"),
        ({"string": "CCO", "extra": 1}, 422, "extra: Extra inputs are not permitted"),
    ],
)
def test_encode_string_refuses_what_the_tokenizer_cannot_read(seq_client, body, status, message):
    response = seq_client.post("/api/encode_string", json=body)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_strings_and_uploads_go_to_the_right_models(seq_client, client):
    response = client.post("/api/encode_string", json={"string": "CCO"})
    assert response.status_code == 400 and "sequence models" in response.json()["error"]
    upload = seq_client.post("/api/encode", files={"file": ("a.png", png_bytes(), "image/png")})
    assert upload.status_code == 400
    assert "uploads need a model of 1- or 3-channel images" in upload.json()["error"]


def test_without_rdkit_strings_only_and_a_note(seq_client, monkeypatch):
    for name in ("rdkit", "rdkit.Chem", "rdkit.Chem.Draw"):
        monkeypatch.setitem(sys.modules, name, None)  # import rdkit raises ImportError
    info = seq_client.get("/api/info").json()["sequence"]
    assert info["drawn"] is False and info["note"] == CHEM_NOTE
    result = seq_client.post("/api/sample", json={"n": 3, "seed": 0}).json()
    assert len(result["strings"]) == 3 and result["images"] == [None, None, None]


def test_text_tokens_are_sent_as_strings():
    tok = Tokenizer.fit(["MKVLA", "GGSA"], "chars")
    model = create_model(
        "sequence_vae", (8,), seed=0, tokens=list(tok.tokens), token_kind="chars",
        latent_dim=3, embed_dim=8, encoder_hidden=8, decoder_hidden=16,
    )  # fmt: skip
    c = make_client(create_app(model.eval()))
    assert c.get("/api/info").json()["sequence"]["molecules"] is False
    result = c.post("/api/decode", json={"z": [[0.0, 1.0, -1.0]]}).json()
    assert set(result["strings"][0]) <= set("MKVLAGS") and result["images"] == [None]


def test_selfies_model_sends_smiles_drawn_when_valid():
    pytest.importorskip("rdkit")
    pytest.importorskip("selfies")
    from latentkit.apps.molecules import canonical
    from latentkit.data.sequences import to_selfies

    strings = to_selfies(MOLECULES)
    tok = Tokenizer.fit(strings, "selfies")
    model = create_model(
        "sequence_vae", (16,), seed=0, tokens=list(tok.tokens), token_kind="selfies",
        latent_dim=3, embed_dim=8, encoder_hidden=8, decoder_hidden=16,
    )  # fmt: skip
    c = make_client(create_app(model.eval()))
    result = c.post("/api/sample", json={"n": 8, "seed": 1}).json()
    assert not any("[" in s for s in result["strings"])  # SMILES, not SELFIES symbols
    for text, url in zip(result["strings"], result["images"], strict=True):
        assert (url is None) == (canonical(text) is None)
    typed = c.post("/api/encode_string", json={"string": "CCO"}).json()  # SMILES in
    assert len(typed["code"]) == 3
    for bad in ("-N77", "C1CC("):  # selfies raises IndexError on the first: still a 422
        refused = c.post("/api/encode_string", json={"string": bad})
        assert refused.status_code == 422 and "as SELFIES" in refused.json()["error"]


def test_selfies_model_without_the_selfies_package_is_not_drawn(monkeypatch):
    pytest.importorskip("rdkit")
    tok = Tokenizer("selfies", ("[C]", "[O]"))
    model = create_model(
        "sequence_vae", (6,), seed=0, tokens=list(tok.tokens), token_kind="selfies",
        latent_dim=2, embed_dim=4, encoder_hidden=4, decoder_hidden=8,
    )  # fmt: skip
    monkeypatch.setitem(sys.modules, "selfies", None)  # import selfies raises ImportError
    info = make_client(create_app(model.eval())).get("/api/info").json()["sequence"]
    assert info["molecules"] is True and info["drawn"] is False
