"""Segment's own Python SDK, pointed at a running Lealta, works unchanged.

The tests share one server (a start costs two processes and a migration): each reads only
the events of its own users and the contacts it created."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from segment.analytics import Client
from sqlalchemy import bindparam, create_engine, text

from tests.e2e.server.conftest import Server


@pytest.fixture
def server(shared_server: Server) -> Server:
    return shared_server


def _contacts(server: Server) -> dict[str, str]:
    """Contact id -> lifecycle stage, for every contact of the server's store."""
    engine = create_engine(server.database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, lifecycle_stage FROM contacts")).all()
    engine.dispose()
    return {row[0]: row[1] for row in rows}


def _wait_for_events(
    server: Server, count: int, users: tuple[str, ...], timeout: float = 90
) -> list[Any]:
    """The events sent for ``users`` (once at least ``count`` arrived)."""
    engine = create_engine(server.database_url)
    deadline = time.monotonic() + timeout
    rows: list[Any] = []
    query = text(
        "SELECT type, name, contact_id, properties, context, occurred_at "
        "FROM events WHERE user_id IN :users AND (name IS NULL OR name NOT IN "
        "('Lifecycle Stage Changed', 'Lead Score Threshold Crossed', "
        "'Profiles Merged')) ORDER BY occurred_at, id"
    ).bindparams(bindparam("users", expanding=True))
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                rows = list(connection.execute(query, {"users": users}))
            if len(rows) >= count:
                return rows
            time.sleep(0.2)
    finally:
        engine.dispose()
    raise AssertionError(f"{len(rows)} of {count} events arrived: {rows}")


def test_the_official_segment_sdk_sends_every_call_type(server: Server) -> None:
    before = _contacts(server)
    errors: list[Exception] = []
    client = Client(
        server.track_key,
        host=server.url,
        on_error=lambda error, _batch: errors.append(error),
        max_retries=1,
        upload_interval=0.05,
    )
    # A week ago: recent enough that the inactivity sweep leaves the customer a Customer.
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(days=7)).replace(microsecond=0)
    client.identify(
        "user-42",
        {"email": "marta@example.com", "first_name": "Marta", "city": "Lisboa"},
        anonymous_id="anon-42",
        timestamp=when,
    )
    client.page("user-42", "Docs", "Pricing", {"path": "/pricing"}, timestamp=when)
    client.screen("user-42", "App", "Home", timestamp=when)
    client.track(
        "user-42",
        "Order Completed",
        {"order_id": "SDK-1", "total": 59.9, "currency": "EUR"},
        context={"campaign": {"source": "newsletter"}},
        timestamp=when + dt.timedelta(minutes=5),
    )
    client.group("user-42", "acme", {"name": "Acme"}, timestamp=when)
    client.alias("device-7", "user-42", timestamp=when)
    client.flush()
    client.join()
    assert errors == []

    rows = _wait_for_events(server, 6, ("user-42",))
    kinds = sorted(row.type for row in rows)
    assert kinds == ["alias", "group", "identify", "page", "screen", "track"]
    assert len({row.contact_id for row in rows}) == 1  # one person
    track = next(row for row in rows if row.type == "track")
    assert track.name == "Order Completed"
    assert '"newsletter"' in track.context
    assert '"analytics-python"' in track.context  # the SDK's own library context is kept
    engine = create_engine(server.database_url)
    with engine.connect() as connection:
        order = connection.execute(text("SELECT external_id, amount FROM orders")).one()
    engine.dispose()
    stage = [stage for cid, stage in _contacts(server).items() if cid not in before]
    assert order.external_id == "SDK-1"
    assert float(order.amount) == 59.9
    assert stage == ["Customer"]


def test_the_sdk_reports_a_bad_write_key(server: Server) -> None:
    errors: list[Exception] = []
    client = Client(
        "not-a-key", host=server.url, on_error=lambda e, _b: errors.append(e), max_retries=0
    )
    client.track("u", "Anything")
    client.flush()
    client.join()
    assert errors, "a refused key must reach the SDK's error handler"
    assert "401" in str(errors[0]) or "unknown" in str(errors[0]).lower()


def test_the_rudderstack_sdk_works_too(server: Server) -> None:
    from rudderstack.analytics.client import Client as RudderClient

    before = _contacts(server)
    errors: list[Exception] = []
    client = RudderClient(
        server.track_key,
        host=server.url,
        on_error=lambda error, _batch: errors.append(error),
        max_retries=1,
        upload_interval=0.05,
    )  # gzip is on by default in this SDK
    client.identify("r-1", {"email": "rui@example.com"})
    client.track("r-1", "Webinar Attended", {"webinar": "spring"})
    client.page("r-1", "Docs", "Home", {"path": "/"})
    client.flush()
    client.join()
    assert errors == []
    rows = _wait_for_events(server, 3, ("r-1",))
    assert sorted(row.type for row in rows) == ["identify", "page", "track"]
    assert len({row.contact_id for row in rows}) == 1
    assert {row.contact_id for row in rows} == _contacts(server).keys() - before.keys()
