"""Which ``Host`` and ``Origin`` headers the explorer answers (DNS rebinding, cross-site posts).

A page on another site can make a browser send requests to 127.0.0.1: with a form post
(cross-site request forgery) or, after pointing its own domain name at 127.0.0.1, with any
request it likes (DNS rebinding). The browser still names the other site, in ``Origin`` and
in ``Host``, so the explorer checks both against the address it serves. Choices written down:

- The allowed authorities (host and port) are the ones given to ``create_app(...,
  allowed_hosts=...)`` (``latentkit serve`` passes its bound ``--host`` and ``--port``), or,
  when none are given, the local address each connection arrived at (the ASGI scope's
  ``server``: the bound address for uvicorn, ``testserver:80`` for Starlette's TestClient).
- A loopback authority (``127.0.0.1``, ``localhost``, ``::1``) also admits the other two
  spellings of loopback on the same port. Nothing else is admitted: no other port, no other
  name for the machine, no trailing dot.
- ``Host`` must be present and be one of them. ``Origin`` may be absent (a page's own
  navigation, ``curl``); when present it must be ``http://`` plus one of them. ``null`` is
  refused.
- Parsing is strict (ASCII letters, digits, dots and hyphens, or a bracketed IPv6 address;
  a port of 1-65535 without leading zeros): anything else is not an allowed authority.

This module imports nothing heavy, so the command line checks ``--host`` with it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

__all__ = [
    "Authority",
    "allowed_authorities",
    "format_authority",
    "parse_authority",
    "parse_origin",
    "scope_authorities",
]

Authority = tuple[str, int]  # (lower-case host without brackets, port)

_AUTHORITY = re.compile(r"(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.\-]{1,253})(?::([1-9][0-9]{0,4}))?")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARDS = ("", "0.0.0.0", "::")  # bound to every interface: no single name to check against


def parse_authority(value: str) -> Authority | None:
    """``"host"``, ``"host:port"``, ``"[v6]:port"`` as ``(host, port)``; None when malformed."""
    match = _AUTHORITY.fullmatch(value)
    if match is None:
        return None
    host, port = match.group(1).lower(), int(match.group(2) or 80)
    if host.startswith("["):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
    if port > 65535 or host.startswith(("-", ".")) or host.endswith(("-", ".")):
        return None
    return host, port


def parse_origin(value: str) -> Authority | None:
    """The authority of an ``http://host[:port]`` origin; None for anything else."""
    return parse_authority(value[len("http://") :]) if value.startswith("http://") else None


def format_authority(authority: Authority) -> str:
    host, port = authority
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _with_loopback(host: str, port: int) -> set[Authority]:
    names = {host}
    if host in _LOOPBACK:
        names.update(_LOOPBACK)
    return {(name, port) for name in names}


def allowed_authorities(entries: Iterable[str]) -> frozenset[Authority]:
    """The authorities admitted for ``entries`` like ``["127.0.0.1:8000"]``.

    Raises
    ------
    ValueError
        For an entry that is not ``host[:port]`` (a missing port means 80).
    """
    allowed: set[Authority] = set()
    for entry in entries:
        parsed = parse_authority(entry) if isinstance(entry, str) else None
        if parsed is None:
            raise ValueError(
                f"allowed_hosts: {entry!r} is not a host name or address with an optional "
                "port, like '127.0.0.1:8000' or '[::1]:8000'."
            )
        allowed |= _with_loopback(*parsed)
    if not allowed:
        raise ValueError("allowed_hosts is empty; give at least one 'host:port' (or None).")
    return frozenset(allowed)


def scope_authorities(server: tuple[str, int] | list | None) -> frozenset[Authority]:
    """The authorities for the local address of one connection (an ASGI scope's ``server``)."""
    if not server or server[1] is None:
        return frozenset()
    host = str(server[0]).lower()
    host = host[1:-1] if host.startswith("[") else host
    return frozenset(_with_loopback(host, int(server[1])))
