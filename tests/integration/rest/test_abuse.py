"""Hostile inputs are refused cleanly (a 4xx naming the field), never a 500, a stall or
unbounded memory: huge and endless bodies, gzip bombs, odd dates, deep nesting, YAML bombs,
costly template arithmetic, messages that name nobody."""

from __future__ import annotations

import asyncio
import base64
import gzip
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from tests.integration.conftest import Api

CHUNK = 64 * 1024


@dataclass
class Streamed:
    """The answer to a body streamed chunk by chunk, and how much of it the app read."""

    status: int = 0
    body: dict[str, Any] = field(default_factory=dict)
    bytes_read: int = 0


def _stream(api: Api, path: str, headers: dict[str, str], chunks: Iterator[bytes]) -> Streamed:
    """Send ``chunks`` to the app as a chunked upload (no Content-Length), at the ASGI level."""
    outcome = Streamed()
    sent: list[bytes] = []

    async def receive() -> dict[str, Any]:
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        outcome.bytes_read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            outcome.status = message["status"]
        elif message["type"] == "http.response.body":
            sent.append(message.get("body", b""))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    # In a thread of its own: a session-wide Playwright browser in this worker keeps an event
    # loop running in the main thread, where asyncio.run would refuse to start.
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(api.client.app(scope, receive, send))  # type: ignore[arg-type]
        except BaseException as exc:  # re-raised below, in the test's thread
            failures.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    runner.join()
    if failures:
        raise failures[0]
    outcome.body = orjson.loads(b"".join(sent))
    return outcome


def _endless(text: bytes = b" " * CHUNK) -> Iterator[bytes]:
    while True:
        yield text


def _basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def test_an_endless_chunked_batch_is_refused_once_past_its_limit(api: Api) -> None:
    answer = _stream(
        api,
        "/v1/batch",
        {"Authorization": _basic(api.track_key), "Content-Type": "application/json"},
        _endless(),
    )
    assert answer.status == 413
    assert answer.body["error"]["code"] == "too_large"
    assert answer.body["error"]["field"] == "body"
    assert answer.bytes_read <= api.services.settings.max_track_batch_bytes + CHUNK


def test_an_endless_body_without_a_key_is_refused_before_a_byte_is_read(api: Api) -> None:
    answer = _stream(api, "/v1/contacts", {"Content-Type": "application/json"}, _endless())
    assert answer.status == 401
    assert answer.bytes_read == 0
    bad_key = _stream(api, "/v1/batch", {"Authorization": _basic("lk_nope_nope")}, _endless())
    assert bad_key.status == 401
    assert bad_key.bytes_read == 0


def test_every_route_has_a_body_limit_even_with_a_good_key(api: Api) -> None:
    answer = _stream(
        api,
        "/v1/contacts",
        {**api.admin, "Content-Type": "application/json"},
        _endless(),
    )
    assert answer.status == 413
    assert answer.bytes_read <= api.services.settings.max_body_bytes + CHUNK


def test_a_declared_length_over_the_limit_is_answered_at_once(api: Api) -> None:
    answer = api.client.post(
        "/v1/contacts",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={**api.admin, "Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["field"] == "body"
    unauthenticated = api.client.post("/v1/contacts", content=b" " * (2 * 1024 * 1024))
    assert unauthenticated.status_code == 401


def test_a_gzip_bomb_is_inflated_no_further_than_the_limit(api: Api) -> None:
    bomb = gzip.compress(b" " * (100 * 1024 * 1024))  # 100 MB of spaces in about 100 KB
    assert len(bomb) < api.services.settings.max_track_batch_bytes
    answer = api.client.post(
        "/v1/batch",
        content=bomb,
        auth=api.track_auth,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "too_large"


@pytest.mark.parametrize("kind", ["track", "identify"])
def test_single_message_routes_keep_their_smaller_limit(api: Api, kind: str) -> None:
    answer = _stream(api, f"/v1/{kind}", {"Authorization": _basic(api.track_key)}, _endless())
    assert answer.status == 413
    assert answer.bytes_read <= api.services.settings.max_track_message_bytes + CHUNK


EDGES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1899-12-31T23:59:59Z"]


@pytest.mark.parametrize("moment", EDGES)
def test_out_of_range_dates_are_refused_by_tracking_naming_the_field(api: Api, moment: str) -> None:
    message = {"userId": "u-1", "event": "E", "timestamp": moment}
    answer = api.client.post("/v1/track", auth=api.track_auth, json=message)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["field"] == "timestamp"
    late = {"userId": "u-1", "event": "E", "sentAt": moment}
    answer = api.client.post("/v1/track", auth=api.track_auth, json=late)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["field"] == "sentAt"


def test_a_sent_at_far_from_the_timestamp_is_refused(api: Api) -> None:
    message = {
        "userId": "u-1",
        "event": "E",
        "timestamp": "1901-01-01T00:00:00Z",
        "sentAt": "2199-01-01T00:00:00Z",
    }
    answer = api.client.post("/v1/track", auth=api.track_auth, json=message)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["field"] == "sentAt"


def test_a_bad_date_in_a_batch_refuses_that_message_alone(api: Api) -> None:
    batch = [
        {"type": "track", "userId": "u-1", "event": "Fine", "messageId": "m-1"},
        {"type": "track", "userId": "u-1", "event": "E", "timestamp": EDGES[0]},
        {"type": "track", "userId": "u-1", "event": "E", "timestamp": EDGES[1]},
    ]
    answer = api.client.post("/v1/batch", auth=api.track_auth, json={"batch": batch})
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 1
    fields = [r["field"] for r in answer.json()["rejected"]]
    assert fields == ["batch[1].timestamp", "batch[2].timestamp"]


@pytest.mark.parametrize("moment", EDGES)
def test_out_of_range_dates_in_queries_and_orders_are_refused(api: Api, moment: str) -> None:
    for path, name in [
        ("/v1/contacts", "seen_after"),
        ("/v1/contacts", "seen_before"),
        ("/v1/orders", "since"),
        ("/v1/reports/messages", "until"),
    ]:
        answer = api.client.get(path, params={name: moment}, headers=api.admin)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["error"]["field"] == name
    order = {"id": "A-1", "placed_at": moment, "amount": "10.00", "user_id": "u-1"}
    answer = api.client.post("/v1/orders", json=order, headers=api.admin)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "placed_at"


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize("levels", [33, 300])
def test_deeply_nested_tracking_values_are_refused_naming_the_field(api: Api, levels: int) -> None:
    message = {"userId": "u-1", "event": "E", "properties": _nested(levels)}
    answer = api.client.post("/v1/track", auth=api.track_auth, json=message)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["field"] == "properties"
    batch = [
        {"type": "identify", "userId": "u-1", "traits": _nested(levels)},
        {"type": "track", "userId": "u-1", "event": "Fine"},
    ]
    answer = api.client.post("/v1/batch", auth=api.track_auth, json={"batch": batch})
    assert answer.status_code == 200, answer.text
    assert [r["field"] for r in answer.json()["rejected"]] == ["batch[0].traits"]


def test_thirty_two_levels_are_kept_and_read_back(api: Api) -> None:
    message = {"userId": "u-1", "event": "E", "properties": _nested(32)}
    assert api.client.post("/v1/track", auth=api.track_auth, json=message).status_code == 200


@pytest.mark.parametrize("levels", [33, 300])
def test_a_deeply_nested_contact_is_not_stored(api: Api, levels: int) -> None:
    contact = {"identifiers": {"email": "deep@example.com"}, "attributes": {"x": _nested(levels)}}
    answer = api.client.post("/v1/contacts", json=contact, headers=api.admin)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "attributes"
    listed = api.client.get("/v1/contacts", headers=api.admin)
    assert listed.status_code == 200
    assert listed.json()["contacts"] == []


def test_a_deeply_nested_preview_payload_is_refused(api: Api) -> None:
    answer = api.client.post(
        "/v1/templates/welcome/preview", json={"payload": _nested(300)}, headers=api.admin
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "payload"


@pytest.mark.parametrize("path", ["/v1/rules/scoring", "/v1/rules/lifecycle", "/v1/automations"])
def test_yaml_bombs_and_deep_yaml_are_refused_quickly(api: Api, path: str) -> None:
    from tests.unit.test_yaml_input import BOMB

    method = api.client.post if path == "/v1/automations" else api.client.put
    headers = {**api.admin, "Content-Type": "application/yaml"}
    for document in [BOMB, "[" * 5000 + "]" * 5000, "a:\n" + "[" * 40 + "]" * 40, "&a [*a]"]:
        answer = method(path, content=document.encode(), headers=headers)
        assert answer.status_code == 400, (document[:20], answer.text)
        assert answer.json()["error"]["code"] == "invalid_input"


def test_template_arithmetic_is_bounded_on_save_and_in_preview(api: Api) -> None:
    from tests.unit.messages.test_sandbox import SQUARING

    body = {"channel": "email", "body": {"subject": "Hi", "text": SQUARING}}
    # CPU time of this process (the app runs in it), not the wall clock: other test workers
    # on a loaded machine must not fail it; unbounded squaring would take minutes and GBs
    started = time.process_time()
    saved = api.client.put("/v1/templates/squares", json=body, headers=api.admin)
    assert saved.status_code == 400, saved.text
    assert "too large" in saved.text
    preview = api.client.post("/v1/templates/squares/preview", json=body, headers=api.admin)
    assert preview.status_code == 400, preview.text
    assert time.process_time() - started < 5


NOBODY = [
    {"userId": None, "anonymousId": None, "event": "E"},
    {"userId": None, "event": "E"},
    {"anonymousId": "  ", "event": "E"},
]


@pytest.mark.parametrize("message", NOBODY)
def test_a_message_whose_ids_are_all_null_is_refused_at_intake(
    api: Api, message: dict[str, Any]
) -> None:
    answer = api.client.post("/v1/track", auth=api.track_auth, json=message)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["field"] == "userId"
    batch = [{"type": "track", **message}, {"type": "track", "userId": "u-1", "event": "E"}]
    answer = api.client.post("/v1/batch", auth=api.track_auth, json={"batch": batch})
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 1
    assert [r["field"] for r in answer.json()["rejected"]] == ["batch[0].userId"]


def test_an_alias_with_a_null_previous_id_is_refused(api: Api) -> None:
    message = {"userId": "u-1", "previousId": None}
    answer = api.client.post("/v1/alias", auth=api.track_auth, json=message)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["field"] == "previousId"


@pytest.mark.parametrize("path", ["/v1/track", "/v1/push/devices", "/v1/onsite/impressions"])
def test_a_bad_key_in_the_header_is_refused_before_the_body(api: Api, path: str) -> None:
    answer = _stream(api, path, {"Authorization": _basic("lk_nope_nope")}, _endless())
    assert answer.status == 401
    assert answer.bytes_read == 0
