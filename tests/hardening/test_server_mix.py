"""The explorer under hostile traffic: fuzzed bodies and a concurrent mix of bad requests,
abrupt disconnects and good requests on a real server on 127.0.0.1. Never a 5xx, and it keeps
serving. (Each bad kind alone, with its message, is in tests/serve/test_validation.py.)"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import warnings
from collections import Counter

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import latentkit
from latentkit.models.registry import create_model
from latentkit.serve import create_app
from latentkit.serve.server import BackgroundServer
from latentkit.serve.validation import MAX_JSON_BYTES

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx`")
    from fastapi.testclient import TestClient

ROUTES = ["/api/decode", "/api/map/decode", "/api/sample", "/api/interpolate", "/api/encode"]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    torch.manual_seed(0)
    folder = create_model("vae", (1, 8, 8), latent_dim=3).save(tmp_path_factory.mktemp("m"))
    return create_app(latentkit.load(folder), latentkit.datasets.load("digits", "test"),
                      max_points=100)  # fmt: skip


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as c:
        yield c


KEYS = ["z", "point", "n", "seed", "temperature", "z_a", "z_b", "steps", "index_a", "index_b",
        "label", "x"]  # fmt: skip
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=80, deadline=3000, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(route=st.sampled_from(ROUTES), body=JSON, raw=st.binary(max_size=40))
def test_fuzzed_bodies_never_give_a_5xx(client, route, body, raw):
    text = json.dumps(body)  # NaN and Infinity literals included, as Python writes them
    response = client.post(route, content=text, headers={"content-type": "application/json"})
    assert response.status_code < 500, (route, text, response.text)
    if response.status_code >= 400:
        assert response.json()["error"]
    response = client.post(route, content=raw, headers={"content-type": "application/json"})
    assert response.status_code < 500, (route, raw, response.text)


GOOD = ("/api/decode", json.dumps({"z": [[0.1, -0.2, 0.3]]}))
BAD = [
    ("/api/decode", '{"z": [[0, 0'),
    ("/api/decode", '{"z": [[NaN, 0, 0]]}'),
    ("/api/decode", json.dumps({"z": [[0.0] * 5000] * 64})),
    ("/api/decode", json.dumps({"z": [[0.0, 1.0]]})),
    ("/api/sample", json.dumps({"n": 10**9})),
    ("/api/interpolate", json.dumps({"index_a": 0, "index_b": 10**12})),
    ("/api/decode", '{"pad": "' + "x" * (MAX_JSON_BYTES + 10) + '"}'),
]


def send(port: int, path: str, body: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, body=body.encode(),
                           headers={"Content-Type": "application/json"})  # fmt: skip
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def hang_up(port: int) -> None:
    """Announce a body, send half of it, and disconnect."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /api/decode HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"z\": [[0.1,")  # fmt: skip


def test_concurrent_mix_of_bad_good_and_dropped_requests(app):
    statuses: Counter = Counter()
    lock = threading.Lock()
    jobs = ([GOOD] * 2 + BAD) * 8  # 72 requests, 16 of them good
    with BackgroundServer(app) as server:
        assert server.host == "127.0.0.1"

        def worker(chunk):
            for i, (path, body) in enumerate(chunk):
                if i % 4 == 3:
                    hang_up(server.port)
                status = send(server.port, path, body)
                with lock:
                    statuses[status] += 1

        threads = [threading.Thread(target=worker, args=(jobs[i::6],)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
        assert not any(t.is_alive() for t in threads), "the server stopped answering"
        assert sum(statuses.values()) == len(jobs)
        assert not [s for s in statuses if s >= 500], statuses
        assert statuses[200] == jobs.count(GOOD), statuses
        assert send(server.port, *GOOD) == 200  # still serving afterwards
