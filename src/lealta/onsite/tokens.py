"""Signed tokens of on-site impressions and clicks (HMAC-SHA256 with the secret key). Pure.

A slot answer carries an impression URL, and the links of a placement's HTML go through a
click URL; each holds a token ``<payload>.<signature>``: base64url compact JSON of what was
shown to whom, signed over the kind and the payload. Nothing is stored: the signature proves
Lealta chose that content for that visitor, so nobody can record impressions of content they
were not shown, or bend a click link to another address (no open redirect).

Claims (short keys): ``s`` slot, ``p`` placement id or ``m`` outbox id, ``t`` template,
``a`` anonymous id, ``i`` user id, ``n`` a random nonce naming this one showing, and for
clicks ``u`` the target URL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from lealta.errors import InvalidInput

KINDS = ("impression", "click")
LONGEST = 8192
_SIGNATURE_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class OnsiteTokens:
    """Signs and reads on-site tokens with a key derived from ``secret``."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a secret is needed to sign on-site tokens")
        self._key = hashlib.sha256(b"lealta-onsite|" + secret.encode()).digest()

    def sign(self, kind: str, claims: Mapping[str, Any]) -> str:
        """A token of ``kind`` carrying ``claims`` (``None`` values left out)."""
        _check_kind(kind)
        kept = {k: v for k, v in claims.items() if v is not None}
        payload = _b64(json.dumps(kept, separators=(",", ":"), sort_keys=True).encode())
        return f"{payload}.{self._signature(kind, payload)}"

    def read(self, token: str, kind: str) -> dict[str, Any]:
        """The claims of a valid ``kind`` token; ``InvalidInput`` (field ``token``) otherwise."""
        _check_kind(kind)
        payload, dot, signature = token.partition(".")
        if not (payload and dot and signature) or len(token) > LONGEST:
            raise InvalidInput("the token is malformed", field="token")
        if not hmac.compare_digest(self._signature(kind, payload).encode(), signature.encode()):
            raise InvalidInput("the token is not valid", field="token")
        try:
            claims = json.loads(_unb64(payload))
        except (binascii.Error, ValueError):
            raise InvalidInput("the token is malformed", field="token") from None
        if not isinstance(claims, dict):
            raise InvalidInput("the token is malformed", field="token")
        return claims

    def _signature(self, kind: str, payload: str) -> str:
        mac = hmac.new(self._key, f"{kind}|{payload}".encode(), hashlib.sha256).digest()
        return _b64(mac[:_SIGNATURE_BYTES])


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown on-site token kind {kind!r}")
