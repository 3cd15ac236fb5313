"""The explorer, hardening round 2 (issue 17): strict numeric fields, a model whose outputs are
not finite, Host and Origin checks, one error body for every 4xx, and uploads decoded off the
event loop with a bounded number at a time."""

from __future__ import annotations

import http.client
import json
import threading
import time
import warnings

import anyio
import pytest
import torch

import latentkit
import latentkit.serve.app as app_module
from latentkit.cli.main import main
from latentkit.models.registry import create_model
from latentkit.serve import create_app
from latentkit.serve.server import BackgroundServer
from tests.serve.conftest import png_bytes

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx`")
    from fastapi.testclient import TestClient

JSON = {"content-type": "application/json"}
CODE = [0.1, -0.2, 0.3]


def model(model_type: str = "vae", **fields):
    torch.manual_seed(0)
    return create_model(model_type, (1, 8, 8), latent_dim=3, **fields)


def poison(m, prefix: str):
    """Fill the weights of ``m`` whose names start with ``prefix`` with NaN."""
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.startswith(prefix):
                p.fill_(float("nan"))
    return m


def client_of(app, **kwargs) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, **kwargs)


def assert_error(response, status: int | None = None, fragment: str = "") -> str:
    """A 4xx whose body is exactly ``{"error": one-line message}``; returns the message."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    if status is not None:
        assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    message = body["error"]
    assert isinstance(message, str) and message and message == " ".join(message.split()), body
    assert fragment in message, message
    return message


@pytest.fixture(scope="module")
def digits():
    return latentkit.datasets.load("digits", "test")


@pytest.fixture(scope="module")
def vae_client():
    with client_of(create_app(model())) as c:
        yield c


@pytest.fixture(scope="module")
def cvae_client():
    with client_of(create_app(model("conditional_vae", num_classes=10))) as c:
        yield c


def upload(client, data: dict | None = None, files: dict | None = None):
    files = {"file": ("x.png", png_bytes(), "image/png")} if files is None else files
    return client.post("/api/encode", files=files, data=data or {})


# -- 1. numeric fields are validated strictly ---------------------------------------------
BAD_LABELS = {
    "superscript two": "²",
    "arabic-indic three": "٣",
    "fullwidth one": "１",
    "negative": "-1",
    "spaces": " 3",
    "fraction": "3.0",
    "exponent": "1e3",
    "plus sign": "+3",
    "too long": "9" * 100,
    "beyond the classes": "10",
}


@pytest.mark.parametrize("case", list(BAD_LABELS))
def test_upload_labels_are_ascii_digits_in_the_models_classes(cvae_client, case):
    assert_error(upload(cvae_client, {"label": BAD_LABELS[case]}), 422, "label")


def test_upload_label_on_an_unconditioned_model(vae_client):
    assert_error(upload(vae_client, {"label": "²"}), 422, "label")
    assert_error(upload(vae_client, {"label": "3"}), 422, "not conditioned")


def test_good_upload_fields_still_pass(cvae_client, vae_client):
    assert upload(cvae_client, {"label": "9", "invert": "true"}).status_code == 200
    assert upload(cvae_client, {"label": ""}).status_code == 200  # empty: no label, as before
    for flag in ("true", "false", "1", "0", "on", "off", "yes", "no", "TRUE", ""):
        assert upload(vae_client, {"invert": flag}).status_code == 200, flag


@pytest.mark.parametrize("value", ["maybe", "²", "true!", "t" * 80])
def test_upload_invert_flag_is_strict(vae_client, value):
    assert_error(upload(vae_client, {"invert": value}), 422, "invert")


def test_unknown_and_repeated_upload_fields_are_refused(cvae_client):
    assert_error(upload(cvae_client, {"labl": "3"}), 422, "labl")
    files = [("file", ("x.png", png_bytes(), "image/png"))] * 2
    assert_error(cvae_client.post("/api/encode", files=files), 422, "file")
    files = [("file", ("x.png", png_bytes(), "image/png")), ("label", (None, "1")),
             ("label", (None, "2"))]  # fmt: skip
    assert_error(cvae_client.post("/api/encode", files=files), 422, "label")


def asgi_post(app, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    """POST straight through the ASGI interface: header bytes exactly as given (httpx re-encodes
    them), as a client that bypasses h11's own checks could send them."""
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 12345),
        "server": ("testserver", 80),
    }
    anyio.run(app, scope, receive, send)
    (start,) = [m for m in sent if m["type"] == "http.response.start"]
    reply = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert set(json.loads(reply)) == {"error"}, reply
    return start["status"]


@pytest.mark.parametrize("value", [b"\xb2", b"9" * 5000, b"\xd9\xa3", b"+5", b"-1", b"", b" 5"])
def test_odd_content_lengths_are_a_4xx(value):
    app = create_app(model())
    headers = [(b"content-type", b"application/json"), (b"content-length", value)]
    assert 400 <= asgi_post(app, "/api/decode", headers, b'{"z": [[0, 0, 0]]}') < 500


STRICT_JSON = {
    "bool as n": ("/api/sample", {"n": True}, "n"),
    "string as n": ("/api/sample", {"n": "8"}, "n"),
    "float as n": ("/api/sample", {"n": 8.0}, "n"),
    "string as seed": ("/api/sample", {"seed": "²"}, "seed"),
    "bool as temperature": ("/api/sample", {"temperature": True}, "temperature"),
    "string as temperature": ("/api/sample", {"temperature": "1"}, "temperature"),
    "bool as label": ("/api/decode", {"z": [CODE], "label": True}, "label"),
    "string as label": ("/api/decode", {"z": [CODE], "label": "3"}, "label"),
    "string as steps": ("/api/interpolate", {"z_a": CODE, "z_b": CODE, "steps": "4"}, "steps"),
    "bool as index": ("/api/interpolate", {"index_a": True, "index_b": 0}, "index_a"),
    "bool in a code": ("/api/decode", {"z": [[True, 0.0, 0.0]]}, "z"),
    "string in a point": ("/api/map/decode", {"point": ["1", 0]}, "point"),
}


@pytest.mark.parametrize("case", list(STRICT_JSON))
def test_json_numbers_are_numbers(cvae_client, case):
    path, body, fragment = STRICT_JSON[case]
    assert_error(cvae_client.post(path, json=body), 422, fragment)


def test_json_numbers_of_the_right_type_still_pass(cvae_client):
    ok = {"n": 2, "temperature": 1, "seed": 3, "label": 2}  # an int is a fine temperature
    assert cvae_client.post("/api/sample", json=ok).status_code == 200
    assert cvae_client.post("/api/decode", json={"z": [[0, 1, -1]], "label": 9}).status_code == 200


# -- 2. a model whose outputs are not finite -------------------------------------------------
def test_non_finite_codes_are_a_clear_error():
    client = client_of(create_app(poison(model(), "encoder")))
    assert_error(upload(client), 422, "non-finite codes")
    message = assert_error(upload(client), 422, "weights are not finite")
    assert "NaN" in message


def test_non_finite_decoder_outputs_are_a_clear_error(digits):
    client = client_of(create_app(poison(model(), "decoder"), digits, max_points=50))
    checks = [
        client.post("/api/decode", json={"z": [CODE]}),
        client.post("/api/sample", json={"n": 2, "seed": 0}),
        client.post("/api/interpolate", json={"z_a": CODE, "z_b": CODE, "steps": 3}),
        client.post("/api/interpolate", json={"index_a": 0, "index_b": 1, "steps": 3}),
        client.post("/api/map/decode", json={"point": [0.0, 0.0]}),
        upload(client),
    ]
    for response in checks:
        assert_error(response, 422, "weights are not finite")
    assert client.get("/api/info").status_code == 200
    assert client.get("/api/map").json()["available"] is True


@pytest.mark.parametrize("latent_dim", [2, 3])
def test_non_finite_data_codes_leave_no_map_but_a_working_app(digits, latent_dim):
    torch.manual_seed(0)
    broken = poison(create_model("vae", (1, 8, 8), latent_dim=latent_dim), "encoder")
    client = client_of(create_app(broken, digits, max_points=50))
    info = client.get("/api/info")
    assert info.status_code == 200, info.text
    assert info.json()["map_available"] is False and "not finite" in info.json()["message"]
    assert client.get("/api/map").json()["available"] is False
    assert_error(client.post("/api/interpolate", json={"index_a": 0, "index_b": 1}), 422,
                 "non-finite codes")  # fmt: skip
    assert client.post("/api/decode", json={"z": [[0.0] * latent_dim]}).status_code == 200


def test_codes_that_overflow_a_finite_model_are_a_clear_error():
    m = model()
    with torch.no_grad():
        m.decoder.mlp.net[0].weight.fill_(1e38)  # finite weights; 1e6-sized codes overflow
    client = client_of(create_app(m))
    message = assert_error(client.post("/api/decode", json={"z": [[1e6, 1e6, 1e6]]}), 422,
                           "non-finite")  # fmt: skip
    assert "weights are not finite" not in message


# -- 3. Host and Origin ------------------------------------------------------------------------
def get(port: int, path: str, headers: dict, timeout: float = 30) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        for key, value in headers.items():
            connection.putheader(key, value)
        connection.endheaders()
        response = connection.getresponse()
        response.body = response.read()
        return response
    finally:
        connection.close()


def post(port: int, path: str, body: bytes, headers: dict, timeout: float = 60) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.fixture(scope="module")
def live():
    with BackgroundServer(create_app(model())) as server:
        yield server


def test_loopback_hosts_on_the_bound_port_are_served(live):
    port = live.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"LocalHost:{port}"):
        assert get(port, "/api/info", {"Host": host}).status == 200, host
        origin = "http://" + host.lower()
        assert get(port, "/api/info", {"Host": host, "Origin": origin}).status == 200, origin


def test_other_hosts_and_origins_are_refused(live):
    port = live.port
    for host in ("attacker.example", f"attacker.example:{port}", f"127.0.0.1:{port + 1}",
                 "127.0.0.1", f"127.0.0.2:{port}", f"localhost.:{port}", f"user@localhost:{port}",
                 f"127.0.0.1:0{port}", f"127.0.0.1:{port}/x", ""):  # fmt: skip
        response = get(port, "/api/info", {"Host": host})
        assert response.status in (403, 421), (host, response.status)
        assert set(json.loads(response.body)) == {"error"}
    response = get(port, "/api/info", {})  # no Host at all
    assert response.status in (400, 403, 421)
    host = {"Host": f"127.0.0.1:{port}"}
    origins = [
        "http://attacker.example",
        f"http://attacker.example:{port}",
        "null",
        f"https://127.0.0.1:{port}",
        f"http://127.0.0.1:{port + 1}",
        f"http://127.0.0.1:{port}/",
        f"http://user@127.0.0.1:{port}",
        "127.0.0.1",
    ]
    for origin in origins:
        response = get(port, "/api/info", {**host, "Origin": origin})
        assert response.status == 403, (origin, response.status)
        assert "origin" in json.loads(response.body)["error"].lower()


def test_cross_site_form_posts_are_refused(live):
    port = live.port
    body = b'{"z": [[0, 0, 0]]}'
    headers = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/json"}
    assert post(port, "/api/decode", body, headers) == 200
    evil = {**headers, "Origin": "http://attacker.example"}
    assert post(port, "/api/decode", body, evil) == 403
    form = {"Host": f"127.0.0.1:{port}", "Origin": "http://attacker.example",
            "Content-Type": "multipart/form-data; boundary=x"}  # fmt: skip
    assert post(port, "/api/encode", b"--x--\r\n", form) == 403
    rebound = {**headers, "Host": f"attacker.example:{port}"}
    assert post(port, "/api/decode", body, rebound) in (403, 421)


def test_explicit_hosts_replace_the_default():
    app = create_app(model(), allowed_hosts=["explorer.example:8080"])
    ok = client_of(app, base_url="http://explorer.example:8080")
    assert ok.get("/api/info").status_code == 200
    headers = {"Origin": "http://explorer.example:8080"}
    assert ok.post("/api/sample", json={"n": 1}, headers=headers).status_code == 200
    assert_error(client_of(app).get("/api/info"), fragment="Host")  # testserver: not listed
    assert_error(client_of(app, base_url="http://explorer.example:8081").get("/api/info"))


def test_the_cli_passes_the_bound_address(tmp_path, monkeypatch):
    import uvicorn

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    folder = model().save(tmp_path / "run")
    assert main(["serve", str(folder), "--port", "8123", "--data", "none"]) == 0
    app = calls[-1]["app"]
    for base in ("http://127.0.0.1:8123", "http://localhost:8123", "http://[::1]:8123"):
        assert client_of(app, base_url=base).get("/api/info").status_code == 200, base
    for base in ("http://attacker.example:8123", "http://127.0.0.1:8124", "http://testserver"):
        assert_error(client_of(app, base_url=base).get("/api/info"), fragment="Host")


def test_the_page_and_its_requests_carry_allowed_hosts(live):
    port = live.port
    host = f"127.0.0.1:{port}"
    assert get(port, "/", {"Host": host}).status == 200
    same_origin = {"Host": host, "Content-Type": "application/json", "Origin": f"http://{host}"}
    assert post(port, "/api/sample", b'{"n": 1}', same_origin) == 200


# -- 4. one error body for every 4xx ------------------------------------------------------------
def test_framework_errors_have_the_latentkit_error_body(vae_client):
    assert_error(vae_client.get("/api/nothing"), 404, "/api/nothing")
    assert_error(vae_client.get("/nothing/at/all"), 404)
    response = vae_client.get("/api/decode")
    assert_error(response, 405, "GET")
    assert "POST" in response.headers["allow"]
    assert_error(vae_client.post("/api/info", json={}), 405)
    assert_error(vae_client.put("/api/decode", json={}), 405)
    assert_error(vae_client.delete("/"), 405)
    assert_error(vae_client.request("OPTIONS", "/api/sample"), 405)
    assert_error(vae_client.post("/api/decode", json={"z": "x"}), 422, "z")
    assert_error(vae_client.post("/api/decode", content=b"{", headers=JSON), 400)


def test_an_unexpected_failure_is_a_json_500_without_a_traceback(monkeypatch):
    app = create_app(model())

    def boom(*args, **kwargs):
        raise RuntimeError("internal detail\nwith a second line")

    monkeypatch.setattr(app.state.explorer, "info", boom)
    response = client_of(app).get("/api/info")
    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"error"} and "\n" not in body["error"]
    assert "Traceback" not in response.text and "internal detail" not in response.text


# -- 5. uploads are decoded off the event loop, a bounded number at a time --------------------
def multipart(data: bytes) -> tuple[bytes, dict]:
    boundary = "latentkitboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


@pytest.fixture
def held_decoder(monkeypatch):
    """Patch the upload decoder to wait for ``release``; counts decodes running at once."""
    state = {"active": 0, "most": 0, "started": threading.Condition(), "release": threading.Event()}
    real = app_module.open_image

    def held_open_image(data: bytes):
        with state["started"]:
            state["active"] += 1
            state["most"] = max(state["most"], state["active"])
            state["started"].notify_all()
        try:
            assert state["release"].wait(timeout=120), "the test never released the decoder"
            return real(data)
        finally:
            with state["started"]:
                state["active"] -= 1

    monkeypatch.setattr(app_module, "open_image", held_open_image)
    yield state
    state["release"].set()


def start_uploads(port: int, count: int, results: list) -> list[threading.Thread]:
    body, headers = multipart(png_bytes(size=(64, 64)))
    headers["Host"] = f"127.0.0.1:{port}"

    def one() -> None:
        results.append(post(port, "/api/encode", body, headers))

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def test_a_cheap_request_is_answered_while_an_upload_is_decoded(held_decoder):
    with BackgroundServer(create_app(model())) as server:
        results: list[int] = []
        threads = start_uploads(server.port, 1, results)
        with held_decoder["started"]:
            assert held_decoder["started"].wait_for(lambda: held_decoder["active"] == 1, 60)
        try:
            # the timeout only bounds a failure: with the loop blocked this never answers
            response = get(server.port, "/api/info", {"Host": f"127.0.0.1:{server.port}"}, 20)
            assert response.status == 200
            assert not held_decoder["release"].is_set() and held_decoder["active"] == 1
        finally:
            held_decoder["release"].set()
            for thread in threads:
                thread.join(timeout=60)
        assert results == [200]


def test_concurrent_upload_decodes_are_bounded(held_decoder):
    limit = app_module.MAX_CONCURRENT_DECODES
    app = create_app(model())
    with BackgroundServer(app) as server:
        results: list[int] = []
        threads = start_uploads(server.port, limit + 2, results)
        try:
            with held_decoder["started"]:
                assert held_decoder["started"].wait_for(lambda: held_decoder["active"] == limit, 60)
            deadline = time.monotonic() + 60  # until the two extra uploads queue for a slot
            while app.state.decode_limiter.statistics().tasks_waiting < 2:
                assert time.monotonic() < deadline, "the extra uploads never queued"
                time.sleep(0.01)
            assert held_decoder["active"] == limit
            info = get(server.port, "/api/info", {"Host": f"127.0.0.1:{server.port}"}, 20)
            assert info.status == 200
        finally:
            held_decoder["release"].set()
            for thread in threads:
                thread.join(timeout=60)
        assert results == [200] * (limit + 2)
        assert held_decoder["most"] == limit
