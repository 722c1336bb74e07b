"""Signed double opt-in confirmation tokens (HMAC-SHA256 with the secret key). Pure.

A token reads ``<contact id>.<issued, epoch seconds>.<signature>``; the signature covers the
form's slug too, so a token confirms one person on one form and nothing else. Nothing is
stored: the signature is the proof.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

from lealta.errors import InvalidInput

MAX_AGE = dt.timedelta(days=30)


def _signature(secret: str, slug: str, contact_id: str, issued: int) -> str:
    text = f"lealta-confirm|{slug}|{contact_id}|{issued}".encode()
    digest = hmac.new(secret.encode(), text, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_confirmation(secret: str, *, slug: str, contact_id: str, issued_at: dt.datetime) -> str:
    """A token confirming ``contact_id``'s pending sign-up on form ``slug``."""
    issued = int(issued_at.timestamp())
    return f"{contact_id}.{issued}.{_signature(secret, slug, contact_id, issued)}"


def read_confirmation(
    secret: str, token: str, *, slug: str, now: dt.datetime, max_age: dt.timedelta = MAX_AGE
) -> str:
    """The contact id a token confirms; ``InvalidInput`` (field ``token``) if forged or stale."""
    contact_id, _, rest = token.partition(".")
    issued_text, _, signature = rest.partition(".")
    if not (contact_id and issued_text.isdigit() and signature):
        raise InvalidInput("the confirmation link is malformed", field="token")
    issued = int(issued_text)
    expected = _signature(secret, slug, contact_id, issued)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise InvalidInput("the confirmation link is not valid", field="token")
    if now.timestamp() - issued > max_age.total_seconds():
        raise InvalidInput("the confirmation link has expired", field="token")
    return contact_id
