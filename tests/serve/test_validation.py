"""Bad requests: each kind gets a 4xx status and a JSON ``{"error": message}``, never a 5xx."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from latentkit.serve.validation import MAX_JSON_BYTES, MAX_PIXELS, MAX_UPLOAD_BYTES
from tests.serve.conftest import png_bytes

JSON = {"content-type": "application/json"}
OK_CODE = [0.0, 0.0, 0.0]


def raw(text: str) -> dict:
    return {"content": text, "headers": JSON}


def upload(data: bytes, name: str = "file", mime: str = "image/png") -> dict:
    return {"files": {name: ("x.png", data, mime)}}


def big_png() -> bytes:
    """A small file that decodes to more pixels than allowed (a decompression bomb)."""
    side = int(MAX_PIXELS**0.5) + 1
    buffer = io.BytesIO()
    Image.new("1", (side, side)).save(buffer, format="PNG")
    assert len(buffer.getvalue()) < 200_000
    return buffer.getvalue()


def gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (8, 8)).save(buffer, format="GIF")
    return buffer.getvalue()


BAD_REQUESTS = {
    # JSON syntax and content types
    "malformed JSON": ("/api/decode", raw('{"z": [[0, 0'), 400, "malformed JSON"),
    "not an object": ("/api/decode", raw("[1, 2]"), 422, "valid dictionary"),
    "empty body": ("/api/decode", raw(""), 422, "missing request body"),
    "text/plain": (
        "/api/decode",
        {"content": "{}", "headers": {"content-type": "text/plain"}},
        415,
        "application/json",
    ),
    "no content type": ("/api/sample", {"content": b"{}"}, 415, "application/json"),
    # shapes and counts
    "wrong dims": ("/api/decode", {"json": {"z": [[0.0, 1.0]]}}, 422, "latent_dim=3"),
    "flat code": ("/api/decode", {"json": {"z": OK_CODE}}, 422, "valid list"),
    "no codes": ("/api/decode", {"json": {"z": []}}, 422, "at least 1"),
    "too many codes": ("/api/decode", {"json": {"z": [OK_CODE] * 65}}, 422, "at most 64"),
    "huge code": ("/api/decode", {"json": {"z": [[0.0] * 5000]}}, 422, "at most 4096"),
    "string values": ("/api/decode", {"json": {"z": [["a", 0, 0]]}}, 422, "valid number"),
    "unknown field": ("/api/decode", {"json": {"z": [OK_CODE], "x": 1}}, 422, "x: Extra"),
    # non-finite numbers: Python's json accepts these literals
    "NaN": ("/api/decode", raw('{"z": [[NaN, 0, 0]]}'), 422, "finite number"),
    "Infinity": ("/api/decode", raw('{"z": [[0, -Infinity, 0]]}'), 422, "finite number"),
    "overflow": ("/api/decode", raw('{"z": [[0, 0, 1e999]]}'), 422, "finite number"),
    "too large a value": ("/api/decode", {"json": {"z": [[1e9, 0, 0]]}}, 422, "less than"),
    "NaN point": ("/api/map/decode", raw('{"point": [NaN, 1]}'), 422, "finite number"),
    "3-D point": ("/api/map/decode", {"json": {"point": [1, 2, 3]}}, 422, "at most 2"),
    "NaN temperature": ("/api/sample", raw('{"temperature": NaN}'), 422, "finite number"),
    # caps and ranges
    "n too large": ("/api/sample", {"json": {"n": 65}}, 422, "less than or equal to 64"),
    "n zero": ("/api/sample", {"json": {"n": 0}}, 422, "greater than or equal to 1"),
    "temperature": ("/api/sample", {"json": {"temperature": 50}}, 422, "less than or equal"),
    "negative seed": ("/api/sample", {"json": {"seed": -1}}, 422, "seed"),
    "label on a vae": ("/api/sample", {"json": {"label": 1}}, 422, "not conditioned"),
    "steps": (
        "/api/interpolate",
        {"json": {"z_a": OK_CODE, "z_b": OK_CODE, "steps": 33}},
        422,
        "less than or equal to 32",
    ),
    "one endpoint": ("/api/interpolate", {"json": {"z_a": OK_CODE}}, 422, "either z_a and z_b"),
    "mixed endpoints": (
        "/api/interpolate",
        {"json": {"z_a": OK_CODE, "z_b": OK_CODE, "index_a": 0, "index_b": 1}},
        422,
        "either",
    ),
    "endpoint dims": (
        "/api/interpolate",
        {"json": {"z_a": OK_CODE, "z_b": [1.0]}},
        422,
        "latent_dim=3",
    ),
    "index out of range": (
        "/api/interpolate",
        {"json": {"index_a": 0, "index_b": 10**6}},
        422,
        "out of range",
    ),
    "negative index": ("/api/interpolate", {"json": {"index_a": -1, "index_b": 0}}, 422, ""),
    # attribute edits
    "attribute dims": ("/api/attribute", {"json": {"z": [0.0], "strengths": [1]}}, 422, "latent"),
    "NaN strength": ("/api/attribute", raw('{"z": [0, 0, 0], "strengths": [NaN]}'), 422, "finite"),
    "strength too large": (
        "/api/attribute",
        {"json": {"z": OK_CODE, "strengths": [11]}},
        422,
        "less than or equal to 10",
    ),
    "too many strengths": (
        "/api/attribute",
        {"json": {"z": OK_CODE, "strengths": [0.0] * 33}},
        422,
        "at most 32",
    ),
    "no strengths": ("/api/attribute", {"json": {"z": OK_CODE, "strengths": []}}, 422, "at least"),
    "string strength": (
        "/api/attribute",
        {"json": {"z": OK_CODE, "strengths": ["1"]}},
        422,
        "valid number",
    ),
    "unknown attribute": (
        "/api/attribute",
        {"json": {"z": OK_CODE, "strengths": [1], "attribute": 99}},
        422,
        "attribute must be in [0, 10)",
    ),
    "JSON body too large": (
        "/api/decode",
        raw('{"z": [[0, 0, 0]], "pad": "' + "x" * MAX_JSON_BYTES + '"}'),
        413,
        "limit",
    ),
    # uploads
    "upload as JSON": ("/api/encode", {"json": {"file": "x"}}, 415, "multipart/form-data"),
    "upload as raw PNG": (
        "/api/encode",
        {"content": png_bytes(), "headers": {"content-type": "image/png"}},
        415,
        "multipart",
    ),
    "not an image": ("/api/encode", upload(b"hello, not a png"), 415, "PNG or JPEG"),
    "truncated PNG": ("/api/encode", upload(png_bytes()[:40]), 415, ""),
    "GIF": ("/api/encode", upload(gif(), mime="image/gif"), 415, "PNG or JPEG"),
    "empty file": ("/api/encode", upload(b""), 422, "empty"),
    "no file part": ("/api/encode", upload(png_bytes(), name="image"), 422, "'file'"),
    "bad label field": (
        "/api/encode",
        {**upload(png_bytes()), "data": {"label": "x"}},
        422,
        "label",
    ),
    "decompression bomb": ("/api/encode", upload(big_png()), 413, "pixels"),
    "oversize upload": ("/api/encode", upload(b"\x89PNG" + b"0" * MAX_UPLOAD_BYTES), 413, "limit"),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_request_is_a_4xx_with_a_message(client, case):
    path, kwargs, status, fragment = BAD_REQUESTS[case]
    response = client.post(path, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert fragment in body["error"]


def test_chunked_body_over_the_limit_is_refused(client):
    """Without Content-Length the cap is counted on the bytes as they arrive."""

    def chunks():
        yield b'{"z": [[0, 0, 0]], "pad": "'
        for _ in range(MAX_JSON_BYTES // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    response = client.post("/api/decode", content=chunks(), headers=JSON)
    assert response.status_code == 413 and "limit" in response.json()["error"]


def test_lying_content_length_is_refused(client):
    headers = {**JSON, "content-length": "not-a-number"}
    response = client.post("/api/decode", content=json.dumps({"z": [[0, 0, 0]]}), headers=headers)
    assert 400 <= response.status_code < 500


def test_unknown_route_and_method(client):
    assert client.get("/api/nothing").status_code == 404
    assert client.get("/api/decode").status_code == 405
    assert client.post("/api/info", json={}).status_code == 405


def test_valid_requests_still_pass_after_bad_ones(client):
    assert client.post("/api/decode", json={"z": [OK_CODE]}).status_code == 200
