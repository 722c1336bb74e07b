"""API-key authentication: Basic with the write key as user name (the Segment way) for tracking,
``Authorization: Bearer KEY`` for everything else; per-key rate limits."""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from lealta.bootstrap import Services
from lealta.keys.service import verify_key
from lealta.rest.errors import ApiError
from lealta.rest.ratelimit import RateLimiter


@dataclass(frozen=True)
class Caller:
    """The key a request was made with."""

    key_id: str
    scope: str


class KeyCache:
    """Keys verified in the last ``ttl`` seconds, so a busy tracking endpoint does not read the
    key table on every request. A revoked key stops working within ``ttl`` seconds."""

    def __init__(self, ttl: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, Caller]] = {}

    def get(self, key: str) -> Caller | None:
        """The caller ``key`` was verified as, if that was recent enough."""
        entry = self._entries.get(_digest(key))
        if entry is None or self._clock() - entry[0] > self.ttl:
            return None
        return entry[1]

    def put(self, key: str, caller: Caller) -> None:
        """Remember a successful verification."""
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[_digest(key)] = (self._clock(), caller)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def services(request: Request) -> Services:
    """The services the app was built with."""
    found: Services = request.app.state.services
    return found


def key_from_headers(request: Request, *, basic: bool = True) -> str | None:
    """The API key in ``Authorization`` (Bearer token, or Basic user name if ``basic``)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "basic" and not basic:
        raise ApiError(
            401,
            "unauthorized",
            "this endpoint takes an admin key as Authorization: Bearer KEY",
            headers={"WWW-Authenticate": 'Bearer realm="lealta"'},
        )
    if scheme == "bearer":
        return value.strip() or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(401, "unauthorized", "malformed Basic credentials") from None
        user, _, _password = decoded.partition(":")
        return user or None
    return None


def authenticate(request: Request, key: str | None, *, scopes: tuple[str, ...]) -> Caller:
    """Check ``key`` and its scope, and charge the request to its rate limit.

    401 without a valid key, 403 when the key's scope is not allowed here, 429 over the limit.
    """
    caller = verify(request, key, scopes=scopes)
    settings = services(request).settings
    rate = settings.track_rate_limit if caller.scope == "track" else settings.admin_rate_limit
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.allow(caller.key_id, rate)
    if wait:
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests for this key; retry in {wait:.2f} s",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    return caller


def verify(request: Request, key: str | None, *, scopes: tuple[str, ...]) -> Caller:
    """The caller ``key`` belongs to, if its scope is one of ``scopes`` (no rate charged).

    401 without a valid key, 403 when the key's scope is not allowed here.
    """
    if not key:
        raise ApiError(
            401,
            "unauthorized",
            "an API key is required: Authorization: Bearer KEY "
            "(tracking: Basic auth with the write key as user name)",
            headers={"WWW-Authenticate": 'Bearer, Basic realm="lealta"'},
        )
    cache: KeyCache = request.app.state.key_cache
    caller = cache.get(key)
    if caller is None:
        with services(request).uow.transaction() as session:
            row = verify_key(session, key)
            caller = Caller(row.key_id, row.scope) if row else None
        if caller is not None:
            cache.put(key, caller)
    if caller is None:
        raise ApiError(401, "unauthorized", "unknown or revoked API key")
    if caller.scope not in scopes:
        raise ApiError(
            403, "forbidden", f"a {caller.scope} key cannot do this; it needs {' or '.join(scopes)}"
        )
    return caller


def require_admin(request: Request) -> Caller:
    """Dependency: an admin key in ``Authorization: Bearer``."""
    return authenticate(request, key_from_headers(request, basic=False), scopes=("admin",))
