"""Sequences of tokens: SMILES, SELFIES, protein sequences or any text, and their tokenizer.

Strings come from a column of a CSV file (:func:`read_strings`, ``column=``) or from a FASTA
file (one record a sequence). A :class:`Tokenizer` splits them into tokens and maps the tokens
to integer ids; it is plain JSON (``to_dict`` / ``from_dict``) and travels with a trained model
(the sequence VAE keeps its tokens in its ``config.json``).

Tokenization, by ``kind``:

- ``"smiles"``: the regular expression of Schwaller et al. (2019, "Molecular Transformer"):
  bracket atoms (``[nH]``, ``[C@@H]``, ``[O-]``) are one token, so are ``Cl`` and ``Br`` and
  two-digit ring closures (``%10``); everything else is one character. A character the
  expression does not cover is refused (a SMILES parser would refuse it too).
- ``"selfies"``: SELFIES symbols (Krenn et al. 2020), split by the ``selfies`` package (an
  optional extra: ``pip install latentkit[chem]``); :func:`to_selfies` converts SMILES.
- ``"chars"``: one character a token (protein sequences, any text).

Ids: 0 pads, 1 begins and 2 ends a sequence; the fitted tokens follow from 3 in sorted order.
An encoded row holds the tokens, the end token, then padding, so a model of ``max_length`` ids
holds strings of at most ``max_length - 1`` tokens; a longer string is refused with its row
and its length named, and so is a token the tokenizer does not know. Where ``max_length``
defaults to the longest string + 1 (``latentkit train``), it is capped at
:data:`DEFAULT_MAX_LENGTH` ids; a longer sequence needs an explicit ``--max-length``.

Memory is bounded (see :mod:`latentkit.data.limits`): a file's size is checked before it is
read, and the ``(N, max_length)`` int64 ids before they are allocated.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor

from latentkit.data.limits import check_data_bytes
from latentkit.errors import DataError

__all__ = [
    "BOS",
    "DEFAULT_MAX_LENGTH",
    "EOS",
    "PAD",
    "SPECIALS",
    "Tokenizer",
    "lengths",
    "read_strings",
    "to_selfies",
]

PAD, BOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<bos>", "<eos>")
TokenKind = Literal["smiles", "selfies", "chars"]
_SMILES = re.compile(
    r"(\[[^\]]+]|Br|Cl|N|O|S|P|F|I|B|C|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|/|:|~|@|\?|>|\*|\$"
    r"|%[0-9]{2}|[0-9])"
)
_FASTA = (".fa", ".fasta", ".faa", ".fna")

#: the most ids per sequence that a default ``max_length`` (the longest string + 1) may take
DEFAULT_MAX_LENGTH = 1024


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _split_selfies(text: str) -> list[str]:
    try:
        import selfies
    except ImportError as exc:
        raise DataError(
            "SELFIES tokens need the selfies package: pip install 'latentkit[chem]'."
        ) from exc
    tokens = list(selfies.split_selfies(text))
    if "".join(tokens) != text:
        raise DataError(f"{_short(text)!r} is not a SELFIES string (symbols are [...]).")
    return tokens


def _split_smiles(text: str) -> list[str]:
    tokens, position = [], 0
    for match in _SMILES.finditer(text):
        if match.start() != position:
            raise DataError(
                f"unknown token {text[position]!r} at position {position} of {_short(text)!r}: "
                "not a SMILES character; expected atoms, bonds, rings and brackets "
                "(use kind='chars' for arbitrary text)."
            )
        tokens.append(match.group())
        position = match.end()
    if position != len(text):
        raise DataError(
            f"unknown token {text[position]!r} at position {position} of {_short(text)!r}: "
            "not a SMILES character (use kind='chars' for arbitrary text)."
        )
    return tokens


def split(text: str, kind: TokenKind) -> list[str]:
    """The tokens of one string: ``"CCl" -> ["C", "Cl"]`` for SMILES."""
    if kind == "smiles":
        return _split_smiles(text)
    if kind == "selfies":
        return _split_selfies(text)
    return list(text)


def to_selfies(smiles: Iterable[str]) -> list[str]:
    """SMILES to SELFIES strings (needs ``selfies``); a SMILES it cannot encode is named."""
    try:
        import selfies
    except ImportError as exc:
        raise DataError(
            "SELFIES needs the selfies package: pip install 'latentkit[chem]'."
        ) from exc
    out = []
    for row, text in enumerate(smiles):
        try:
            out.append(selfies.encoder(text, strict=False))
        except Exception as exc:  # EncoderError, and IndexError on some malformed SMILES
            raise DataError(
                f"row {row}: cannot write {_short(text)!r} as SELFIES "
                f"({exc or type(exc).__name__}); expected a valid SMILES."
            ) from exc
    return out


@dataclasses.dataclass(frozen=True)
class Tokenizer:
    """Tokens to ids and back.

    Parameters
    ----------
    kind : {"smiles", "selfies", "chars"}
        How strings are split (module docstring).
    tokens : tuple of str
        The known tokens, in id order from 3 (ids 0, 1, 2 are padding, begin and end).
    """

    kind: TokenKind
    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.kind not in ("smiles", "selfies", "chars"):
            raise DataError(
                f"Tokenizer.kind must be 'smiles', 'selfies' or 'chars', got {self.kind!r}."
            )
        if len(set(self.tokens)) != len(self.tokens) or set(self.tokens) & set(SPECIALS):
            raise DataError("Tokenizer.tokens must be distinct and not <pad>, <bos> or <eos>.")

    @classmethod
    def fit(cls, strings: Iterable[str], kind: TokenKind = "smiles") -> Tokenizer:
        """The tokenizer of every token found in ``strings``."""
        seen: set[str] = set()
        for text in strings:
            seen.update(split(text, kind))
        return cls(kind, tuple(sorted(seen)))

    @property
    def vocab_size(self) -> int:
        """Ids in use, the three special ones included."""
        return len(self.tokens) + len(SPECIALS)

    def to_dict(self) -> dict[str, object]:
        """Plain JSON: ``{"kind": ..., "tokens": [...]}``."""
        return {"kind": self.kind, "tokens": list(self.tokens)}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Tokenizer:
        """The tokenizer written by :meth:`to_dict`."""
        tokens = data.get("tokens")
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise DataError("a tokenizer's 'tokens' must be a list of strings.")
        return cls(data.get("kind"), tuple(tokens))  # type: ignore[arg-type]

    def longest(self, strings: Sequence[str]) -> tuple[int, int]:
        """``(row, tokens)`` of the longest string (the end token not counted)."""
        sizes = [len(split(s, self.kind)) for s in strings]
        if not sizes:
            raise DataError("no strings to measure; expected at least one.")
        row = max(range(len(sizes)), key=sizes.__getitem__)
        return row, sizes[row]

    def encode(
        self, strings: Sequence[str], max_length: int, *, source: object = "the strings"
    ) -> Tensor:
        """Ids of shape ``(N, max_length)``, int64: tokens, end token, padding.

        ``source`` (a file name) is named when the ids would exceed the data limit.

        Raises
        ------
        DataError
            For a token this tokenizer does not know (named, with its row), a string of
            ``max_length`` tokens or more (the longest named, with its row and length), or ids
            over :func:`~latentkit.data.limits.max_data_bytes` (checked before allocating).
        """
        check_data_bytes(
            source,
            f"the int64 ids of shape ({len(strings)}, {max_length})",
            len(strings) * max_length * 8,
        )
        index = {token: i + len(SPECIALS) for i, token in enumerate(self.tokens)}
        out = torch.full((len(strings), max_length), PAD, dtype=torch.int64)
        for row, text in enumerate(strings):
            tokens = split(text, self.kind)
            if len(tokens) >= max_length:
                at, size = self.longest(strings)
                raise DataError(
                    f"the longest sequence (row {at}, {_short(strings[at])!r}) has {size} "
                    f"tokens; at most {max_length - 1} fit in max_length={max_length} (one id "
                    f"ends a sequence); raise max_length to {size + 1} or drop long rows."
                )
            try:
                ids = [index[t] for t in tokens]
            except KeyError as exc:
                raise DataError(
                    f"unknown token {exc.args[0]!r} in row {row} ({_short(text)!r}); the "
                    f"tokenizer knows {len(self.tokens)} tokens: fit it on data holding this "
                    "one or drop the row."
                ) from None
            out[row, : len(ids)] = torch.tensor(ids, dtype=torch.int64)
            out[row, len(ids)] = EOS
        return out

    def decode(self, ids: Tensor) -> list[str]:
        """Strings from ids ``(N, L)``: tokens up to the first end (or padding) id."""
        names = (*SPECIALS, *self.tokens)
        out = []
        for row in ids.to(torch.int64).tolist():
            parts = []
            for i in row:
                if i in (PAD, EOS):
                    break
                if i == BOS or not 0 <= i < len(names):
                    continue
                parts.append(names[i])
            out.append("".join(parts))
        return out


def lengths(ids: Tensor) -> Tensor:
    """Tokens per row of ``ids`` ``(N, L)``, the end token included: shape ``(N,)``."""
    return (ids.to(torch.int64) != PAD).sum(-1)


def _read_fasta(path: Path) -> list[str]:
    records: list[str] = []
    current: list[str] | None = None
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line.startswith(">"):
                if current is not None:
                    records.append("".join(current))
                current = []
            elif line and current is not None:
                current.append(line)
            elif line:
                raise DataError(f"{path}: expected a '>' header line before the sequence.")
    if current is not None:
        records.append("".join(current))
    return records


def _read_column(path: Path, reader: Iterator[list[str]], column: str | None) -> list[str]:
    header = next(reader, None)
    if not header:
        raise DataError(f"{path}: empty file; expected a header row and strings.")
    name = header[0] if column is None else column
    if name not in header:
        raise DataError(f"{path}: no column {name!r}; the columns are {', '.join(header)}.")
    at = header.index(name)
    strings = []
    for row, record in enumerate(reader):
        if at >= len(record) or not record[at].strip():
            raise DataError(f"{path}: row {row} has no value in column {name!r}.")
        strings.append(record[at].strip())
    return strings


def read_strings(path: str | Path, column: str | None = None) -> list[str]:
    """The strings of a CSV column (header row; ``column`` defaults to the first) or of the
    records of a FASTA file (``.fa``, ``.fasta``, ``.faa``, ``.fna``).

    Raises
    ------
    DataError
        For a missing file or column (the columns found are named), an empty cell, no rows, a
        CSV line the csv module refuses (a field over its limit of characters, a NUL byte), or
        a file over :func:`~latentkit.data.limits.max_data_bytes` (checked before reading).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file; expected a .csv or a FASTA file of sequences.")
    size = path.stat().st_size
    check_data_bytes(path, f"the text of this file of {size:,} bytes", size)
    if path.suffix.lower() in _FASTA:
        strings = _read_fasta(path)
    else:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            try:
                strings = _read_column(path, reader, column)
            except csv.Error as exc:
                raise DataError(
                    f"{path}: cannot read line {reader.line_num} as CSV ({exc}); expected a "
                    f"header row and one string per row, each field at most "
                    f"{csv.field_size_limit():,} characters; fix or drop that line."
                ) from None
    if not strings:
        raise DataError(f"{path}: no sequences found.")
    return strings
