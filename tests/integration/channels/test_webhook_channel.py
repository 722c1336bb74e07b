"""The webhook channel against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from lealta.automations import commands, engine
from lealta.channels.base import Delivery
from lealta.channels.webhook import WebhookChannel, verify_signature
from lealta.clock import FrozenClock
from lealta.errors import PermanentChannelError, TransientChannelError

SECRET = "whsec_test"
NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver that records calls and answers as scripted."""

    url: str = ""
    calls: list[Call] = field(default_factory=list)
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0

    def answer(self) -> tuple[int, dict[str, str]]:
        return self.answers.pop(0) if self.answers else (200, {})


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            receiver.calls.append(Call(self.command, self.path, headers, body))
            status, extra = receiver.answer()
            if receiver.delay:
                time.sleep(receiver.delay)
            try:
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_POST = do_PUT = _any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    server.daemon_threads = True
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def hooks() -> Iterator[WebhookChannel]:
    channel = WebhookChannel(SECRET, allow_private=True, clock=FrozenClock(NOW), timeout=2.0)
    yield channel
    channel.close()


def delivery(url: str, key: str = "wf:vip:c1:s3", **parts: Any) -> Delivery:
    return Delivery(
        outbox_id=7,
        idempotency_key=key,
        contact_id="c1",
        channel="webhook",
        template=parts.pop("template", "crm-sync"),
        content=parts.pop("content", {"url": url, "body": {"contact": "c1", "tier": "gold"}}),
        **parts,
    )


def test_the_receiver_gets_signed_json_with_idempotency_key_and_timestamp(
    receiver: Receiver, hooks: WebhookChannel
) -> None:
    provider_id = hooks.send(delivery(f"{receiver.url}/hooks/lealta"))

    (call,) = receiver.calls
    assert (call.method, call.path) == ("POST", "/hooks/lealta")
    assert json.loads(call.body) == {"contact": "c1", "tier": "gold"}
    assert call.headers["content-type"] == "application/json"
    assert call.headers["user-agent"].startswith("Lealta/")
    assert call.headers["idempotency-key"] == "wf:vip:c1:s3"
    timestamp = call.headers["x-lealta-timestamp"]
    assert timestamp == str(int(NOW.timestamp()))
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + call.body, hashlib.sha256)
    assert call.headers["x-lealta-signature"] == f"v1={expected.hexdigest()}"
    assert verify_signature(SECRET, timestamp, call.body, call.headers["x-lealta-signature"], NOW)
    assert provider_id == "wf:vip:c1:s3"


def test_the_receivers_request_id_becomes_the_provider_id(
    receiver: Receiver, hooks: WebhookChannel
) -> None:
    receiver.answers.append((202, {"X-Request-Id": "req-42"}))

    assert hooks.send(delivery(f"{receiver.url}/h")) == "req-42"


def test_a_retry_carries_the_same_idempotency_key_and_a_fresh_signature(
    receiver: Receiver,
) -> None:
    clock = FrozenClock(NOW)
    channel = WebhookChannel(SECRET, allow_private=True, clock=clock)
    receiver.answers.append((503, {}))
    try:
        with pytest.raises(TransientChannelError, match="503"):
            channel.send(delivery(f"{receiver.url}/h"))
        clock.advance(minutes=2)
        channel.send(delivery(f"{receiver.url}/h"))
    finally:
        channel.close()

    first, second = receiver.calls
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert (
        int(second.headers["x-lealta-timestamp"]) == int(first.headers["x-lealta-timestamp"]) + 120
    )
    later = NOW + dt.timedelta(minutes=2)
    assert verify_signature(
        SECRET,
        second.headers["x-lealta-timestamp"],
        second.body,
        second.headers["x-lealta-signature"],
        later,
    )


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_timeouts_rate_limits_and_server_errors_are_transient(
    receiver: Receiver, hooks: WebhookChannel, status: int
) -> None:
    receiver.answers.append((status, {}))

    with pytest.raises(TransientChannelError, match=str(status)):
        hooks.send(delivery(f"{receiver.url}/h"))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422, 301, 302])
def test_other_answers_are_permanent(
    receiver: Receiver, hooks: WebhookChannel, status: int
) -> None:
    receiver.answers.append((status, {"Location": "http://169.254.169.254/"}))

    with pytest.raises(PermanentChannelError, match=str(status)):
        hooks.send(delivery(f"{receiver.url}/h"))
    assert len(receiver.calls) == 1  # a redirect is not followed


def test_a_slow_receiver_is_a_transient_timeout(receiver: Receiver) -> None:
    receiver.delay = 1.0
    channel = WebhookChannel(SECRET, allow_private=True, timeout=0.2)
    try:
        with pytest.raises(TransientChannelError, match="timed out"):
            channel.send(delivery(f"{receiver.url}/h"))
    finally:
        channel.close()


def test_a_closed_port_is_transient(hooks: WebhookChannel) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()

    with pytest.raises(TransientChannelError, match="unreachable"):
        hooks.send(delivery(f"http://127.0.0.1:{port}/h"))


def test_private_addresses_are_refused_by_default(receiver: Receiver) -> None:
    channel = WebhookChannel(SECRET)
    try:
        with pytest.raises(PermanentChannelError, match="non-public"):
            channel.send(delivery(f"{receiver.url}/h"))
        with pytest.raises(PermanentChannelError, match="non-public"):
            channel.send(delivery(receiver.url.replace("127.0.0.1", "localhost") + "/h"))
    finally:
        channel.close()
    assert receiver.calls == []


@dataclass
class _Run:
    id: str = "run-1"
    workflow_id: str = "vip"
    contact_id: str = "c1"
    state: dict[str, Any] = field(default_factory=dict)
    trigger: dict[str, Any] | None = None


def test_the_outbox_row_a_workflow_webhook_step_writes_is_delivered_as_the_step_says(
    receiver: Receiver, hooks: WebhookChannel
) -> None:
    call = engine.CallWebhook(
        key="run-1:notify",
        step_id="notify",
        url=f"{receiver.url}/crm",
        method="PUT",
        body={"segment": "vip"},
    )
    rows: list[dict[str, Any]] = []
    with Session(create_engine("sqlite://")) as session:  # a webhook call touches no table
        commands.apply(session, rows, _Run(), [call], NOW)
    (row,) = rows

    hooks.send(
        Delivery(
            outbox_id=1,
            idempotency_key=row["idempotency_key"],
            contact_id=row["contact_id"],
            channel=row["channel"],
            template=row["template"],
            payload=row["payload"],
        )
    )

    (received,) = receiver.calls
    assert (received.method, received.path) == ("PUT", "/crm")
    assert json.loads(received.body) == {"segment": "vip"}
    assert received.headers["idempotency-key"] == "run-1:notify"


def test_the_channel_does_not_require_consent() -> None:
    assert WebhookChannel.requires_consent is False
    assert WebhookChannel.name == "webhook"
    with pytest.raises(ValueError, match="secret"):
        WebhookChannel("")
