"""The explorer's map of codes with more than two dimensions: t-SNE (openTSNE) when installed,
PCA without it, named in /api/info and /api/map; clicks and uploads on a non-linear map."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from latentkit.serve import create_app
from latentkit.serve.explorer import Explorer, NeighbourProjection, Projection, fit_projection
from tests.serve.conftest import make_client, png_bytes


def codes(n: int = 120, dim: int = 5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 5, (3, dim))[np.arange(n) % 3] + rng.normal(0, 0.5, (n, dim))


def test_tsne_map_when_opentsne_is_installed(vae, digits):
    pytest.importorskip("openTSNE")
    client = make_client(create_app(vae, digits, max_points=120))
    explorer = client.app.state.explorer
    assert isinstance(explorer.projection, NeighbourProjection)
    info = client.get("/api/info").json()
    assert info["projection"].startswith("t-SNE of 3-D codes")
    data = client.get("/api/map").json()
    assert data["projection"] == info["projection"] and len(data["points"]) == 120
    # a data point's own map position decodes to its own code
    i = 5
    out = client.post("/api/map/decode", json={"point": data["points"][i]}).json()
    np.testing.assert_allclose(out["code"], explorer.projection.codes[i], atol=1e-3)
    # an upload lands on the map
    upload = client.post("/api/encode", files={"file": ("x.png", png_bytes(), "image/png")})
    assert upload.status_code == 200 and len(upload.json()["point"]) == 2


def test_pca_map_without_opentsne_says_why(vae, digits, monkeypatch):
    monkeypatch.setitem(sys.modules, "openTSNE", None)  # import openTSNE fails
    explorer = Explorer(vae, digits, max_points=120)
    assert isinstance(explorer.projection, Projection)
    name = explorer.info()["projection"]
    assert name.startswith("PCA: 2 of 3 latent dimensions") and "openTSNE is not installed" in name


def test_map_method_can_be_chosen(vae, digits):
    explorer = Explorer(vae, digits, max_points=80, map_method="pca")
    assert explorer.info()["projection"].startswith("PCA: 2 of 3 latent dimensions (")


def test_neighbour_projection_blends_the_nearest_points():
    z = codes()
    projection = fit_projection(z, "pca")
    assert isinstance(projection, Projection)
    points = projection.project(z)
    blend = NeighbourProjection("test", z, points, k=4)
    np.testing.assert_allclose(blend.project(z[:10]), points[:10])  # known codes: exact
    np.testing.assert_allclose(blend.inverse(points[:10]), z[:10])
    midway = blend.inverse((points[:1] + points[1:2]) / 2)  # between clusters 0 and 1
    assert midway.shape == (1, 5) and np.isfinite(midway).all()
    far = blend.project(z[:1] + 100.0)  # far from every code: still a point of the map's hull
    assert (far >= points.min(0) - 1e-9).all() and (far <= points.max(0) + 1e-9).all()
