"""Compact JSON Web Signatures (RFC 7515) for the two tokens push needs. Pure.

* **ES256** (ECDSA P-256, SHA-256): VAPID tokens for Web Push (RFC 8292). JOSE wants the raw
  ``r || s`` signature (64 bytes), not the DER that ``cryptography`` produces.
* **RS256** (RSASSA-PKCS1-v1_5, SHA-256): the assertion a Google service account trades for
  an OAuth access token (FCM HTTP v1).

Written here rather than taken from a JWT library: two signing functions are all Lealta needs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Bytes from base64url, with or without padding (standard base64 ``+/`` also read).

    Raises ``ValueError`` on anything else.
    """
    cleaned = text.strip().replace("+", "-").replace("/", "_").rstrip("=")
    if any(c not in _ALPHABET for c in cleaned) or len(cleaned) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _signing_input(header: Mapping[str, Any], claims: Mapping[str, Any]) -> bytes:
    def part(value: Mapping[str, Any]) -> str:
        return b64url(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())

    return f"{part(header)}.{part(claims)}".encode("ascii")


def sign_es256(claims: Mapping[str, Any], key: ec.EllipticCurvePrivateKey) -> str:
    """A compact JWT signed with ES256 (``key`` must be on P-256)."""
    signing_input = _signing_input({"typ": "JWT", "alg": "ES256"}, claims)
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing_input.decode('ascii')}.{b64url(signature)}"


def sign_rs256(
    claims: Mapping[str, Any], key: rsa.RSAPrivateKey, *, key_id: str | None = None
) -> str:
    """A compact JWT signed with RS256; ``key_id`` becomes the ``kid`` header when given."""
    header: dict[str, Any] = {"typ": "JWT", "alg": "RS256"}
    if key_id:
        header["kid"] = key_id
    signing_input = _signing_input(header, claims)
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input.decode('ascii')}.{b64url(signature)}"
