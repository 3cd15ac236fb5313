"""Fixtures of the explorer tests: tiny saved models, the digits test split, clients, a server.

Models are untrained (weights from a fixed seed): the tests check the plumbing, shapes and
validation, not image quality. Each is saved to a temporary folder and loaded back with
``latentkit.load``, the path ``latentkit serve`` takes.
"""

from __future__ import annotations

import importlib.util
import io
import os
import warnings

import pytest
import torch
from PIL import Image

import latentkit
from latentkit.models.registry import create_model
from latentkit.serve import create_app
from latentkit.serve.server import BackgroundServer

with warnings.catch_warnings():  # starlette suggests httpx2 over httpx; either works
    warnings.filterwarnings("ignore", message="Using `httpx`")
    from fastapi.testclient import TestClient

LATENT_DIM = 3
#: how the map of the 3-D codes is made: t-SNE with openTSNE (the maps extra), else PCA
MAP_METHOD = "t-SNE" if importlib.util.find_spec("openTSNE") else "PCA"


def saved(tmp_path_factory: pytest.TempPathFactory, name: str, model_type: str, **fields):
    torch.manual_seed(0)
    model = create_model(model_type, (1, 8, 8), **fields)
    folder = model.save(tmp_path_factory.mktemp(name) / "model")
    return latentkit.load(folder)


@pytest.fixture(scope="session")
def vae(tmp_path_factory):
    return saved(tmp_path_factory, "vae", "vae", latent_dim=LATENT_DIM)


@pytest.fixture(scope="session")
def digits():
    return latentkit.datasets.load("digits", "test")


@pytest.fixture(scope="session")
def app(vae, digits):
    return create_app(vae, digits, max_points=200)


@pytest.fixture(scope="session")
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def server(app):
    with BackgroundServer(app) as running:
        yield running


def make_client(app) -> TestClient:
    return TestClient(app)


def png_bytes(size=(20, 24), mode="L", color=128, fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"
