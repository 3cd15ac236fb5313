"""What the explorer sends for a sequence model: decoded strings, and molecules drawn by RDKit.

A sequence model (``capabilities.sequence``: :mod:`latentkit.models.sequence`) decodes token ids
``(N, L)``, not pixels. Every endpoint that returns decoded data (decode, sample, interpolate,
attribute, map decode) sends, for such a model, ``"strings"``: the decoded strings (SMILES for
a SELFIES model when the ``selfies`` package is there), and ``"images"``: for a model of
molecules (SMILES or SELFIES tokens) with RDKit installed, a PNG data URL of each valid
molecule drawn :data:`DRAWING_SIZE` pixels square, None for a string that is not a molecule;
for other tokens, or without RDKit, None for every string. ``/api/info`` tells the page which
(:func:`sequence_info`), with the one-line note on the ``chem`` extra when RDKit is missing.

``POST /api/encode_string`` (:class:`~latentkit.serve.validation.EncodeStringRequest`) encodes
one string typed on the page (a SMILES for a molecule model, converted for a SELFIES one):
:func:`string_to_ids` refuses, with a 422 naming the token or the length, what the model's
tokenizer cannot encode.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from latentkit.errors import DataError
from latentkit.serve.validation import RequestError

if TYPE_CHECKING:
    from torch import Tensor

    from latentkit.models.base import AbstractModel

__all__ = ["DRAWING_SIZE", "sequence_info", "sequence_outputs", "string_to_ids"]

DRAWING_SIZE = 240  # pixels of a molecule drawing's side


def _kind(model: AbstractModel) -> str:
    return str(model.tokenizer.kind)  # type: ignore[attr-defined]


def _molecules(model: AbstractModel) -> bool:
    return _kind(model) in ("smiles", "selfies")


def _drawn(model: AbstractModel) -> bool:
    from latentkit.viz.molecules import can_draw_kind

    return can_draw_kind(_kind(model))


def sequence_info(model: AbstractModel) -> dict[str, Any] | None:
    """``{"tokens", "molecules", "drawn", "note"}`` of a sequence model (None otherwise)."""
    if not model.capabilities.sequence:
        return None
    from latentkit.viz.molecules import CHEM_NOTE

    molecules, drawn = _molecules(model), _drawn(model)
    return {
        "tokens": _kind(model),
        "molecules": molecules,
        "drawn": drawn,
        "max_length": int(model.input_shape[0]) - 1,  # tokens; one id is the end token
        "note": CHEM_NOTE if molecules and not drawn else None,
    }


def sequence_outputs(model: AbstractModel, ids: Tensor) -> dict[str, list]:
    """``{"strings": [...], "images": [data URL or None, ...]}`` of ids ``(N, L)``."""
    from latentkit.apps.sequences import strings_of

    molecules = _molecules(model)
    try:
        strings = strings_of(model, ids, molecules=molecules)
    except DataError:  # SELFIES without the selfies package: sent as they are
        strings = strings_of(model, ids)
    images: list[str | None] = [None] * len(strings)
    if _drawn(model):
        from latentkit.viz.molecules import molecule_png

        for i, text in enumerate(strings):
            png = molecule_png(text, DRAWING_SIZE)
            if png is not None:
                images[i] = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return {"strings": strings, "images": images}


def string_to_ids(model: AbstractModel, text: str) -> Tensor:
    """Ids ``(1, L)`` (float32) of one string typed on the page; a molecule model reads SMILES
    (converted to SELFIES for a SELFIES model). Refused (422) when the tokenizer cannot encode
    it: an unknown token, or more tokens than the model holds."""
    if not model.capabilities.sequence:
        raise RequestError(
            400,
            f"a {model.model_type} does not read strings; this endpoint is for sequence models.",
        )
    if _kind(model) == "selfies":
        from latentkit.data.sequences import to_selfies

        try:
            text = to_selfies([text])[0]
        except (DataError, ValueError) as exc:
            raise RequestError(422, " ".join(str(exc).split())) from None
    tokenizer = model.tokenizer  # type: ignore[attr-defined]
    try:
        ids = tokenizer.encode([text], int(model.input_shape[0]), source="the string")
    except (DataError, ValueError) as exc:
        message = " ".join(str(exc).split())
        raise RequestError(422, f"this model cannot encode it: {message}") from None
    return ids.float()
