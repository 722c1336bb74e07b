from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter

from lealta.conditions import ConditionSpec, ContactView, EventView, evaluate
from lealta.errors import InvalidInput
from tests.unit.automations.factories import T0, contact, event

ENTERED = T0 - timedelta(days=2)
SPEC: TypeAdapter[ConditionSpec] = TypeAdapter(ConditionSpec)

SOMEONE = contact(
    attributes={"country": "ES", "age": "42", "plan": None},
    tags=frozenset({"vip"}),
    lists={"newsletter": "subscribed", "offers": "unsubscribed"},
    stage="Customer",
    score=37.5,
    segment="Champions",
    cluster="Bargain hunters",
    consent={"email": "granted", "sms": "denied"},
    events=(
        event("Order Completed", ENTERED - timedelta(days=10), total=80),
        event("Order Completed", T0 - timedelta(days=1), total=20),
        event("Email Opened", T0 - timedelta(hours=5), template="cart"),
        event("Email Clicked", ENTERED - timedelta(hours=1), template="cart"),
        event("Order Completed", T0 + timedelta(hours=1), total=500),  # not yet happened
    ),
)


def holds(spec: dict[str, Any], who: ContactView = SOMEONE) -> bool:
    return evaluate(SPEC.validate_python(spec), who, now=T0, entered_at=ENTERED)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"kind": "attribute", "name": "country", "op": "equals", "value": "ES"}, True),
        ({"kind": "attribute", "name": "age", "op": "gte", "value": 40}, True),
        ({"kind": "attribute", "name": "age", "op": "lt", "value": 40}, False),
        ({"kind": "attribute", "name": "plan", "op": "exists", "value": False}, True),
        ({"kind": "attribute", "name": "city", "op": "exists"}, False),
        ({"kind": "tag", "tag": "vip"}, True),
        ({"kind": "tag", "tag": "vip", "present": False}, False),
        ({"kind": "tag", "tag": "staff", "present": False}, True),
        ({"kind": "list", "list": "newsletter"}, True),
        ({"kind": "list", "list": "offers"}, False),
        ({"kind": "list", "list": "offers", "status": "unsubscribed"}, True),
        ({"kind": "stage", "in": ["Lead", "Customer"]}, True),
        ({"kind": "stage", "in": ["Lead"]}, False),
        ({"kind": "score", "gte": 30}, True),
        ({"kind": "score", "gte": 30, "lte": 35}, False),
        ({"kind": "segment", "in": ["Champions"]}, True),
        ({"kind": "segment", "in": ["At Risk"]}, False),
        ({"kind": "cluster", "in": ["Bargain hunters"]}, True),
        ({"kind": "consent", "channel": "email"}, True),
        ({"kind": "consent", "channel": "sms"}, False),
        ({"kind": "consent", "channel": "push"}, False),
        ({"kind": "event_count", "event": "order completed", "gte": 2}, True),
        ({"kind": "event_count", "event": "Order Completed", "gte": 3}, False),  # one is future
        ({"kind": "event_count", "event": "Order Completed", "within_days": 7}, True),
        ({"kind": "event_count", "event": "Order Completed", "within_days": 7, "gte": 2}, False),
        ({"kind": "event_count", "event": "Order Completed", "since_entered": True}, True),
        (
            {"kind": "event_count", "event": "Order Completed"}
            | {"where": [{"property": "total", "op": "gte", "value": 50}], "lte": 1},
            True,
        ),
        ({"kind": "event_count", "event": "Refund", "gte": 0, "lte": 0}, True),
        ({"kind": "message", "template": "cart", "action": "opened"}, True),
        ({"kind": "message", "template": "cart", "action": "clicked"}, False),  # before entry
        ({"kind": "message", "template": "welcome"}, False),
        ({"kind": "purchased_since_entered"}, True),
        ({"kind": "all", "conditions": []}, True),
        ({"kind": "any", "conditions": []}, False),
        (
            {
                "kind": "all",
                "conditions": [
                    {"kind": "tag", "tag": "vip"},
                    {"kind": "not", "condition": {"kind": "stage", "in": ["Lead"]}},
                ],
            },
            True,
        ),
        (
            {
                "kind": "any",
                "conditions": [{"kind": "tag", "tag": "staff"}, {"kind": "score", "lte": 0}],
            },
            False,
        ),
    ],
)
def test_conditions_see_the_contact(spec: dict[str, Any], expected: bool) -> None:
    assert holds(spec) is expected


def test_purchases_before_entry_do_not_count() -> None:
    earlier = contact(events=(event("Order Completed", ENTERED - timedelta(seconds=1)),))
    same_moment = contact(events=(event("Order Completed", ENTERED),))
    assert not holds({"kind": "purchased_since_entered"}, earlier)
    assert not holds({"kind": "purchased_since_entered"}, same_moment)


def test_event_views_are_kept_in_utc() -> None:
    madrid = datetime(2025, 3, 3, 11, 0, tzinfo=ZoneInfo("Europe/Madrid"))
    seen = EventView("X", "track", madrid)
    assert seen.occurred_at == datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
    assert seen.occurred_at.tzinfo is UTC
    with pytest.raises(InvalidInput, match="timezone-aware"):
        EventView("X", "track", datetime(2025, 3, 3))


def test_evaluation_needs_aware_times() -> None:
    spec = SPEC.validate_python({"kind": "tag", "tag": "vip"})
    with pytest.raises(InvalidInput, match="now"):
        evaluate(spec, SOMEONE, now=datetime(2025, 1, 1), entered_at=ENTERED)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"kind": "attribute", "name": "age", "op": "gt", "value": "old"}, "gt needs a number"),
        ({"kind": "score"}, "give gte, lte or both"),
        ({"kind": "score", "gte": 5, "lte": 1}, "above lte"),
        ({"kind": "event_count", "event": "E", "gte": 3, "lte": 1}, "below gte"),
        ({"kind": "stage", "in": []}, "at least 1"),
        ({"kind": "tag"}, "tag"),
        ({"kind": "sometimes"}, "does not match any of the expected tags"),
        ({"kind": "not", "condition": {"kind": "tag", "tag": "x", "extra": 1}}, "Extra inputs"),
    ],
)
def test_bad_conditions_are_refused(spec: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        SPEC.validate_python(spec)


def test_events_given_in_any_order_are_kept_oldest_first_and_read_around_the_entry() -> None:
    entered = T0 + timedelta(days=10)
    orders = [event("Order Completed", T0 + timedelta(days=d)) for d in (12, 3, 30, 10)]
    someone = contact(events=orders)
    assert [e.occurred_at for e in someone.events] == sorted(e.occurred_at for e in orders)
    bought: Any = {"kind": "purchased_since_entered"}
    since_entry: Any = {"kind": "event_count", "event": "Order Completed", "since_entered": True}
    adapter = TypeAdapter(ConditionSpec)
    goal, count = adapter.validate_python(bought), adapter.validate_python(since_entry)
    # the order on day 10 is at the entry, not after it; the one on day 30 is still to come
    assert not evaluate(goal, someone, now=T0 + timedelta(days=11), entered_at=entered)
    assert evaluate(goal, someone, now=T0 + timedelta(days=12), entered_at=entered)
    count_lte: Any = {**since_entry, "gte": 1, "lte": 1}
    at_most_one = adapter.validate_python(count_lte)
    assert evaluate(at_most_one, someone, now=T0 + timedelta(days=29), entered_at=entered)
    assert not evaluate(at_most_one, someone, now=T0 + timedelta(days=30), entered_at=entered)
    assert evaluate(count, someone, now=T0 + timedelta(days=30), entered_at=entered)
