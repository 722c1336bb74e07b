"""Web Push message encryption (RFC 8291 over RFC 8188 ``aes128gcm``) and VAPID (RFC 8292). Pure.

A browser's subscription carries its P-256 public key (``p256dh``) and a 16-byte
authentication secret (``auth``). Each message gets a fresh sender key pair and a random salt;
the push service in the middle sees only ciphertext::

    ecdh_secret = ECDH(sender private, browser public)
    IKM   = HKDF(salt=auth, ikm=ecdh_secret, info="WebPush: info" 0x00 ua_public as_public, 32)
    PRK   = HMAC-SHA-256(salt, IKM)
    CEK   = HKDF-Expand(PRK, "Content-Encoding: aes128gcm" 0x00, 16)
    NONCE = HKDF-Expand(PRK, "Content-Encoding: nonce" 0x00, 12)
    body  = salt | record size (uint32) | 65 | as_public | AES-128-GCM(CEK, NONCE, text 0x02)

One record carries the whole message (push services accept at most 4096 bytes of body).

VAPID identifies the sender to the push service with an ES256 JWT whose ``aud`` is the
endpoint's origin, sent as ``Authorization: vapid t=<jwt>, k=<public key>``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from lealta.channels.jws import b64url, b64url_decode, sign_es256
from lealta.errors import InvalidInput

RECORD_SIZE = 4096
HEADER_SIZE = 16 + 4 + 1 + 65
TAG_SIZE = 16
MAX_PLAINTEXT = RECORD_SIZE - HEADER_SIZE - TAG_SIZE - 1
"""The longest payload one record holds within the 4096 bytes push services accept."""
VAPID_LIFETIME = dt.timedelta(hours=12)
"""How long a VAPID token is valid (RFC 8292 allows at most 24 hours)."""


# -- keys ------------------------------------------------------------------------------------


def public_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    """The uncompressed point (65 bytes, ``0x04 | x | y``)."""
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def load_public(raw: bytes, *, field: str = "p256dh") -> ec.EllipticCurvePublicKey:
    """A P-256 public key from its uncompressed point; ``InvalidInput`` if it is not one."""
    if len(raw) != 65 or raw[0] != 4:
        raise InvalidInput("expected an uncompressed P-256 point (65 bytes)", field=field)
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise InvalidInput("the key is not a point on P-256", field=field) from None


def load_private(raw: bytes, *, field: str = "vapid_private_key") -> ec.EllipticCurvePrivateKey:
    """A P-256 private key from its raw 32-byte scalar."""
    if len(raw) != 32:
        raise InvalidInput("expected a raw P-256 private key (32 bytes)", field=field)
    try:
        return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError:
        raise InvalidInput("the private key is out of range", field=field) from None


@dataclass(frozen=True)
class VapidKeys:
    """The application server's key pair, in the settings' format (base64url raw keys)."""

    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> VapidKeys:
        """A fresh key pair."""
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_settings(cls, private_key: str, public_key: str = "") -> VapidKeys:
        """Keys from ``vapid_private_key`` (and ``vapid_public_key``, checked when set)."""
        if not private_key:
            raise InvalidInput(
                "web push needs LEALTA_VAPID_PRIVATE_KEY (create one: lealta push vapid-keys)",
                field="vapid_private_key",
            )
        keys = cls(load_private(_decode(private_key, "vapid_private_key")))
        if public_key and _decode(public_key, "vapid_public_key") != keys.public_raw:
            raise InvalidInput(
                "LEALTA_VAPID_PUBLIC_KEY does not belong to LEALTA_VAPID_PRIVATE_KEY",
                field="vapid_public_key",
            )
        return keys

    @property
    def public_raw(self) -> bytes:
        """The public key as an uncompressed point."""
        return public_bytes(self.private_key.public_key())

    @property
    def public_b64(self) -> str:
        """The public key, base64url: the ``applicationServerKey`` browsers subscribe with."""
        return b64url(self.public_raw)

    @property
    def private_b64(self) -> str:
        """The private scalar, base64url (32 bytes)."""
        return b64url(self.private_key.private_numbers().private_value.to_bytes(32, "big"))


def _decode(text: str, field: str) -> bytes:
    try:
        return b64url_decode(text)
    except ValueError:
        raise InvalidInput("not base64url", field=field) from None


# -- subscriptions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    """A browser's push subscription: where to send and the keys to encrypt for."""

    endpoint: str
    p256dh: bytes
    auth: bytes


def read_subscription(data: object) -> Subscription:
    """Check a ``PushSubscription.toJSON()`` object: ``{endpoint, keys: {p256dh, auth}}``.

    ``InvalidInput`` names the offending field (``subscription.endpoint`` …).
    """
    if not isinstance(data, dict):
        raise InvalidInput("expected {endpoint, keys: {p256dh, auth}}", field="subscription")
    endpoint = data.get("endpoint")
    parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput("expected an http(s) URL", field="subscription.endpoint")
    if len(str(endpoint)) > 2048:
        raise InvalidInput("longer than 2048 characters", field="subscription.endpoint")
    keys = data.get("keys")
    if not isinstance(keys, dict):
        raise InvalidInput("expected {p256dh, auth}", field="subscription.keys")
    p256dh = keys.get("p256dh")
    auth = keys.get("auth")
    if not isinstance(p256dh, str):
        raise InvalidInput("expected a base64url string", field="subscription.keys.p256dh")
    if not isinstance(auth, str):
        raise InvalidInput("expected a base64url string", field="subscription.keys.auth")
    raw_key = _decode(p256dh, "subscription.keys.p256dh")
    load_public(raw_key, field="subscription.keys.p256dh")
    raw_auth = _decode(auth, "subscription.keys.auth")
    if len(raw_auth) != 16:
        raise InvalidInput("expected 16 bytes", field="subscription.keys.auth")
    return Subscription(str(endpoint), raw_key, raw_auth)


# -- encryption (RFC 8291) -------------------------------------------------------------------


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def content_keys(
    ecdh_secret: bytes, auth_secret: bytes, ua_public: bytes, as_public: bytes, salt: bytes
) -> tuple[bytes, bytes]:
    """The content encryption key (16 bytes) and nonce (12 bytes) of one message."""
    key_info = b"WebPush: info\x00" + ua_public + as_public
    ikm = _hmac(_hmac(auth_secret, ecdh_secret), key_info + b"\x01")
    prk = _hmac(salt, ikm)
    cek = _hmac(prk, b"Content-Encoding: aes128gcm\x00\x01")[:16]
    nonce = _hmac(prk, b"Content-Encoding: nonce\x00\x01")[:12]
    return cek, nonce


def encrypt(
    plaintext: bytes,
    ua_public: bytes,
    auth_secret: bytes,
    *,
    sender: ec.EllipticCurvePrivateKey | None = None,
    salt: bytes | None = None,
) -> bytes:
    """The ``aes128gcm`` body carrying ``plaintext`` to the browser with these keys.

    ``sender`` and ``salt`` are drawn fresh when omitted, as they must be for real messages
    (a repeated key and nonce would break AES-GCM); tests pass them to reproduce RFC 8291's
    example. ``InvalidInput`` when the plaintext is longer than :data:`MAX_PLAINTEXT`.
    """
    if len(plaintext) > MAX_PLAINTEXT:
        raise InvalidInput(
            f"the push payload is {len(plaintext)} bytes; at most {MAX_PLAINTEXT} fit",
            field="payload",
        )
    if len(auth_secret) != 16:
        raise InvalidInput("expected 16 bytes", field="subscription.keys.auth")
    browser = load_public(ua_public)
    sender = sender or ec.generate_private_key(ec.SECP256R1())
    salt = salt if salt is not None else os.urandom(16)
    as_public = public_bytes(sender.public_key())
    ecdh_secret = sender.exchange(ec.ECDH(), browser)
    cek, nonce = content_keys(ecdh_secret, auth_secret, ua_public, as_public, salt)
    # 0x02: this is the last (and only) record; no padding beyond it.
    ciphertext = AESGCM(cek).encrypt(nonce, plaintext + b"\x02", None)
    header = salt + struct.pack("!IB", RECORD_SIZE, len(as_public)) + as_public
    return header + ciphertext


# -- VAPID (RFC 8292) ------------------------------------------------------------------------


def origin(endpoint: str) -> str:
    """``scheme://host[:port]`` of a push endpoint: the ``aud`` of its VAPID token."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def vapid_authorization(keys: VapidKeys, endpoint: str, *, subject: str, now: dt.datetime) -> str:
    """The ``Authorization`` header value for a request to ``endpoint``."""
    claims = {
        "aud": origin(endpoint),
        "exp": int((now + VAPID_LIFETIME).timestamp()),
        "sub": subject,
    }
    return f"vapid t={sign_es256(claims, keys.private_key)}, k={keys.public_b64}"
