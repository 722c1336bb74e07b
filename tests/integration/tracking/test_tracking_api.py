"""The Segment-compatible tracking API, through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import gzip
from typing import Any

import orjson
from sqlalchemy import func, select

from lealta.clock import FrozenClock
from lealta.contacts.tables import Contact, Identifier
from lealta.events.tables import Event
from lealta.lifecycle.tables import StageChange
from lealta.orders.tables import Order
from lealta.scoring.tables import ScoreChange
from lealta.tracking.intake import store
from lealta.tracking.messages import normalize
from lealta.tracking.tables import InboxMessage
from tests.integration.conftest import Api


def _events(api: Api, **where: Any) -> list[Event]:
    with api.services.uow.transaction() as session:
        query = select(Event).order_by(Event.occurred_at, Event.id)
        for name, value in where.items():
            query = query.where(getattr(Event, name) == value)
        return list(session.scalars(query))


def _contact(api: Api, kind: str, value: str) -> Contact:
    with api.services.uow.transaction() as session:
        owner = session.scalar(
            select(Identifier.contact_id).where(Identifier.kind == kind, Identifier.value == value)
        )
        assert owner is not None, f"no contact with {kind} {value}"
        contact = session.get(Contact, owner)
        assert contact is not None
        while contact.merged_into:
            contact = session.get(Contact, contact.merged_into)
            assert contact is not None
        return contact


def test_track_is_stored_with_its_properties_and_context(api: Api) -> None:
    answer = api.client.post(
        "/v1/track",
        auth=api.track_auth,
        json={
            "anonymousId": "a-1",
            "event": "Product Viewed",
            "messageId": "m-1",
            "properties": {"product_id": "p-9", "price": 19.5},
            "context": {
                "ip": "203.0.113.7",
                "userAgent": "Mozilla/5.0",
                "campaign": {"source": "newsletter", "medium": "email"},
            },
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["success"] is True
    api.drain()
    (event,) = _events(api, name="Product Viewed")
    assert event.type == "track"
    assert event.properties == {"product_id": "p-9", "price": 19.5}
    assert event.context["campaign"] == {"source": "newsletter", "medium": "email"}
    assert event.context["ip"] == "203.0.113.7"
    assert event.anonymous_id == "a-1"
    assert _contact(api, "anonymous_id", "a-1").id == event.contact_id


def test_a_batch_keeps_the_good_messages_and_names_each_bad_one(api: Api) -> None:
    batch = [
        {"type": "track", "event": "Signed Up", "userId": "u-1", "messageId": "ok-1"},
        {"type": "track", "userId": "u-1", "messageId": "no-event"},
        {"type": "page", "messageId": "nobody", "name": "Home"},
        {"type": "shout", "userId": "u-1"},
        {"type": "identify", "userId": "u-1", "traits": {"plan": "pro"}, "messageId": "ok-2"},
        {"type": "track", "event": "X", "userId": "u-1", "timestamp": "yesterday"},
        {"type": "track", "event": "Big", "userId": "u-1", "properties": {"x": "y" * 40_000}},
    ]
    answer = api.client.post("/v1/batch", auth=api.track_auth, json={"batch": batch})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["accepted"] == 2
    fields = {r["index"]: r["field"] for r in body["rejected"]}
    assert fields == {
        1: "batch[1].event",
        2: "batch[2].userId",
        3: "batch[3].type",
        5: "batch[5].timestamp",
        6: "batch[6]",
    }
    assert "32,768" in body["rejected"][-1]["reason"]
    api.drain()
    assert {e.message_id for e in _events(api, user_id="u-1")} == {"ok-1", "ok-2"}


def test_a_batch_of_only_bad_messages_is_a_400(api: Api) -> None:
    answer = api.client.post(
        "/v1/batch", auth=api.track_auth, json={"batch": [{"type": "track", "userId": "u"}]}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == "batch[0].event"


def test_a_retried_message_is_stored_once_before_and_after_processing(api: Api) -> None:
    message = {"type": "track", "event": "Order Completed", "userId": "u-7", "messageId": "dup"}
    message["properties"] = {"order_id": "o-1", "total": 10}
    for _ in range(2):
        assert api.client.post(
            "/v1/batch", auth=api.track_auth, json={"batch": [message]}
        ).is_success
    api.drain()
    assert api.client.post("/v1/batch", auth=api.track_auth, json={"batch": [message]}).is_success
    api.drain()
    assert len(_events(api, message_id="dup")) == 1
    with api.services.uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        assert session.scalar(select(func.count()).select_from(InboxMessage)) == 0


def test_answers_count_duplicates_apart_from_new_messages(api: Api) -> None:
    first = {"type": "track", "event": "Viewed", "userId": "u-9", "messageId": "d-1"}
    no_id = {
        "type": "track",
        "event": "Viewed",
        "userId": "u-9",
        "timestamp": "2026-01-02T10:00:00Z",
    }

    def send(*batch: dict[str, Any]) -> tuple[int, int]:
        answer = api.client.post("/v1/batch", auth=api.track_auth, json={"batch": list(batch)})
        assert answer.status_code == 200, answer.text
        return answer.json()["accepted"], answer.json()["duplicates"]

    assert send(first, no_id, no_id) == (2, 1)  # a repeat inside one request
    assert send(first, no_id) == (0, 2)  # repeats of messages waiting in the inbox
    api.drain()
    assert send(first, no_id) == (0, 2)  # repeats of messages already applied
    one = api.client.post("/v1/track", auth=api.track_auth, json=no_id)
    assert (one.json()["accepted"], one.json()["duplicates"]) == (0, 1)
    fresh = api.client.post("/v1/track", auth=api.track_auth, json={**no_id, "event": "New"})
    assert (fresh.json()["accepted"], fresh.json()["duplicates"]) == (1, 0)
    api.drain()
    assert len(_events(api, user_id="u-9")) == 3


def test_a_message_without_id_is_recognised_when_retried(api: Api) -> None:
    message = {
        "type": "track",
        "event": "Clicked",
        "userId": "u-8",
        "timestamp": "2026-01-02T10:00:00Z",
    }
    for _ in range(2):
        api.client.post("/v1/track", auth=api.track_auth, json=message)
    api.drain()
    assert len(_events(api, name="Clicked")) == 1


def test_the_clients_clock_is_corrected_with_sent_at(api: Api) -> None:
    # The client's clock is 2 hours behind: it says it sent at 08:00 what happened at 07:59.
    answer = api.client.post(
        "/v1/track",
        auth=api.track_auth,
        json={
            "userId": "u-9",
            "event": "Late Clock",
            "timestamp": "2020-01-01T07:59:00Z",
            "sentAt": "2020-01-01T08:00:00Z",
        },
    )
    assert answer.is_success
    api.drain()
    (event,) = _events(api, name="Late Clock")
    received = event.received_at.replace(tzinfo=dt.UTC)
    occurred = event.occurred_at.replace(tzinfo=dt.UTC)
    assert abs((received - occurred).total_seconds() - 60) < 1
    assert event.context["originalTimestamp"] == "2020-01-01T07:59:00Z"


def test_size_limits_are_answered_with_413(api: Api) -> None:
    big = {"userId": "u", "event": "Big", "properties": {"blob": "x" * 33_000}}
    answer = api.client.post("/v1/track", auth=api.track_auth, json=big)
    assert answer.status_code == 413
    assert "32,768" in answer.json()["error"]["message"]
    many = {
        "batch": [{"type": "track", "userId": "u", "event": "E", "properties": {"b": "x" * 20_000}}]
        * 30
    }
    answer = api.client.post("/v1/batch", auth=api.track_auth, json=many)
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "too_large"


def test_write_key_in_a_text_plain_body_and_gzip_work(api: Api) -> None:
    body = {
        "batch": [{"type": "page", "anonymousId": "b-1", "name": "Home"}],
        "writeKey": api.track_key,
    }
    answer = api.client.post(
        "/v1/batch", content=orjson.dumps(body), headers={"Content-Type": "text/plain"}
    )
    assert answer.status_code == 200, answer.text
    zipped = gzip.compress(orjson.dumps({"batch": [{"type": "page", "anonymousId": "b-2"}]}))
    answer = api.client.post(
        "/v1/batch",
        content=zipped,
        auth=api.track_auth,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert answer.status_code == 200, answer.text
    api.drain()
    assert {e.anonymous_id for e in _events(api, type="page")} == {"b-1", "b-2"}


def test_keys_and_scopes(api: Api) -> None:
    message = {"userId": "u", "event": "E"}
    assert api.client.post("/v1/track", json=message).status_code == 401
    assert api.client.post("/v1/track", json=message, auth=("lk_nope_nope", "")).status_code == 401
    assert api.client.get("/v1/status", auth=api.track_auth).status_code == 401  # Basic ≠ Bearer
    forbidden = api.client.get("/v1/status", headers={"Authorization": f"Bearer {api.track_key}"})
    assert forbidden.status_code == 403
    assert api.client.get("/v1/status", headers=api.admin).status_code == 200


def test_bad_json_names_the_body(api: Api) -> None:
    answer = api.client.post("/v1/batch", auth=api.track_auth, content=b"{not json")
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == "body"


def test_identify_joins_the_anonymous_history_and_alias_merges(api: Api) -> None:
    batch = [
        {
            "type": "page",
            "anonymousId": "anon-1",
            "name": "Pricing",
            "messageId": "p1",
            "timestamp": "2026-03-01T10:00:00Z",
        },
        {
            "type": "identify",
            "anonymousId": "anon-1",
            "userId": "user-1",
            "messageId": "i1",
            "traits": {"email": " Ana@Example.COM ", "city": "Porto", "birthday": "1990-05-04"},
            "timestamp": "2026-03-01T10:01:00Z",
        },
        {
            "type": "track",
            "anonymousId": "phone-9",
            "event": "App Opened",
            "messageId": "t1",
            "timestamp": "2026-03-01T11:00:00Z",
        },
        {
            "type": "alias",
            "userId": "user-1",
            "previousId": "phone-9",
            "messageId": "al1",
            "timestamp": "2026-03-01T12:00:00Z",
        },
    ]
    assert api.client.post("/v1/batch", auth=api.track_auth, json={"batch": batch}).is_success
    api.drain()
    person = _contact(api, "email", "ana@example.com")
    assert _contact(api, "anonymous_id", "anon-1").id == person.id
    assert _contact(api, "anonymous_id", "phone-9").id == person.id
    assert person.attributes == {"city": "Porto", "birthday": "1990-05-04"}
    names = [(e.type, e.name) for e in _events(api, contact_id=person.id)]
    assert ("page", "Pricing") in names
    assert ("track", "App Opened") in names
    assert ("track", "Profiles Merged") in names


def test_lifecycle_stages_follow_the_events(api: Api) -> None:
    batch = [
        {"type": "page", "anonymousId": "v-1", "name": "Home", "timestamp": "2026-04-01T09:00:00Z"},
        {
            "type": "identify",
            "anonymousId": "v-1",
            "traits": {"email": "leo@example.com"},
            "timestamp": "2026-04-01T09:05:00Z",
        },
        {
            "type": "track",
            "anonymousId": "v-1",
            "event": "Order Completed",
            "properties": {
                "order_id": "A-100",
                "total": 120.5,
                "currency": "eur",
                "products": [{"product_id": "p1", "category": "Books", "price": 120.5}],
                "payment_method": "invoice",
                "due_date": "2026-05-01",
            },
            "timestamp": "2026-04-02T09:00:00Z",
        },
    ]
    assert api.client.post("/v1/batch", auth=api.track_auth, json={"batch": batch}).is_success
    api.drain()
    person = _contact(api, "email", "leo@example.com")
    assert person.lifecycle_stage == "Customer"
    with api.services.uow.transaction() as session:
        moves = session.execute(
            select(StageChange.from_stage, StageChange.to_stage, StageChange.rule_id)
            .where(StageChange.contact_id == person.id)
            .order_by(StageChange.changed_at, StageChange.id)
        ).all()
        order = session.scalar(select(Order).where(Order.external_id == "A-100"))
    assert [tuple(m) for m in moves] == [
        (None, "Visitor", "active"),
        ("Visitor", "Lead", "identified"),
        ("Lead", "Customer", "ordered"),
    ]
    assert order is not None
    assert order.contact_id == person.id
    assert float(order.amount) == 120.5
    assert order.currency == "EUR"
    assert order.payment_method == "invoice"
    assert order.due_date == dt.date(2026, 5, 1)
    changed = _events(api, contact_id=person.id, name="Lifecycle Stage Changed")
    assert [e.properties["to"] for e in changed] == ["Visitor", "Lead", "Customer"]


def test_scores_follow_the_rules_and_crossing_a_threshold_is_an_event(api: Api) -> None:
    batch = [
        {
            "type": "track",
            "userId": "s-1",
            "event": "Webinar Attended",
            "timestamp": "2026-04-01T09:00:00Z",
        },
        {
            "type": "track",
            "userId": "s-1",
            "event": "Form Submitted",
            "timestamp": "2026-04-01T09:10:00Z",
        },
    ]
    assert api.client.post("/v1/batch", auth=api.track_auth, json={"batch": batch}).is_success
    api.drain()
    person = _contact(api, "user_id", "s-1")
    assert person.score > 30
    with api.services.uow.transaction() as session:
        ledger = session.scalars(
            select(ScoreChange.rule_id).where(ScoreChange.contact_id == person.id)
        ).all()
    assert len(ledger) >= 2
    crossed = _events(api, contact_id=person.id, name="Lead Score Threshold Crossed")
    assert [e.properties["threshold"] for e in crossed] == [25]


def test_rate_limit_answers_429(api: Api) -> None:
    api.services.settings.track_rate_limit = 1.0  # a burst of 2
    codes = [
        api.client.post(
            "/v1/track", auth=api.track_auth, json={"userId": "r", "event": "E"}
        ).status_code
        for _ in range(4)
    ]
    assert codes[:2] == [200, 200]
    assert codes[-1] == 429


def test_status_says_how_long_the_oldest_waiting_message_has_waited(api: Api) -> None:
    clock = FrozenClock(dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC))
    api.services.clock = clock
    assert api.client.get("/v1/status", headers=api.admin).json()["lag_seconds"] == 0
    first = {"type": "track", "userId": "u-1", "event": "Seen", "messageId": "lag-1"}
    assert api.client.post("/v1/track", json=first, auth=api.track_auth).status_code == 200
    clock.advance(seconds=30)
    second = {**first, "messageId": "lag-2"}
    assert api.client.post("/v1/track", json=second, auth=api.track_auth).status_code == 200
    clock.advance(seconds=12.5)
    status = api.client.get("/v1/status", headers=api.admin).json()
    assert status["inbox"]["waiting"] == 2
    assert status["inbox"]["lag_seconds"] == 42.5  # the oldest, not the newest
    assert status["inboxes"]["tracking"] == status["inbox"]
    assert status["lag_seconds"] == 42.5
    api.drain()
    status = api.client.get("/v1/status", headers=api.admin).json()
    assert (status["inbox"]["waiting"], status["lag_seconds"]) == (0, 0)
    # what forms and imports write goes to the state database's inbox (a separate one on SQLite)
    with api.services.uow.transaction() as session:
        store(
            session,
            [normalize({**first, "messageId": "lag-3"}, received_at=clock.now())],
            received_at=clock.now(),
        )
    clock.advance(seconds=5)
    status = api.client.get("/v1/status", headers=api.admin).json()
    name = "tracking" if api.services.inbox is api.services.uow else "state"
    assert set(status["inboxes"]) == ({"tracking"} if name == "tracking" else {"tracking", "state"})
    assert status["inboxes"][name]["lag_seconds"] == status["lag_seconds"] == 5
