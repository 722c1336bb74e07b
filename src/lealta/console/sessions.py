"""Console sessions as signed cookies. Pure: the secret and the time come in as arguments.

A cookie reads ``<payload>.<signature>``: the payload is compact JSON (base64url) with the user's
id (``u``), their session epoch (``e``: bumped by a password reset or a disable, which ends every
older session), the session's CSRF token (``c``) and when it was issued (``t``, Unix seconds).
The signature is HMAC-SHA256 with a key derived from the deployment's secret, so a session can
neither be forged nor altered; nothing is stored server-side.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

LIFETIME_SECONDS = 7 * 24 * 3600
LONGEST_COOKIE = 1024


@dataclass(frozen=True)
class ConsoleSession:
    """What a valid cookie says."""

    user_id: str
    epoch: int
    csrf: str
    issued_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionCodec:
    """Makes and reads session cookies for one deployment's ``secret``."""

    def __init__(self, secret: str, lifetime: int = LIFETIME_SECONDS) -> None:
        if not secret:
            raise ValueError("a secret is needed to sign sessions")
        self._key = hashlib.sha256(b"lealta-console-session|" + secret.encode()).digest()
        self.lifetime = lifetime

    def issue(self, user_id: str, epoch: int, *, now: float) -> tuple[str, ConsoleSession]:
        """A new session (with a fresh CSRF token) and its cookie value."""
        session = ConsoleSession(user_id, epoch, secrets.token_urlsafe(24), int(now))
        claims = {"u": user_id, "e": epoch, "c": session.csrf, "t": session.issued_at}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}", session

    def read(self, cookie: str | None, *, now: float) -> ConsoleSession | None:
        """The session in ``cookie``, or ``None`` when absent, forged, altered or expired."""
        if not cookie or len(cookie) > LONGEST_COOKIE or cookie.count(".") != 1:
            return None
        payload, signature = cookie.split(".")
        if not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return None
        try:
            claims = json.loads(_unb64(payload))
            session = ConsoleSession(
                str(claims["u"]), int(claims["e"]), str(claims["c"]), int(claims["t"])
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        if not 0 <= now - session.issued_at <= self.lifetime:
            return None
        return session

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return _b64(digest)
