"""Who may talk to the console: the loopback address, with the session's token.

The console can pause a session and speak into it, so a web page from anywhere else must
not reach it. Three checks, all needed:

- the token: a fresh random one per session; the page takes it from ``?token=`` on the
  first load, every API request carries it as ``Authorization: Bearer TOKEN``;
- Host: only the loopback names with our port, so a DNS-rebound name of another site
  (``evil.example`` resolving to 127.0.0.1) is refused;
- Origin, when a browser sends one: only our own loopback origin.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping

LOOPBACK = "127.0.0.1"
_LOOPBACK_NAMES = ("127.0.0.1", "localhost")


def new_token() -> str:
    """A fresh, unguessable token for one session (192 random bits)."""
    return secrets.token_urlsafe(24)


def same_token(given: str | None, token: str) -> bool:
    """True when ``given`` is the token (compared in constant time)."""
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def host_allowed(host: str | None, port: int) -> bool:
    """The Host header names the loopback address and our port."""
    return host is not None and host.lower() in {f"{name}:{port}" for name in _LOOPBACK_NAMES}


def origin_allowed(origin: str | None, port: int) -> bool:
    """No Origin (not a cross-site browser request), or our own loopback origin."""
    if origin is None:
        return True
    return origin.lower() in {f"http://{name}:{port}" for name in _LOOPBACK_NAMES}


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, if there is one."""
    value = headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def refusal(*, host: str | None, origin: str | None, path: str, query_token: str | None,
            headers: Mapping[str, str], token: str, port: int) -> str | None:
    """Why a request is refused (None: it may pass). Every path needs the token."""
    if not host_allowed(host, port):
        return "host is not the loopback address"
    if not origin_allowed(origin, port):
        return "origin is not this console"
    given = query_token if path == "/" else bearer(headers)
    if not same_token(given, token):
        return "missing or wrong token"
    return None
