"""The latent-space explorer web app: one static page and a small JSON API.

``create_app(model, data)`` builds a FastAPI app around an :class:`~latentkit.serve.explorer.
Explorer`; ``latentkit serve RUN`` runs it with uvicorn on 127.0.0.1. Routes:

=========================  =============================================================
``GET /``                  the page (``static/index.html``: plain HTML, CSS and JS)
``GET /api/info``          latent_dim, input_shape, model_type, projection, slider ranges
``POST /api/decode``       ``{"z": [[...]], "label"?}`` -> ``{"images": [PNG data URLs]}``
``POST /api/sample``       ``{"n", "temperature", "seed"?, "label"?}`` -> images and seed
``POST /api/interpolate``  ``{"z_a", "z_b"}`` or ``{"index_a", "index_b"}``, ``"steps"``,
                           ``"method"`` -> images and codes
``GET /api/map``           projected data codes, their labels and dataset indices
``POST /api/map/decode``   ``{"point": [x, y]}`` -> code and image
``POST /api/encode``       multipart upload (``file``, optional ``invert``, ``label``) ->
                           code, converted input, reconstruction, map point
=========================  =============================================================

Bad requests get a 4xx status and ``{"error": "one-line message"}``: malformed JSON (400), a
wrong content type (415), a body over the size cap (413, counted while it streams in, before
any parsing), and anything the validators refuse (422; see :mod:`latentkit.serve.validation`).
Model work runs in FastAPI's thread pool, serialised by the explorer's lock.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from latentkit.serve.explorer import Explorer
from latentkit.serve.validation import (
    MAX_JSON_BYTES,
    MAX_UPLOAD_BYTES,
    DecodeRequest,
    InterpolateRequest,
    MapDecodeRequest,
    RequestError,
    SampleRequest,
    check_codes,
    open_image,
    read_upload,
)

if TYPE_CHECKING:
    from latentkit.data.dataset import Dataset
    from latentkit.models.base import AbstractModel

__all__ = ["create_app"]

UPLOAD_PATH = "/api/encode"
UPLOAD_OVERHEAD = 64 * 1024  # multipart headers and small fields around the file


class _BodyLimit:
    """ASGI middleware: content-type checks and a byte cap on request bodies under /api/.

    The cap is enforced on ``Content-Length`` when present and on the bytes actually received
    (the body is read into memory, at most the cap, and replayed to the app), so a chunked
    body cannot grow past it either.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        upload = scope["path"] == UPLOAD_PATH
        limit = MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD if upload else MAX_JSON_BYTES
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        wanted = "multipart/form-data" if upload else "application/json"
        if kind != wanted:
            found = kind or "none"
            await _error(415, f"expected Content-Type {wanted}, got {found}.")(scope, receive, send)
            return
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _error(413, f"request body over the {limit}-byte limit.")(scope, receive, send)
            return
        chunks: list[bytes] = []
        received = 0
        more = True
        while more:  # read the whole (capped) body before the app parses any of it
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await _error(413, f"request body over the {limit}-byte limit.")(
                    scope, receive, send
                )
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


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
    """
    explorer = Explorer(model, data, note=note, max_points=max_points, seed=seed)
    app = FastAPI(title="latentkit explorer", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.explorer = explorer
    app.add_middleware(_BodyLimit)
    page = resources.files("latentkit.serve").joinpath("static/index.html").read_text("utf-8")

    @app.exception_handler(RequestError)
    async def _request_error(request: Request, exc: RequestError) -> JSONResponse:
        return _error(exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(*_validation_message(exc))

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
        return {"images": explorer.decode(body.z, body.label)}

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

    @app.post(UPLOAD_PATH)
    async def encode(request: Request) -> JSONResponse:
        body = await request.body()  # capped by _BodyLimit while streaming
        file, fields = read_upload(body, request.headers.get("content-type", ""))
        invert = fields.get("invert", "").lower() in {"1", "true", "on", "yes"}
        label = _form_label(fields.get("label"))
        image = open_image(file)
        # the model call is blocking: run it in the thread pool like the sync routes
        from starlette.concurrency import run_in_threadpool

        result = await run_in_threadpool(explorer.encode_image, image, invert, label)
        return JSONResponse(result)

    return app


def _form_label(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise RequestError(422, f"label must be a non-negative integer, got {value!r}.")
    return int(value)
