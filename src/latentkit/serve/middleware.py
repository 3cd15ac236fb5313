"""The explorer's ASGI middleware and its one error body.

- :func:`error_response`: every error the explorer sends is ``{"error": "one-line message"}``
  (whitespace collapsed, at most :data:`MAX_MESSAGE` characters), whoever raised it.
- :class:`HostCheck` (outermost): refuses a ``Host`` or ``Origin`` that is not the explorer's
  own address (see :mod:`latentkit.serve.hosts`) with 403, before anything reads the body.
- :class:`BodyLimit`: content-type checks and a byte cap on request bodies; the cap is
  enforced on ``Content-Length`` when present (ASCII digits, else 400) and on the bytes actually
  received (the body is read into memory, at most the cap, and replayed to the app), so a
  chunked body cannot grow past it either.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from latentkit.serve.hosts import (
    Authority,
    format_authority,
    parse_authority,
    parse_origin,
    scope_authorities,
)
from latentkit.serve.validation import MAX_JSON_BYTES, MAX_UPLOAD_BYTES

__all__ = ["MAX_MESSAGE", "UPLOAD_PATH", "BodyLimit", "HostCheck", "error_response"]

UPLOAD_PATH = "/api/encode"
UPLOAD_OVERHEAD = 64 * 1024  # multipart headers and small fields around the file
MAX_MESSAGE = 400  # characters of an error message


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """``{"error": message}`` with ``status``; the message made one line and capped."""
    text = " ".join(str(message).split())
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 3] + "..."
    return JSONResponse({"error": text}, status_code=status, headers=headers)


def _headers(scope: Scope) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, value in scope["headers"]:
        found.setdefault(key.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return found


def _shown(value: str, limit: int = 80) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "...")


class HostCheck:
    """ASGI middleware: only requests for the explorer's own address, from its own pages.

    ``allowed`` holds the admitted ``(host, port)`` pairs; None admits the local address each
    connection arrived at (see :mod:`latentkit.serve.hosts`).
    """

    def __init__(self, app: ASGIApp, allowed: frozenset[Authority] | None = None) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        allowed = self.allowed if self.allowed is not None else scope_authorities(scope["server"])
        here = ", ".join(sorted(format_authority(a) for a in allowed))
        here = here or "no address it knows (pass allowed_hosts to create_app)"
        headers = _headers(scope)
        hosts, origins = headers.get("host", []), headers.get("origin", [])
        refusal = None
        if len(hosts) != 1 or parse_authority(hosts[0]) not in allowed:
            found = "none" if not hosts else ", ".join(_shown(h) for h in hosts)
            refusal = (
                f"Host {found} is not served here; this explorer answers to {here} only "
                "(a guard against DNS rebinding): open it by that address."
            )
        elif len(origins) > 1 or (origins and parse_origin(origins[0]) not in allowed):
            found = ", ".join(_shown(o) for o in origins)
            refusal = (
                f"Origin {found} may not call this explorer; only its own page (http:// plus "
                f"{here}) may (a guard against cross-site requests)."
            )
        if refusal is not None:
            await error_response(403, refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """ASGI middleware: content-type checks and a byte cap on POST bodies (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k: v[0] for k, v in _headers(scope).items()}
        upload = scope["path"] == UPLOAD_PATH
        limit = MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD if upload else MAX_JSON_BYTES
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        wanted = "multipart/form-data" if upload else "application/json"
        if kind != wanted:
            found = kind or "none"
            await error_response(415, f"expected Content-Type {wanted}, got {found}.")(
                scope, receive, send
            )
            return
        too_large = error_response(413, f"request body over the {limit}-byte limit.")
        declared = headers.get("content-length")
        if declared is not None and not _is_count(declared):
            found = _shown(declared)
            message = f"Content-Length must be a byte count in ASCII digits, got {found}."
            await error_response(400, message)(scope, receive, send)
            return
        if declared is not None and int(declared) > limit:
            await too_large(scope, receive, send)
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
                await too_large(scope, receive, send)
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


def _is_count(value: str) -> bool:
    """ASCII digits only (``str.isdigit`` admits ``²``, which ``int`` refuses), at most 19."""
    return 0 < len(value) <= 19 and all("0" <= c <= "9" for c in value)
