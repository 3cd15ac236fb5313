"""The explorer's JSON API through FastAPI's TestClient: each endpoint's answers."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image

from latentkit.serve import create_app
from latentkit.serve.explorer import image_to_tensor
from tests.serve.conftest import LATENT_DIM, MAP_METHOD, make_client, png_bytes, saved


def image_of(url: str) -> Image.Image:
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix)
    return Image.open(io.BytesIO(base64.b64decode(url[len(prefix) :])))


def test_page_and_info(client, digits):
    page = client.get("/")
    assert page.status_code == 200
    assert "latentkit explorer" in page.text and "/api/decode" in page.text
    info = client.get("/api/info").json()
    assert info["latent_dim"] == LATENT_DIM
    assert info["input_shape"] == [1, 8, 8]
    assert info["model_type"] == "vae"
    expected = "t-SNE of 3-D codes" if MAP_METHOD == "t-SNE" else "PCA: 2 of 3 latent dimensions"
    assert info["projection"].startswith(expected)
    assert info["data"] == {"name": "digits", "size": len(digits)}
    sliders = info["sliders"]
    assert sliders["dims"] == LATENT_DIM and len(sliders["start"]) == LATENT_DIM
    assert all(lo < hi for lo, hi in zip(sliders["min"], sliders["max"], strict=True))
    assert client.get("/favicon.ico").status_code == 204


def test_decode_matches_the_model(client, vae):
    z = [[0.5, -1.0, 0.25], [0.0, 0.0, 0.0]]
    images = client.post("/api/decode", json={"z": z}).json()["images"]
    assert len(images) == 2
    with torch.inference_mode():
        expected = vae.decode(torch.tensor(z))  # (2, 1, 8, 8)
    for url, x in zip(images, expected, strict=True):
        image = image_of(url)
        assert image.size == (8, 8) and image.mode == "L"
        pixels = np.asarray(image, dtype=np.float64) / 255
        np.testing.assert_allclose(pixels, x[0].numpy(), atol=1 / 255)
    assert images[0] != images[1]


def test_sample_is_seeded(client):
    body = {"n": 4, "temperature": 0.7, "seed": 5}
    first = client.post("/api/sample", json=body).json()
    again = client.post("/api/sample", json=body).json()
    other = client.post("/api/sample", json={**body, "seed": 6}).json()
    assert first == again and first["seed"] == 5 and len(first["images"]) == 4
    assert other["images"] != first["images"]
    cold = client.post("/api/sample", json={"n": 3, "temperature": 0.0}).json()["images"]
    assert len(set(cold)) == 1  # temperature 0: every draw is the prior mean
    assert isinstance(client.post("/api/sample", json={}).json()["seed"], int)


def test_interpolate_by_codes_and_by_indices(client, vae, digits):
    a, b = [1.0, 0.0, -1.0], [-1.0, 2.0, 0.5]
    out = client.post("/api/interpolate", json={"z_a": a, "z_b": b, "steps": 5}).json()
    assert len(out["images"]) == 5 and out["codes"][0] == a and out["codes"][-1] == b
    assert out["codes"][2] == pytest.approx([0.0, 1.0, -0.25])
    sph = client.post(
        "/api/interpolate", json={"z_a": a, "z_b": b, "steps": 5, "method": "spherical"}
    ).json()
    assert sph["codes"][2] != out["codes"][2]
    by_index = client.post("/api/interpolate", json={"index_a": 3, "index_b": 7}).json()
    with torch.inference_mode():
        codes = vae.encode(digits.x[[3, 7]])
    assert by_index["codes"][0] == pytest.approx(codes[0].tolist(), abs=1e-3)
    assert by_index["codes"][-1] == pytest.approx(codes[1].tolist(), abs=1e-3)


def test_map_and_its_inverse(client, vae, digits):
    data = client.get("/api/map").json()
    assert data["available"] and data["projection"].startswith(MAP_METHOD)
    assert len(data["points"]) == len(data["labels"]) == len(data["indices"]) == 200
    assert data["labels"] == digits.y[data["indices"]].tolist()
    # a data point's own map position decodes to a code that projects back to it
    point = data["points"][0]
    out = client.post("/api/map/decode", json={"point": point}).json()
    assert len(out["code"]) == LATENT_DIM and len(out["images"]) == 1
    explorer = client.app.state.explorer
    back = explorer.projection.project(np.asarray([out["code"]]))[0]
    np.testing.assert_allclose(back, point, atol=1e-3)


def test_encode_upload(client, vae):
    raw = png_bytes(size=(40, 30), mode="RGBA", color=(0, 0, 0, 255))
    out = client.post(
        "/api/encode", files={"file": ("x.png", raw, "image/png")}, data={"invert": "true"}
    ).json()
    assert set(out) == {"code", "input", "reconstruction", "point"}
    assert image_of(out["reconstruction"]).size == (8, 8)
    assert image_of(out["input"]).getextrema() == (255, 255)  # black inverted: all ones
    with torch.inference_mode():
        expected = vae.encode(torch.ones(1, 1, 8, 8))[0]
    assert out["code"] == pytest.approx(expected.tolist(), abs=1e-3)
    assert len(out["point"]) == 2
    jpeg = png_bytes(size=(16, 16), mode="RGB", color=(200, 10, 10), fmt="JPEG")
    ok = client.post("/api/encode", files={"file": ("x.jpg", jpeg, "image/jpeg")})
    assert ok.status_code == 200 and len(ok.json()["code"]) == LATENT_DIM


def test_image_conversion_to_model_input():
    image = Image.new("LA", (16, 8), (0, 0))  # fully transparent: white paper
    x = image_to_tensor(image, (1, 4, 4), invert=False)
    assert x.shape == (1, 1, 4, 4) and torch.all(x == 1)
    rgb = image_to_tensor(Image.new("RGB", (5, 5), (255, 0, 0)), (3, 2, 2), invert=True)
    assert rgb.shape == (1, 3, 2, 2)
    assert torch.allclose(rgb[0, :, 0, 0], torch.tensor([0.0, 1.0, 1.0]))


def test_app_without_data(vae):
    client = make_client(create_app(vae, None, note="no data here"))
    info = client.get("/api/info").json()
    assert info["map_available"] is False and info["message"] == "no data here"
    assert info["sliders"]["min"] == [-3.0] * LATENT_DIM
    assert client.get("/api/map").json() == {"available": False, "message": "no data here"}
    bad = client.post("/api/map/decode", json={"point": [0, 0]})
    assert bad.status_code == 400 and "no map" in bad.json()["error"]
    bad = client.post("/api/interpolate", json={"index_a": 0, "index_b": 1})
    assert bad.status_code == 400 and "no data" in bad.json()["error"]
    up = client.post("/api/encode", files={"file": ("x.png", png_bytes(), "image/png")})
    assert up.status_code == 200 and up.json()["point"] is None


def test_autoencoder_cannot_sample(tmp_path_factory):
    ae = saved(tmp_path_factory, "ae", "autoencoder", latent_dim=2)
    client = make_client(create_app(ae))
    assert client.get("/api/info").json()["can_sample"] is False
    out = client.post("/api/sample", json={"n": 2})
    assert out.status_code == 400 and "no prior" in out.json()["error"]
    assert client.post("/api/decode", json={"z": [[0.1, 0.2]]}).status_code == 200


def test_conditional_model_uses_the_label(tmp_path_factory, digits):
    cvae = saved(tmp_path_factory, "cvae", "conditional_vae", latent_dim=2, num_classes=10)
    client = make_client(create_app(cvae, digits, max_points=50))
    info = client.get("/api/info").json()
    assert info["num_classes"] == 10 and info["projection"] == "latent coordinates (z1, z2)"
    z = {"z": [[0.3, -0.3]]}
    zero = client.post("/api/decode", json=z).json()["images"]
    assert client.post("/api/decode", json={**z, "label": 0}).json()["images"] == zero
    assert client.post("/api/decode", json={**z, "label": 7}).json()["images"] != zero
    bad = client.post("/api/decode", json={**z, "label": 10})
    assert bad.status_code == 422 and "label must be in [0, 10)" in bad.json()["error"]
    sample = client.post("/api/sample", json={"n": 2, "seed": 1, "label": 3})
    assert sample.status_code == 200
    files = {"file": ("x.png", png_bytes(), "image/png")}
    assert client.post("/api/encode", files=files, data={"label": "4"}).status_code == 200
