"""The explorer's attribute vectors: listed by /api/info, applied by POST /api/attribute."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image

from latentkit.data.dataset import Dataset
from latentkit.serve import create_app
from tests.serve.conftest import make_client, saved


def pixels(url: str) -> np.ndarray:
    data = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)), dtype=np.float64) / 255


def test_one_vector_per_digit_class(client, app, vae):
    info = client.get("/api/info").json()
    names = [a["name"] for a in info["attributes"]]
    assert names == [f"{c} − others" for c in range(10)]
    explorer = app.state.explorer
    # the vector of class 3, computed here from the map's rows: mean code of 3s minus the rest
    rows = explorer.indices
    x, y = explorer.data.x[rows], explorer.data.y[rows]
    with torch.inference_mode():
        codes = vae.encode(x)
    vector = codes[y == 3].mean(0) - codes[y != 3].mean(0)
    assert info["attributes"][3]["norm"] == pytest.approx(float(vector.norm()), abs=1e-3)
    z = [0.1, -0.2, 0.3]
    body = {"z": z, "attribute": 3, "strengths": [0.0, 1.5]}
    result = client.post("/api/attribute", json=body).json()
    moved = torch.tensor(z) + 1.5 * vector
    np.testing.assert_allclose(result["codes"][0], z, atol=1e-4)
    np.testing.assert_allclose(result["codes"][1], moved.numpy(), atol=1e-3)
    with torch.inference_mode():
        expected = vae.decode(torch.stack([torch.tensor(z), moved]))  # (2, 1, 8, 8)
    for url, image in zip(result["images"], expected, strict=True):
        np.testing.assert_allclose(pixels(url), image[0].numpy(), atol=1.5 / 255)


def test_binary_labels_give_one_named_vector(vae, digits):
    keep = digits.y < 2
    data = Dataset(digits.x[keep], digits.y[keep], "zeros and ones",
                   {"class_names": ["zero", "one"]})  # fmt: skip
    client = make_client(create_app(vae, data, max_points=200))
    attributes = client.get("/api/info").json()["attributes"]
    assert [a["name"] for a in attributes] == ["one − zero"]
    answer = client.post("/api/attribute", json={"z": [0, 0, 0], "strengths": [-1, 0, 1]})
    assert answer.status_code == 200 and len(answer.json()["images"]) == 3
    bad = client.post("/api/attribute", json={"z": [0, 0, 0], "strengths": [1], "attribute": 1})
    assert bad.status_code == 422 and "[0, 1)" in bad.json()["error"]


def test_no_vectors_without_labels_or_for_conditional_models(tmp_path_factory, vae, digits):
    body = {"z": [0.0, 0.0, 0.0], "strengths": [1.0]}
    unlabelled = Dataset(digits.x, None, "unlabelled")
    for app in (create_app(vae), create_app(vae, unlabelled, max_points=100)):
        client = make_client(app)
        assert client.get("/api/info").json()["attributes"] == []
        answer = client.post("/api/attribute", json=body)
        assert answer.status_code == 400 and "no attribute vectors" in answer.json()["error"]
    cvae = saved(tmp_path_factory, "cvae-attr", "cvae", latent_dim=3, num_classes=10)
    client = make_client(create_app(cvae, digits, max_points=100))
    assert client.get("/api/info").json()["attributes"] == []
    answer = client.post("/api/attribute", json={**body, "label": 2})
    assert answer.status_code == 400 and "conditioned on labels" in answer.json()["error"]
