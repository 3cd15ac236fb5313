"""Every HTTP endpoint of the explorer, fuzzed: never a 5xx, and every 4xx is the one error body
``{"error": "one-line message"}``.

Each endpoint gets its own bounded, derandomized budget (:data:`EXAMPLES` requests), so CI
sees the same requests every run. Requests are mostly near-valid (the right route and content
type, the endpoint's own field names) with fuzzed values, which reaches the validators and the
model; some have random methods, bodies, content types, ``Host`` and ``Origin`` headers. The
model is a label-conditioned VAE with a data map, so labels, the map and sampling are live.
"""

from __future__ import annotations

import io
import json
import warnings

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import latentkit
from latentkit.models.registry import create_model
from latentkit.serve import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx`")
    from fastapi.testclient import TestClient

EXAMPLES = 60  # requests per endpoint


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    torch.manual_seed(0)
    model = create_model("conditional_vae", (1, 8, 8), latent_dim=3, num_classes=10)
    folder = model.save(tmp_path_factory.mktemp("cvae") / "model")
    digits = latentkit.datasets.load("digits", "test")
    app = create_app(latentkit.load(folder), digits, max_points=100)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


# -- values ------------------------------------------------------------------------------------
ASCII = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=24)
ODD = ["", "0", "9", "10", "²", "٣", "１", "-1", "+1", "1e3", "3.0", " 3", "true", "NaN", "9" * 30,
       "\x00", "ü"]  # fmt: skip
ODD_TEXT = st.sampled_from(ODD) | st.text(max_size=8)
NUMBER = (
    st.integers(-3, 12)
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(-3, 3)
)
SCALAR = NUMBER | st.booleans() | st.none() | ODD_TEXT
CODE = st.lists(st.floats(-4, 4) | NUMBER, min_size=0, max_size=5) | SCALAR
VALUES = {
    "z": st.lists(CODE, max_size=4) | SCALAR,
    "label": SCALAR,
    "n": SCALAR,
    "temperature": SCALAR,
    "seed": SCALAR,
    "z_a": CODE,
    "z_b": CODE,
    "index_a": SCALAR,
    "index_b": SCALAR,
    "steps": SCALAR,
    "method": st.sampled_from(["linear", "spherical", "cubic", ""]) | SCALAR,
    "point": st.lists(NUMBER, max_size=3) | SCALAR,
    "extra": SCALAR,
}
FIELDS = {
    "/api/decode": ["z", "label"],
    "/api/sample": ["n", "temperature", "seed", "label"],
    "/api/interpolate": ["z_a", "z_b", "index_a", "index_b", "steps", "method", "label"],
    "/api/map/decode": ["point", "label"],
}


def image_bytes(draw) -> bytes:
    kind = draw(st.sampled_from(["png", "png", "jpeg", "truncated", "random", "empty"]))
    if kind == "random":
        return draw(st.binary(max_size=64))
    if kind == "empty":
        return b""
    size = (draw(st.integers(1, 48)), draw(st.integers(1, 48)))
    mode = draw(st.sampled_from(["L", "RGB", "RGBA", "LA", "1", "P"]))
    if kind == "jpeg" and mode not in ("L", "RGB"):
        mode = "RGB"
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format="JPEG" if kind == "jpeg" else "PNG")
    data = buffer.getvalue()
    return data[: draw(st.integers(0, len(data) - 1))] if kind == "truncated" else data


# -- requests ----------------------------------------------------------------------------------
VALID = {
    "/api/decode": {"z": [[0.1, -0.2, 0.3]], "label": 2},
    "/api/sample": {"n": 2, "temperature": 0.5, "seed": 1, "label": 3},
    "/api/interpolate": {
        "z_a": [0.0, 1.0, 0.5],
        "z_b": [1.0, 0.0, -0.5],
        "steps": 3,
        "method": "linear",
        "label": 1,
    },
    "/api/map/decode": {"point": [0.1, 0.2], "label": 0},
}


def rarely(draw, odd: st.SearchStrategy, usual, one_in: int = 10):
    """``usual``, or about one time in ``one_in`` a draw from ``odd``."""
    return draw(odd) if draw(st.integers(1, one_in)) == 1 else usual


@st.composite
def headers(draw, content_type: str | None) -> dict[str, str]:
    found: dict[str, str] = {}
    if content_type is not None:
        odd_type = st.sampled_from(["text/plain", "application/json; x=1", ""]) | ASCII
        found["content-type"] = rarely(draw, odd_type, content_type)
    odd_origin = st.sampled_from(["http://attacker.example", "null", "https://testserver"]) | ASCII
    origin = rarely(draw, odd_origin, draw(st.sampled_from([None, "http://testserver"])))
    if origin is not None:
        found["origin"] = origin
    host = rarely(draw, st.sampled_from(["attacker.example", "testserver:81", ""]) | ASCII, None)
    if host is not None:
        found["host"] = host
    return found


def method(draw, usual: str, one_in: int = 10) -> str:
    verbs = st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
    return rarely(draw, verbs, usual, one_in)


@st.composite
def json_request(draw, path: str) -> tuple[str, str, dict, bytes]:
    kind = draw(st.sampled_from(["valid", "one field", "one field", "one field", "fields", "raw"]))
    body: dict = dict(VALID[path])
    if kind == "one field":
        name = draw(st.sampled_from([*FIELDS[path], "extra"]))
        if draw(st.booleans()) and name in body:
            del body[name]
        else:
            body[name] = draw(VALUES[name])
    elif kind == "fields":
        names = draw(st.lists(st.sampled_from([*FIELDS[path], "extra"]), unique=True, max_size=5))
        body = {name: draw(VALUES[name]) for name in names}
    # json.dumps writes NaN and Infinity literals, which Python's parser accepts
    content = draw(st.binary(max_size=40)) if kind == "raw" else json.dumps(body).encode()
    return method(draw, "POST"), path, draw(headers("application/json")), content


@st.composite
def upload_request(draw) -> tuple[str, str, dict, bytes]:
    boundary = draw(st.sampled_from(["b0und4ry", "x", "----WebKitFormBoundaryAbC"]))
    names = ["file", *draw(st.lists(st.sampled_from(["label", "invert"]), max_size=2))]
    names = rarely(draw, st.lists(st.sampled_from(["file", "label", "invert", "x", ""])), names)
    body = b""
    for name in names:
        if name == "file":
            value = image_bytes(draw)
        elif name == "label":
            value = rarely(draw, ODD_TEXT, str(draw(st.integers(0, 11)))).encode()
        else:
            usual = draw(st.sampled_from(["true", "false", "on", ""]))
            value = rarely(draw, ODD_TEXT, usual).encode()
        filename = '; filename="x.png"' if name == "file" else ""
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"{filename}\r\n\r\n'
            ).encode()
            + value
            + b"\r\n"
        )
    body += f"--{boundary}--\r\n".encode()
    if draw(st.integers(0, 9)) == 0:
        body = body[: draw(st.integers(0, len(body)))] + draw(st.binary(max_size=16))
    content_type = f"multipart/form-data; boundary={boundary}"
    return method(draw, "POST"), "/api/encode", draw(headers(content_type)), body


@st.composite
def get_request(draw, path: str) -> tuple[str, str, dict, bytes]:
    verb = method(draw, "GET", one_in=4)  # little else to vary on a GET route
    query = rarely(
        draw, st.sampled_from(["?x=1", "?label=²", "?%ff"]) | ASCII.map("?{}".format), ""
    )
    content = draw(st.binary(max_size=24)) if verb in ("POST", "PUT") else b""
    return verb, path + query, draw(headers(None)), content


REQUESTS = {
    "/": get_request("/"),
    "/favicon.ico": get_request("/favicon.ico"),
    "/api/info": get_request("/api/info"),
    "/api/map": get_request("/api/map"),
    "/api/decode": json_request("/api/decode"),
    "/api/sample": json_request("/api/sample"),
    "/api/interpolate": json_request("/api/interpolate"),
    "/api/map/decode": json_request("/api/map/decode"),
    "/api/encode": upload_request(),
    "unknown routes": get_request("/api/nothing") | get_request("/api/../etc/passwd"),
}


@pytest.mark.parametrize("endpoint", list(REQUESTS))
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(data=st.data())
def test_fuzzed_requests_never_give_a_5xx(client, endpoint, data):
    method, path, extra, content = data.draw(REQUESTS[endpoint], label="request")
    response = client.request(method, path, headers=extra, content=content)
    assert response.status_code < 500, (method, path, extra, content[:200], response.text)
    if response.status_code >= 400 and method != "HEAD":
        body = response.json()
        assert set(body) == {"error"}, body
        message = body["error"]
        assert isinstance(message, str) and message, body
        assert message == " ".join(message.split()), message  # one line
