"""Proving who a visitor is when a web page reads their loyalty card with the public track key.

The track (write) key sits in every page of the shop, so a ``userId`` alone proves nothing: a
guessable id ("42") would open anyone's card. The shop's server therefore signs the user id it
puts in the page: ``userHash = hex(HMAC-SHA256(identity secret, userId))``, the scheme chat
widgets call identity verification. The identity secret is derived from ``LEALTA_SECRET_KEY``
(``lealta loyalty identity-secret`` prints it) and never reaches a browser. An ``anonymousId``
needs no signature: the snippet makes it a random id kept in the visitor's own cookie, as hard
to guess as a session. Pure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def identity_secret(secret_key: str) -> str:
    """The secret the shop's server signs user ids with (derived from ``secret_key``)."""
    digest = hmac.new(secret_key.encode(), b"lealta-visitor-identity", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def user_hash(secret: str, user_id: str) -> str:
    """``userHash`` of ``user_id``: hex HMAC-SHA256 under the identity ``secret``."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def hash_matches(secret_key: str, user_id: str, given: str) -> bool:
    """Whether ``given`` is the ``userHash`` of ``user_id`` (compared in constant time)."""
    expected = user_hash(identity_secret(secret_key), user_id)
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())
