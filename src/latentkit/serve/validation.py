"""Request validation for the latent-space explorer: limits, request models, uploads.

Every request body is checked before the model sees it:

- JSON bodies are parsed by FastAPI and validated by the pydantic models below, which refuse
  non-finite numbers (Python's ``json`` accepts the ``NaN`` and ``Infinity`` literals, and a
  literal like ``1e999`` overflows to infinity, so finiteness is checked after parsing) and cap
  every list length. Numbers are strict: an integer field takes a JSON integer only (not
  ``true``, ``"8"`` or ``8.0``), a real field a JSON number (an integer is fine). Code
  lengths are checked against the model's ``latent_dim`` by :func:`check_codes`, since the
  models here are fixed at import time.
- Uploads are parsed from memory (:func:`read_upload`): the body size is already capped by the
  app's middleware, the multipart body is parsed by ``python-multipart`` into a bytes buffer
  (Starlette's form parser would spool large parts to a temporary file, and nothing of a
  request may reach the filesystem), and :func:`open_image` reads the image header with
  Pillow, refusing formats other than PNG and JPEG and images over :data:`MAX_PIXELS` before
  decoding any pixel data (a defence against decompression bombs). The other form fields are
  small (at most 64 bytes each), named once each, UTF-8, and parsed strictly by
  :func:`upload_options`: ``invert`` is a yes/no word, ``label`` ASCII digits (``str.isdigit``
  admits ``²``, which ``int`` refuses). Decoding an upload is slow (a 4096x4096 PNG takes a
  while), so the app runs it off the event loop, :data:`MAX_CONCURRENT_DECODES` at a time.

Errors are :class:`RequestError` carrying an HTTP status and a one-line message.
"""

from __future__ import annotations

import io
import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MAX_ATTRIBUTES",
    "MAX_CODES",
    "MAX_CONCURRENT_DECODES",
    "MAX_JSON_BYTES",
    "MAX_PIXELS",
    "MAX_SAMPLES",
    "MAX_STEPS",
    "MAX_STRENGTH",
    "MAX_STRING_CHARS",
    "MAX_TEMPERATURE",
    "MAX_UPLOAD_BYTES",
    "AttributeRequest",
    "DecodeRequest",
    "EncodeStringRequest",
    "InterpolateRequest",
    "MapDecodeRequest",
    "RequestError",
    "SampleRequest",
    "check_codes",
    "open_image",
    "read_upload",
    "upload_options",
]

MAX_CODES = 64  # codes per decode request
MAX_STEPS = 32  # interpolation steps
MAX_SAMPLES = 64  # samples per request
MAX_TEMPERATURE = 5.0  # prior temperature cap
MAX_STRENGTH = 10.0  # |strength| cap of an attribute edit (multiples of the attribute vector)
MAX_ATTRIBUTES = 32  # attribute vectors offered (one per class, for at most this many classes)
MAX_STRING_CHARS = 4096  # characters of a string typed for a sequence model
MAX_LATENT_VALUES = 4096  # length cap of one code, before the latent_dim check
MAX_ABS_VALUE = 1e6  # codes further out than this are not meaningful for any model here
MAX_JSON_BYTES = 1 << 20  # 1 MiB per JSON body
MAX_UPLOAD_BYTES = 2 << 20  # 2 MiB per uploaded image
MAX_PIXELS = 4096 * 4096  # width * height cap of an uploaded image
MAX_CONCURRENT_DECODES = 2  # uploads decoded at once (a 4096x4096 RGBA image is 64 MiB decoded)
MAX_LABEL = 1_000_000  # labels above this are refused before the model's classes are checked
MAX_FIELD_BYTES = 64  # form fields other than the file
IMAGE_FORMATS = ("PNG", "JPEG")
UPLOAD_FIELDS = ("invert", "label")  # besides "file"
_YES = ("1", "true", "on", "yes")
_NO = ("", "0", "false", "off", "no")

Value = Annotated[
    float, Field(strict=True, allow_inf_nan=False, ge=-MAX_ABS_VALUE, le=MAX_ABS_VALUE)
]
Code = Annotated[list[Value], Field(min_length=1, max_length=MAX_LATENT_VALUES)]
Label = Annotated[int, Field(strict=True, ge=0, le=MAX_LABEL)]


class RequestError(Exception):
    """A bad request: answered with ``status`` and ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=False)


class DecodeRequest(_Request):
    """``{"z": [[...], ...], "label": 3}``: up to 64 codes of length ``latent_dim``."""

    z: Annotated[list[Code], Field(min_length=1, max_length=MAX_CODES)]
    label: Label | None = None  # the class for label-conditioned models


class SampleRequest(_Request):
    """``{"n": 8, "temperature": 1.0, "seed": 0}``: draws from the prior."""

    n: Annotated[int, Field(strict=True, ge=1, le=MAX_SAMPLES)] = 8
    temperature: Annotated[
        float, Field(strict=True, ge=0.0, le=MAX_TEMPERATURE, allow_inf_nan=False)
    ] = 1.0
    seed: Annotated[int, Field(strict=True, ge=0, lt=2**63)] | None = None
    label: Label | None = None


class InterpolateRequest(_Request):
    """Between two codes (``z_a``, ``z_b``) or two dataset indices (``index_a``, ``index_b``)."""

    z_a: Code | None = None
    z_b: Code | None = None
    index_a: Annotated[int, Field(strict=True, ge=0)] | None = None
    index_b: Annotated[int, Field(strict=True, ge=0)] | None = None
    steps: Annotated[int, Field(strict=True, ge=2, le=MAX_STEPS)] = 8
    method: Literal["linear", "spherical"] = "linear"
    label: Label | None = None

    def endpoints(self) -> Literal["codes", "indices"]:
        """Which pair was given; raises :class:`RequestError` unless exactly one full pair."""
        codes = (self.z_a is not None, self.z_b is not None)
        indices = (self.index_a is not None, self.index_b is not None)
        if all(codes) and not any(indices):
            return "codes"
        if all(indices) and not any(codes):
            return "indices"
        raise RequestError(
            422, "give either z_a and z_b (two codes) or index_a and index_b (two data indices)."
        )


class AttributeRequest(_Request):
    """``{"z": [...], "attribute": 0, "strengths": [0, 1, 2]}``: one code moved along an
    attribute vector (see ``GET /api/info``'s ``attributes``), decoded at each strength."""

    z: Code
    attribute: Annotated[int, Field(strict=True, ge=0, le=MAX_LABEL)] = 0
    strengths: Annotated[
        list[
            Annotated[
                float,
                Field(strict=True, allow_inf_nan=False, ge=-MAX_STRENGTH, le=MAX_STRENGTH),
            ]
        ],
        Field(min_length=1, max_length=MAX_STEPS),
    ]
    label: Label | None = None


class EncodeStringRequest(_Request):
    """``{"string": "CCO"}``: one string for a sequence model (a SMILES for molecules), at most
    :data:`MAX_STRING_CHARS` characters; its tokens are checked by the model's tokenizer."""

    string: Annotated[str, Field(strict=True, min_length=1, max_length=MAX_STRING_CHARS)]


class MapDecodeRequest(_Request):
    """``{"point": [x, y]}``: a point of the 2-D map, decoded through the projection."""

    point: Annotated[list[Value], Field(min_length=2, max_length=2)]
    label: Label | None = None


def check_codes(codes: list[list[float]], latent_dim: int, name: str = "z") -> None:
    """Refuse codes whose length is not ``latent_dim`` (or that hold non-finite values)."""
    for i, code in enumerate(codes):
        if len(code) != latent_dim:
            raise RequestError(
                422,
                f"{name}[{i}] has {len(code)} values; this model's codes have "
                f"latent_dim={latent_dim} values.",
            )
        if not all(math.isfinite(v) for v in code):  # pydantic already refuses; kept as a guard
            raise RequestError(422, f"{name}[{i}] holds NaN or infinite values.")


def read_upload(body: bytes, content_type: str, field: str = "file") -> tuple[bytes, dict]:
    """The bytes of the file part ``field`` of a ``multipart/form-data`` body, in memory.

    Returns
    -------
    file : bytes
        The uploaded file.
    fields : dict of str to str
        The other form fields, e.g. ``{"invert": "true"}``: each named once, at most
        :data:`MAX_FIELD_BYTES` bytes of UTF-8 (else :class:`RequestError`, 422).
    """
    from python_multipart.multipart import MultipartParser, parse_options_header

    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise RequestError(
            415, f"expected a multipart/form-data upload with a {field!r} part, got {kind!r}."
        )
    parts: list[dict] = []
    header: list[bytes] = [b"", b""]

    def on_part_begin() -> None:
        parts.append({"headers": {}, "data": bytearray()})

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header[0] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header[1] += data[start:end]

    def on_header_end() -> None:
        parts[-1]["headers"][header[0].decode("latin-1").lower()] = header[1]
        header[0], header[1] = b"", b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1]["data"] += data[start:end]

    parser = MultipartParser(
        options[b"boundary"],
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except Exception as exc:  # python-multipart raises several error types
        raise RequestError(400, f"malformed multipart body: {exc}") from None
    file: bytes | None = None
    fields: dict[str, str] = {}
    for part in parts:
        disposition = part["headers"].get("content-disposition", b"")
        _, params = parse_options_header(disposition)
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if name in fields or (name == field and file is not None):
            raise RequestError(422, f"the form field {name[:40]!r} is given twice; send it once.")
        if name == field:
            file = bytes(part["data"])
            continue
        if len(part["data"]) > MAX_FIELD_BYTES:
            raise RequestError(
                422,
                f"the form field {name[:40]!r} is {len(part['data'])} bytes; fields other than "
                f"{field!r} hold at most {MAX_FIELD_BYTES}.",
            )
        try:
            fields[name] = part["data"].decode("utf-8")
        except UnicodeDecodeError:
            raise RequestError(422, f"the form field {name[:40]!r} is not UTF-8 text.") from None
    if file is None:
        raise RequestError(422, f"the upload has no {field!r} part; send the image as {field!r}.")
    if len(file) > MAX_UPLOAD_BYTES:
        raise RequestError(413, f"the image is {len(file)} bytes; the limit is {MAX_UPLOAD_BYTES}.")
    if not file:
        raise RequestError(422, "the uploaded file is empty.")
    return file, fields


def upload_options(fields: dict[str, str]) -> tuple[bool, int | None]:
    """``(invert, label)`` from an upload's form fields, parsed strictly.

    ``invert`` is one of ``1 true on yes`` or ``0 false off no`` (any case; empty or absent:
    no). ``label`` is absent or empty (no label) or ASCII digits up to :data:`MAX_LABEL`; the
    model's classes are checked by the explorer. Other fields are refused.
    """
    for name in fields:
        if name not in UPLOAD_FIELDS:
            raise RequestError(
                422,
                f"unknown form field {name[:40]!r}; an upload takes 'file', 'invert' and 'label'.",
            )
    flag = fields.get("invert", "").lower()
    if flag not in _YES + _NO:
        raise RequestError(
            422, f"invert must be one of {', '.join(_YES + _NO[1:])}, got {fields['invert']!r}."
        )
    value = fields.get("label", "")
    if value == "":
        return flag in _YES, None
    if not (len(value) <= 7 and all("0" <= c <= "9" for c in value)) or int(value) > MAX_LABEL:
        raise RequestError(
            422, f"label must be a class number in ASCII digits (0 to {MAX_LABEL}), got {value!r}."
        )
    return flag in _YES, int(value)


def open_image(data: bytes):  # -> PIL.Image.Image
    """Open and fully decode a PNG or JPEG after checking its format and pixel count."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)  # reads the header only
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise RequestError(415, "the upload is not a readable PNG or JPEG image.") from None
    width, height = image.size
    if width * height > MAX_PIXELS or width < 1 or height < 1:
        raise RequestError(
            413, f"the image is {width}x{height} pixels; the limit is {MAX_PIXELS} pixels."
        )
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise RequestError(415, f"the image could not be decoded: {exc}") from None
    return image
