"""A local Firebase Cloud Messaging (HTTP v1) and its OAuth token endpoint: real HTTP on 127.0.0.1.

``POST /token`` takes ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` and an
RS256 assertion that must verify (by PyJWT) with the test service account's public key, be
issued by its ``client_email`` for the ``firebase.messaging`` scope with this endpoint as
``aud``, and live at most an hour; it answers ``{access_token, expires_in, token_type}``.

``POST /v1/projects/{project}/messages:send`` needs ``Authorization: Bearer`` with a token it
issued and a well-formed message (a ``token``, a notification with a title or body, ``data``
of strings only, Android and APNs options). Tokens marked ``unregistered`` answer 404
``UNREGISTERED``, ``malformed`` ones 400 ``INVALID_ARGUMENT`` naming ``message.token``,
like the real service; tests script other failures.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PROJECT = "lealta-test"
CLIENT_EMAIL = "lealta@lealta-test.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def error(status: int, state: str, message: str, *details: dict[str, Any]) -> dict[str, Any]:
    """An FCM error body."""
    return {"error": {"code": status, "message": message, "status": state, "details": details}}


def fcm_error(code: str) -> dict[str, Any]:
    return {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}


@dataclass
class FakeFcm:
    """What the fake service saw, and how it answers."""

    url: str = ""
    expires_in: int = 3600
    issued: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    sent: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unregistered: set[str] = field(default_factory=set)
    malformed: set[str] = field(default_factory=set)
    scripted: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def service_account(self, directory: Path) -> Path:
        """A service account key file whose key this service trusts."""
        pem = _KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        path = directory / "service-account.json"
        path.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": PROJECT,
                    "private_key_id": "key-1",
                    "private_key": pem,
                    "client_email": CLIENT_EMAIL,
                    "token_uri": self.token_url,
                }
            )
        )
        return path

    def fail_next(self, status: int, body: dict[str, Any], **headers: str) -> None:
        """Answer the next send with ``status`` and ``body``."""
        self.scripted.append((status, body, headers))

    def handle(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Status, JSON body and headers for one request."""
        if path == "/token":
            return self._token(headers, raw)
        if path == f"/v1/projects/{PROJECT}/messages:send":
            return self._send(headers, raw)
        return 404, error(404, "NOT_FOUND", f"no such path {path}"), {}

    def _token(
        self, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if headers.get("content-type") != "application/x-www-form-urlencoded":
            return self._refuse("token request is not form-encoded")
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self._refuse(f"grant_type {form.get('grant_type')!r}")
        try:
            assertion = form["assertion"]
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                _KEY.public_key(),
                algorithms=["RS256"],
                audience=self.token_url,
                issuer=CLIENT_EMAIL,
                leeway=300,  # clock skew tolerated, as by Google (tests move their clock ahead)
                options={"require": ["iss", "aud", "exp", "iat", "scope"]},
            )
        except (KeyError, jwt.PyJWTError) as exc:
            return self._refuse(f"bad assertion: {exc}")
        if header.get("kid") != "key-1" or SCOPE not in str(claims["scope"]).split():
            return self._refuse(f"kid or scope wrong: {header} {claims}")
        if claims["exp"] - claims["iat"] > 3600:
            return self._refuse("assertion lives longer than an hour")
        token = f"ya29.{uuid.uuid4().hex}"
        with self.lock:
            self.issued.append(token)
        return (
            200,
            {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"},
            {},
        )

    def _refuse(self, why: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self.lock:
            self.problems.append(why)
        return 400, {"error": "invalid_grant", "error_description": why}, {}

    def _send(
        self, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        bearer = headers.get("authorization", "").removeprefix("Bearer ")
        if bearer not in self.issued or bearer in self.revoked:
            return 401, error(401, "UNAUTHENTICATED", "Request had invalid credentials."), {}
        if self.scripted:
            return self.scripted.pop(0)
        message = json.loads(raw).get("message", {})
        problem = _shape(message)
        if problem:
            with self.lock:
                self.problems.append(problem)
            return 400, error(400, "INVALID_ARGUMENT", problem), {}
        token = message["token"]
        if token in self.unregistered:
            return (
                404,
                error(
                    404, "NOT_FOUND", "Requested entity was not found.", fcm_error("UNREGISTERED")
                ),
                {},
            )
        if token in self.malformed:
            violation = {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [
                    {"field": "message.token", "description": "Invalid registration token"}
                ],
            }
            return (
                400,
                error(
                    400,
                    "INVALID_ARGUMENT",
                    "The registration token is not a valid FCM registration token",
                    fcm_error("INVALID_ARGUMENT"),
                    violation,
                ),
                {},
            )
        with self.lock:
            self.sent.append(message)
        return 200, {"name": f"projects/{PROJECT}/messages/0:{uuid.uuid4().hex[:16]}"}, {}


def _shape(message: dict[str, Any]) -> str | None:
    """What is wrong with a message, if anything."""
    if not isinstance(message.get("token"), str) or not message["token"]:
        return "message.token missing"
    notification = message.get("notification", {})
    if not (notification.get("title") or notification.get("body")):
        return "message.notification has neither title nor body"
    data = message.get("data", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return "message.data must map strings to strings"
    android = message.get("android", {})
    if android.get("priority") not in ("NORMAL", "HIGH") or not str(
        android.get("ttl", "")
    ).endswith("s"):
        return f"message.android is malformed: {android}"
    apns = message.get("apns", {}).get("headers", {})
    if apns.get("apns-priority") not in ("5", "10"):
        return f"message.apns.headers is malformed: {apns}"
    return None


class _Handler(BaseHTTPRequestHandler):
    fake: FakeFcm

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, body, extra = self.fake.handle(self.path, headers, raw)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: Any) -> None:
        pass


@contextmanager
def running_fcm() -> Iterator[FakeFcm]:
    """The fake FCM listening on 127.0.0.1 for the duration of the block."""
    fake = FakeFcm()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"fake": fake}))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
