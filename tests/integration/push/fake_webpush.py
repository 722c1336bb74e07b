"""A local Web Push service and the browsers subscribed to it: real HTTP on 127.0.0.1.

The service takes ``POST /push/{id}`` the way a browser vendor's push service does and checks
the protocol: ``Authorization: vapid t=…, k=…`` whose ES256 JWT must verify with ``k`` (by
PyJWT, not Lealta's code), name this service's origin as ``aud``, expire within 24 hours and
carry a ``sub``; ``k`` must be the key the browser subscribed with; ``Content-Encoding:
aes128gcm`` and valid ``TTL``, ``Urgency`` and ``Topic``. It then plays the browser: it
decrypts the body with the subscriber's private key and auth secret (its own RFC 8188/8291
code, built on ``cryptography``'s HKDF) and keeps the JSON payload. Tests script answers per
subscription (410 gone, 429, 500 …).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import struct
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from lealta.channels.jws import b64url, b64url_decode

TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def decrypt(body: bytes, private_key: ec.EllipticCurvePrivateKey, auth_secret: bytes) -> bytes:
    """What a browser does with an ``aes128gcm`` push body (RFC 8188 §2, RFC 8291 §3.4)."""
    salt, record_size, id_length = body[:16], *struct.unpack("!IB", body[16:21])
    sender_raw = body[21 : 21 + id_length]
    records = body[21 + id_length :]
    assert id_length == 65, "the key id must be the sender's uncompressed public key"
    assert len(records) <= record_size, "one record expected"
    sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_raw)
    own_raw = private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    shared = private_key.exchange(ec.ECDH(), sender)
    ikm = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=auth_secret,
        info=b"WebPush: info\x00" + own_raw + sender_raw,
    ).derive(shared)
    cek = HKDF(hashes.SHA256(), 16, salt, b"Content-Encoding: aes128gcm\x00").derive(ikm)
    nonce = HKDF(hashes.SHA256(), 12, salt, b"Content-Encoding: nonce\x00").derive(ikm)
    padded = AESGCM(cek).decrypt(nonce, records, None)
    unpadded = padded.rstrip(b"\x00")
    assert unpadded.endswith(b"\x02"), "the only record must end with the last-record delimiter"
    return unpadded[:-1]


@dataclass
class Browser:
    """A browser's side of a subscription: its key pair and authentication secret."""

    application_server_key: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))
    endpoint: str = ""

    @property
    def p256dh(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        return b64url(raw)

    def subscription(self) -> dict[str, Any]:
        """``PushSubscription.toJSON()``."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)},
        }


@dataclass
class Pushed:
    """One message the service accepted, decrypted."""

    subscription: str
    payload: dict[str, Any]
    headers: dict[str, str]
    claims: dict[str, Any]
    message_id: str


@dataclass
class PushService:
    """What the service saw, and how it answers."""

    origin: str = ""
    browsers: dict[str, Browser] = field(default_factory=dict)
    received: list[Pushed] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    scripted: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, application_server_key: str) -> Browser:
        """A new browser subscribed here with the sender's public key."""
        browser = Browser(application_server_key)
        name = uuid.uuid4().hex
        browser.endpoint = f"{self.origin}/push/{name}"
        self.browsers[name] = browser
        return browser

    def answer_next(self, browser: Browser, status: int, **headers: str) -> None:
        """Answer the next push to ``browser`` with ``status``."""
        name = browser.endpoint.rsplit("/", 1)[-1]
        self.scripted.setdefault(name, []).append((status, headers))

    def to(self, browser: Browser) -> list[dict[str, Any]]:
        """The payloads ``browser`` received."""
        name = browser.endpoint.rsplit("/", 1)[-1]
        return [p.payload for p in self.received if p.subscription == name]

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        """The status and extra headers for one request (the protocol checks live here)."""
        with self.lock:
            self.requests += 1
        match = re.fullmatch(r"/push/([0-9a-f]{32})", path)
        browser = self.browsers.get(match.group(1)) if match else None
        if match is None or browser is None:
            return 404, {}
        name = match.group(1)
        scripted = self.scripted.get(name)
        if scripted:
            return scripted.pop(0)
        try:
            claims = self._check(headers, browser)
            payload = json.loads(decrypt(body, browser.private_key, browser.auth))
        except (AssertionError, ValueError, jwt.PyJWTError) as exc:
            with self.lock:
                self.problems.append(f"{type(exc).__name__}: {exc}")
            return 400, {}
        message_id = uuid.uuid4().hex
        with self.lock:
            self.received.append(Pushed(name, payload, headers, claims, message_id))
        return 201, {"Location": f"{self.origin}/messages/{message_id}"}

    def _check(self, headers: dict[str, str], browser: Browser) -> dict[str, Any]:
        assert headers.get("content-encoding") == "aes128gcm", "Content-Encoding"
        assert headers.get("ttl", "").isdigit(), "TTL"
        assert headers.get("urgency", "normal") in ("very-low", "low", "normal", "high")
        assert TOPIC.fullmatch(headers.get("topic", "x")), "Topic"
        found = re.fullmatch(r"vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)", headers["authorization"])
        assert found, "Authorization: vapid t=…, k=…"
        token, key = found.groups()
        assert key == browser.application_server_key, "k is not the key the browser subscribed with"
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
        assert jwt.get_unverified_header(token)["alg"] == "ES256"
        claims: dict[str, Any] = jwt.decode(
            token,
            public,
            algorithms=["ES256"],
            audience=self.origin,
            options={"require": ["aud", "exp", "sub"]},
        )
        lifetime = claims["exp"] - dt.datetime.now(dt.UTC).timestamp()
        assert lifetime <= 24 * 3600, "a VAPID token may live 24 hours at most"
        assert str(claims["sub"]).startswith(("mailto:", "https:")), "sub"
        return claims


class _Handler(BaseHTTPRequestHandler):
    service: PushService

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra = self.service.handle(self.path, headers, body)
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@contextmanager
def running_push_service() -> Iterator[PushService]:
    """A push service listening on 127.0.0.1 for the duration of the block."""
    service = PushService()
    handler = type("Handler", (_Handler,), {"service": service})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    service.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
