"""The single customer view: tracked events, orders, stages, scores and consent, newest first."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lealta.clock import FrozenClock
from tests.integration.conftest import Api
from tests.integration.contacts.helpers import create, track

T0 = dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC)


def _at(hours: float) -> str:
    return (T0 + dt.timedelta(hours=hours)).isoformat()


@pytest.fixture
def ana(api: Api) -> str:
    """A contact created at T0 with e-mail consent, then identified, on the pricing page, and
    buying, through ``/v1/batch`` (sent out of order: the timeline sorts by time)."""
    api.services.clock = FrozenClock(T0)
    contact = create(
        api,
        identifiers={"email": "ana@example.com", "user_id": "u-1"},
        consent={"email": "granted"},
    )
    track(
        api,
        {
            "type": "track",
            "userId": "u-1",
            "event": "Order Completed",
            "properties": {"order_id": "1001", "total": 49.9, "currency": "EUR"},
            "timestamp": _at(3),
            "messageId": "m-order",
        },
        {
            "type": "identify",
            "userId": "u-1",
            "traits": {"email": "ana@example.com", "first_name": "Ana"},
            "timestamp": _at(1),
            "messageId": "m-identify",
        },
        {
            "type": "page",
            "userId": "u-1",
            "name": "Pricing",
            "properties": {"url": "https://shop.example/pricing"},
            "timestamp": _at(2),
            "messageId": "m-page",
        },
        {
            "type": "track",
            "userId": "u-1",
            "event": "Order Completed",
            "properties": {"order_id": "1002", "total": 20, "currency": "USD"},
            "timestamp": _at(4),
            "messageId": "m-order-2",
        },
    )
    return str(contact["id"])


def _timeline(api: Api, contact_id: str, **params: Any) -> dict[str, Any]:
    answer = api.client.get(f"/v1/contacts/{contact_id}/timeline", headers=api.admin, params=params)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_everything_that_happened_is_merged_newest_first(api: Api, ana: str) -> None:
    view = _timeline(api, ana)
    titles = [(e["at"][11:16], e["kind"], e["title"]) for e in view["entries"]]
    assert titles == [
        ("13:00", "order", "Order Completed · 20.00 USD"),
        ("12:00", "stage", "Stage Prospect → Customer (rule ordered)"),
        ("12:00", "order", "Order Completed · 49.90 EUR"),
        ("11:00", "score", "+1 point (page-view) → 6"),
        ("11:00", "score", "+5 points (pricing-page) → 5"),
        ("11:00", "event", "Viewed page Pricing"),
        ("10:00", "event", "Identified (email, first_name)"),
        ("09:00", "stage", "Stage → Prospect (rule created)"),
        ("09:00", "consent", "Consent email granted (via api)"),
    ]
    assert view["next_before"] is None
    order = view["entries"][2]["details"]
    assert (order["order_id"], order["amount"], order["currency"]) == ("1001", "49.90", "EUR")
    page = view["entries"][5]["details"]  # the order came first: no step back to Lead
    assert page["properties"] == {"url": "https://shop.example/pricing"}


def test_the_summary_counts_orders_and_revenue_per_currency(api: Api, ana: str) -> None:
    summary = _timeline(api, ana)["profile"]
    assert summary["orders"] == 2
    assert summary["revenue"] == {"EUR": "49.90", "USD": "20.00"}
    assert summary["last_order_at"] == "2025-03-01T13:00:00Z"
    assert summary["last_seen_at"] == "2025-03-01T13:00:00Z"
    assert summary["lifecycle_stage"] == "Customer"
    assert summary["score"] == 6
    assert summary["consent"]["email"]["status"] == "granted"
    assert summary["identifiers"] == {"email": ["ana@example.com"], "user_id": ["u-1"]}


def test_pages_resume_exactly_after_their_last_entry(api: Api, ana: str) -> None:
    everything = _timeline(api, ana)["entries"]
    collected: list[dict[str, Any]] = []
    before: str | None = None
    for _ in range(20):
        params: dict[str, Any] = {"limit": 2}
        if before:
            params["before"] = before
        page = _timeline(api, ana, **params)
        assert len(page["entries"]) <= 2
        collected += page["entries"]
        before = page["next_before"]
        if before is None:
            break
    assert collected == everything


def test_before_a_plain_time_gives_strictly_older_entries(api: Api, ana: str) -> None:
    older = _timeline(api, ana, before="2025-03-01T11:00:00Z")["entries"]
    assert [e["at"] for e in older] == ["2025-03-01T10:00:00Z"] + ["2025-03-01T09:00:00Z"] * 2
    bad = api.client.get(
        f"/v1/contacts/{ana}/timeline", headers=api.admin, params={"before": "last week"}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "before"


def test_an_order_event_without_a_stored_order_stays_an_event(api: Api, ana: str) -> None:
    track(
        api,
        {
            "type": "track",
            "userId": "u-1",
            "event": "order_completed",
            "properties": {"order_id": "bad", "total": "lots"},
            "timestamp": _at(5),
            "messageId": "m-bad-order",
        },
    )
    newest = _timeline(api, ana, limit=1)["entries"][0]
    assert (newest["kind"], newest["title"]) == ("event", "order_completed")
