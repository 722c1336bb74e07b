"""A local stand-in for Twilio's Messages API: real HTTP on 127.0.0.1, checking the protocol.

It accepts ``POST /2010-04-01/Accounts/{sid}/Messages.json`` with HTTP Basic auth, a
form-encoded ``To``, ``From`` and ``Body``, answers like Twilio (201 and the message resource,
or 4xx with ``{"code", "message", "more_info", "status"}``), remembers each
``I-Twilio-Idempotency-Token`` and answers a repeat with the first message without sending it
again. Tests script failures (``fail_next``) and slowness (``delay``).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "fake-auth-token"
E164 = re.compile(r"^\+[1-9]\d{7,14}$")


@dataclass
class Received:
    """One message Twilio accepted."""

    sid: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeTwilio:
    """What the fake server saw and how it should answer."""

    url: str = ""
    messages: list[Received] = field(default_factory=list)
    requests: int = 0
    unsubscribed: set[str] = field(default_factory=set)
    delay: float = 0.0
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    by_token: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, status: int, code: int, message: str = "scripted failure") -> None:
        """Answer the next request with ``status`` and Twilio error ``code``."""
        body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        self.failures.append((status, body))

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        """The status and JSON body for one request (the protocol checks live here)."""
        with self.lock:
            self.requests += 1
            if self.failures:
                return self.failures.pop(0)
        if path != f"/2010-04-01/Accounts/{SID}/Messages.json":
            return _error(404, 20404, f"The requested resource {path} was not found")
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        if headers.get("authorization") != expected:
            return _error(401, 20003, "Authenticate")
        if headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
            return _error(400, 20001, "form-encoded parameters expected")
        form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        problem = _check(form, self.unsubscribed)
        if problem:
            return problem
        token = headers.get("i-twilio-idempotency-token")
        with self.lock:
            if token and token in self.by_token:
                return 201, self.by_token[token]
            resource = _resource(form)
            self.messages.append(Received(resource["sid"], form, headers))
            if token:
                self.by_token[token] = resource
        return 201, resource


def _check(form: dict[str, str], unsubscribed: set[str]) -> tuple[int, dict[str, Any]] | None:
    if not form.get("To"):
        return _error(400, 21604, "A 'To' phone number is required.")
    if not form.get("From"):
        return _error(400, 21603, "A 'From' phone number is required.")
    if not form.get("Body"):
        return _error(400, 21602, "Message body is required.")
    if not E164.match(form["To"]):
        return _error(400, 21211, f"The 'To' number {form['To']} is not a valid phone number.")
    if form["To"] in unsubscribed:
        return _error(400, 21610, "Attempt to send to unsubscribed recipient")
    return None


def _error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _resource(form: dict[str, str]) -> dict[str, Any]:
    sid = "SM" + uuid.uuid4().hex
    now = formatdate(usegmt=True)
    return {
        "account_sid": SID,
        "api_version": "2010-04-01",
        "body": form["Body"],
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form["From"],
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "to": form["To"],
        "uri": f"/2010-04-01/Accounts/{SID}/Messages/{sid}.json",
    }


def _handler(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body = fake.answer(self.path, headers, raw)
            if fake.delay:
                time.sleep(fake.delay)
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (timeout tests)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running() -> Iterator[FakeTwilio]:
    """A fake Twilio listening on a free port of 127.0.0.1 for the duration of the block."""
    fake = FakeTwilio()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
