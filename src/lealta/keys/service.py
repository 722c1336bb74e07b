"""Creating, checking and revoking API keys.

A key reads ``lk_<key id>_<secret>``. The key id finds the row; the secret is checked against
its SHA-256 in constant time. Secrets are 32 random bytes, so a fast hash is enough (no
password-stretching needed); the plain key is shown once, when created, and never stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.errors import InvalidInput, NotFound
from lealta.keys.tables import ApiKey

SCOPES = ("track", "admin")
PREFIX = "lk"


@dataclass(frozen=True)
class IssuedKey:
    """A new key: the plain text (shown once) and its public id."""

    key: str
    key_id: str
    scope: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, *, scope: str, name: str = "", now: dt.datetime) -> IssuedKey:
    """Create a key of ``scope`` (``track``: write-only tracking; ``admin``: everything)."""
    if scope not in SCOPES:
        raise InvalidInput(f"unknown scope {scope!r}; choose {' or '.join(SCOPES)}", field="scope")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(key_id=key_id, name=name, scope=scope, secret_hash=_digest(secret), created_at=now)
    )
    session.flush()
    return IssuedKey(f"{PREFIX}_{key_id}_{secret}", key_id, scope)


def verify_key(session: Session, key: str) -> ApiKey | None:
    """The live key ``key`` is, or ``None`` (malformed, unknown, wrong secret or revoked)."""
    prefix, _, rest = key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret:
        return None
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return None
    return row if hmac.compare_digest(row.secret_hash, _digest(secret)) else None


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, newest first (without secrets: they are not stored)."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc())))


def revoke_key(session: Session, key_id: str, *, now: dt.datetime) -> None:
    """Revoke a key by its public id; it stops working at once."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key with id {key_id!r}")
    row.revoked_at = now
