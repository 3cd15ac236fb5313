"""The latent-space explorer web app: one static page and a small JSON API.

``create_app(model, data)`` builds a FastAPI app around an :class:`~latentkit.serve.explorer.
Explorer`; ``latentkit serve RUN`` runs it with uvicorn on 127.0.0.1. Routes:

=============================  =============================================================
``GET /``                      the page (``static/index.html``: plain HTML, CSS and JS)
``GET /api/info``              latent_dim, input_shape, model_type, projection, slider ranges
``POST /api/decode``           ``{"z": [[...]], "label"?}`` -> ``{"images": [PNG data URLs]}``
                               (a sequence model: ``"strings"`` too, and molecule drawings or
                               None as images; :mod:`latentkit.serve.sequences`)
``POST /api/sample``           ``{"n", "temperature", "seed"?, "label"?}`` -> images and seed
``POST /api/interpolate``      ``{"z_a", "z_b"}`` or ``{"index_a", "index_b"}``, ``"steps"``,
                               ``"method"`` -> images and codes
``GET /api/map``               projected data codes, their labels and dataset indices
``POST /api/map/decode``       ``{"point": [x, y]}`` -> code and image
``POST /api/attribute``        ``{"z", "attribute", "strengths"}`` -> images and codes of
                               ``z + s * vector`` (vectors listed by ``/api/info``)
``POST /api/encode``           multipart upload (``file``, optional ``invert``, ``label``) ->
                               code, converted input, reconstruction, map point
``POST /api/encode_string``    ``{"string"}`` (sequence models) -> code, the input and its
                               reconstruction (strings and drawings), map point
=============================  =============================================================

Every error has one body, ``{"error": "one-line message"}``
(:func:`~latentkit.serve.middleware.error_response`), and a 4xx status for anything a request
can cause: a ``Host`` or ``Origin`` other than the explorer's own address (403; see
:mod:`latentkit.serve.hosts`), malformed JSON or a malformed ``Content-Length`` (400), a
wrong content type (415), a body over the size cap (413, counted while it streams in, before
any parsing), an unknown route (404) or method (405), anything the validators refuse and a
model whose outputs are not finite (422; see :mod:`latentkit.serve.validation`). The
framework's own errors are answered in the same shape; a bug in the server is a 500 with the
same shape and no traceback (uvicorn logs it). Model work runs in FastAPI's thread pool,
serialised by the explorer's lock; uploads are parsed and decoded in worker threads too, at
most :data:`~latentkit.serve.validation.MAX_CONCURRENT_DECODES` at a time, so the event loop
keeps answering while a large image is decoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from importlib import resources
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Route

from latentkit.serve.explorer import Explorer
from latentkit.serve.hosts import allowed_authorities
from latentkit.serve.middleware import UPLOAD_PATH, BodyLimit, HostCheck, error_response
from latentkit.serve.validation import (
    MAX_CONCURRENT_DECODES,
    AttributeRequest,
    DecodeRequest,
    EncodeStringRequest,
    InterpolateRequest,
    MapDecodeRequest,
    RequestError,
    SampleRequest,
    check_codes,
    open_image,
    read_upload,
    upload_options,
)

if TYPE_CHECKING:
    from latentkit.data.dataset import Dataset
    from latentkit.models.base import AbstractModel

__all__ = ["create_app"]

_error = error_response


def _validation_message(exc: RequestValidationError) -> tuple[int, str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        detail = next(e for e in errors if e.get("type") == "json_invalid")
        reason = (detail.get("ctx") or {}).get("error", "")
        return 400, f"malformed JSON body: {reason}".rstrip(": ")
    if any(e.get("type") == "missing" and tuple(e.get("loc", ())) == ("body",) for e in errors):
        return 422, "missing request body: send a JSON object (see GET /api/info for the shapes)."
    parts = []
    for e in errors[:3]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return 422, "; ".join(parts) + more


def create_app(
    model: AbstractModel,
    data: Dataset | None = None,
    *,
    note: str | None = None,
    max_points: int = 1000,
    seed: int = 0,
    allowed_hosts: Sequence[str] | None = None,
) -> FastAPI:
    """Build the explorer app for ``model``.

    Parameters
    ----------
    model : AbstractModel
        A trained latentkit model (put in eval mode here).
    data : Dataset, optional
        Data whose codes are drawn on the 2-D map (a seeded subsample of ``max_points`` rows);
        its points must have the model's input shape.
    note : str, optional
        Shown on the page when there is no map (why no data was loaded).
    max_points : int
        Rows of ``data`` encoded for the map.
    seed : int
        Seed of the map's subsample.
    allowed_hosts : sequence of str, optional
        The addresses the explorer answers to, as ``"host:port"`` (``"[::1]:8000"`` for IPv6;
        no port means 80); a loopback one admits the other spellings of loopback on its port.
        Requests with another ``Host``, or an ``Origin`` other than ``http://`` plus one of
        them, get a 403. ``latentkit serve`` passes its bound address. None (the default):
        the local address each connection arrived at, i.e. the bound address under uvicorn.

    Raises
    ------
    ValueError
        For an ``allowed_hosts`` entry that is not ``host[:port]``.
    """
    allowed = None if allowed_hosts is None else allowed_authorities(allowed_hosts)
    explorer = Explorer(model, data, note=note, max_points=max_points, seed=seed)
    app = FastAPI(title="latentkit explorer", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.explorer = explorer
    app.state.decode_limiter = decode_limiter = anyio.CapacityLimiter(MAX_CONCURRENT_DECODES)
    app.add_middleware(BodyLimit)
    app.add_middleware(HostCheck, allowed=allowed)  # added last: runs first
    page = resources.files("latentkit.serve").joinpath("static/index.html").read_text("utf-8")

    @app.exception_handler(RequestError)
    async def _request_error(request: Request, exc: RequestError) -> JSONResponse:
        return _error(exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(*_validation_message(exc))

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, _http_message(app, request, exc), headers=exc.headers)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        # the server's own bug: no detail to the client (uvicorn logs the traceback)
        where = f"{request.method} {request.url.path[:100]}"
        return _error(500, f"internal server error while answering {where}; see the server log.")

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/api/info")
    def info() -> dict[str, Any]:
        return explorer.info()

    @app.post("/api/decode")
    def decode(body: DecodeRequest) -> dict[str, Any]:
        check_codes(body.z, explorer.latent_dim)
        return explorer.decode(body.z, body.label)

    @app.post("/api/sample")
    def sample(body: SampleRequest) -> dict[str, Any]:
        return explorer.sample(body.n, body.temperature, body.seed, body.label)

    @app.post("/api/interpolate")
    def interpolate(body: InterpolateRequest) -> dict[str, Any]:
        if body.endpoints() == "indices":
            z_a, z_b = explorer.data_codes(body.index_a, body.index_b)  # type: ignore[arg-type]
        else:
            z_a, z_b = body.z_a, body.z_b  # type: ignore[assignment]
            check_codes([z_a, z_b], explorer.latent_dim, name="z_a/z_b")
        return explorer.interpolate(z_a, z_b, body.steps, body.method, body.label)

    @app.get("/api/map")
    def map_points() -> dict[str, Any]:
        return explorer.map()

    @app.post("/api/map/decode")
    def map_decode(body: MapDecodeRequest) -> dict[str, Any]:
        return explorer.map_decode(body.point, body.label)

    @app.post("/api/attribute")
    def attribute(body: AttributeRequest) -> dict[str, Any]:
        check_codes([body.z], explorer.latent_dim)
        return explorer.attribute(body.z, body.attribute, body.strengths, body.label)

    @app.post("/api/encode_string")
    def encode_string(body: EncodeStringRequest) -> dict[str, Any]:
        return explorer.encode_string(body.string)

    def encode_upload(body: bytes, content_type: str) -> dict[str, Any]:
        """Parse, decode and encode one upload (blocking: runs in a worker thread)."""
        file, fields = read_upload(body, content_type)
        invert, label = upload_options(fields)
        image = open_image(file)
        return explorer.encode_image(image, invert, label)

    @app.post(UPLOAD_PATH)
    async def encode(request: Request) -> JSONResponse:
        body = await request.body()  # capped by BodyLimit while streaming
        content_type = request.headers.get("content-type", "")
        # off the event loop, at most MAX_CONCURRENT_DECODES at a time; the others wait here
        # (on the loop, without holding a thread) for a slot
        result = await anyio.to_thread.run_sync(
            encode_upload, body, content_type, limiter=decode_limiter
        )
        return JSONResponse(result)

    return app


def _http_message(app: FastAPI, request: Request, exc: HTTPException) -> str:
    """A one-line message for the framework's own errors (404, 405 and the like)."""
    path = request.url.path[:100]
    if exc.status_code == 404:
        routes = sorted({r.path for r in app.routes if isinstance(r, Route)} - {"/favicon.ico"})
        return f"{path} is not here; the explorer serves {', '.join(routes)}."
    if exc.status_code == 405:
        allow = (exc.headers or {}).get("Allow", "")
        return f"{request.method[:20]} is not allowed on {path}; use {allow or 'another method'}."
    phrase = HTTPStatus(exc.status_code).phrase
    if isinstance(exc.detail, str) and exc.detail and exc.detail != phrase:
        return exc.detail
    return f"{phrase} ({request.method[:20]} {path})."
