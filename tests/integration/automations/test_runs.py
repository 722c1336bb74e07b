"""Workflows end to end on SQLite and PostgreSQL: an event enrols, the runner advances with a
frozen clock, sends land in the outbox once, a purchase reaches the goal."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from lealta.automations.runner import advance_all
from lealta.automations.tables import Run
from lealta.channels.tables import OutboxMessage
from lealta.clock import FrozenClock
from lealta.messages.catalog import read_documents, shipped_text
from lealta.vouchers.tables import Voucher
from tests.factories.tracked import owner
from tests.integration.conftest import Api

CART = """
id: abandoned-cart
name: Abandoned cart
trigger: {type: event, event: Checkout Started}
goal: {condition: {kind: purchased_since_entered}}
steps:
  - {id: wait-hour, type: wait, duration: 1h}
  - {id: remind, type: send, channel: email, template: cart-reminder-1}
  - {id: wait-day, type: wait, duration: 1d}
  - {id: incentive, type: voucher, kind: percent, value: 10, valid_days: 7, save_as: voucher}
  - {id: remind-2, type: send, channel: email, template: cart-reminder-2}
"""
START = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)


def _send(api: Api, user: str, event: str, at: dt.datetime, **properties: object) -> None:
    message = {
        "type": "track",
        "userId": user,
        "event": event,
        "timestamp": at.isoformat(),
        "properties": properties,
    }
    assert api.client.post("/v1/track", auth=api.track_auth, json=message).is_success
    api.drain()


def _contact(api: Api, user: str) -> str:
    return owner(api.services.uow, "user_id", user)


def _outbox(api: Api) -> list[tuple[str, str]]:
    with api.services.uow.transaction() as session:
        rows = session.execute(
            select(OutboxMessage.contact_id, OutboxMessage.template).order_by(OutboxMessage.id)
        ).all()
    return [(contact, template) for contact, template in rows]


def _store_templates(api: Api, *template_ids: str) -> None:
    """Store shipped message templates through the API, as a user copying them would."""
    for template_id in template_ids:
        [doc] = read_documents(shipped_text(template_id))
        body = {"channel": doc["channel"], "body": doc["body"]}
        stored = api.client.put(f"/v1/templates/{template_id}", json=body, headers=api.admin)
        assert stored.is_success, stored.text


def test_an_abandoned_cart_run_from_trigger_to_goal(api: Api) -> None:
    clock = FrozenClock(START)
    api.services.clock = clock
    answer = api.client.post(
        "/v1/automations", content=CART, headers={**api.admin, "Content-Type": "application/yaml"}
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["missing_templates"] == [
        "cart-reminder-1 (email)",
        "cart-reminder-2 (email)",
    ]
    refused = api.client.post("/v1/automations/abandoned-cart/enable", headers=api.admin)
    assert refused.status_code == 409
    message = refused.json()["error"]["message"]
    assert "cart-reminder-1 (email), cart-reminder-2 (email)" in message
    assert (
        api.client.get("/v1/automations/abandoned-cart", headers=api.admin).json()["status"]
        == "draft"
    )
    _store_templates(api, "cart-reminder-1", "cart-reminder-2")
    assert api.client.post("/v1/automations/abandoned-cart/enable", headers=api.admin).is_success

    _send(api, "buyer", "Checkout Started", START, cart_id="c1")
    _send(api, "dawdler", "Checkout Started", START, cart_id="c2")
    _send(api, "dawdler", "Checkout Started", START, cart_id="c2")  # same event again: one run
    advance_all(api.services)
    assert _outbox(api) == []  # both wait an hour

    clock.advance(minutes=30)
    _send(api, "buyer", "Order Completed", clock.now(), order_id="B-1", total=80)
    advance_all(api.services)
    clock.advance(hours=1)
    advance_all(api.services)
    advance_all(api.services)  # nothing new at the same time
    dawdler, buyer = _contact(api, "dawdler"), _contact(api, "buyer")
    assert _outbox(api) == [(dawdler, "cart-reminder-1")]

    clock.advance(days=1, hours=1)
    advance_all(api.services)
    assert _outbox(api) == [(dawdler, "cart-reminder-1"), (dawdler, "cart-reminder-2")]
    with api.services.uow.transaction() as session:
        runs = {r.contact_id: (r.status, r.state) for r in session.scalars(select(Run))}
        vouchers = session.scalars(select(Voucher)).all()
    assert runs[buyer][0] == "goal"
    assert runs[dawdler][0] == "done"
    assert len(vouchers) == 1
    assert vouchers[0].contact_id == dawdler
    assert runs[dawdler][1]["data"]["voucher"] == vouchers[0].code

    stats = api.client.get("/v1/automations/abandoned-cart/stats", headers=api.admin).json()
    assert (stats["entered"], stats["goal"], stats["done"]) == (2, 1, 1)
    assert stats["conversion_rate"] == 0.5


def test_editing_a_live_workflow_keeps_runs_on_their_version(api: Api) -> None:
    clock = FrozenClock(START)
    api.services.clock = clock
    headers = {**api.admin, "Content-Type": "application/yaml"}
    api.client.post("/v1/automations", content=CART, headers=headers)
    _store_templates(api, "cart-reminder-1", "cart-reminder-2")
    assert api.client.post("/v1/automations/abandoned-cart/enable", headers=api.admin).is_success
    _send(api, "early", "Checkout Started", START)
    advance_all(api.services)
    edited = CART.replace("cart-reminder-1", "cart-reminder-new")
    answer = api.client.post("/v1/automations", content=edited, headers=headers)
    assert answer.json()["version"] == 2
    _send(api, "late", "Checkout Started", START)
    clock.advance(hours=2)
    advance_all(api.services)
    early, late = _contact(api, "early"), _contact(api, "late")
    assert sorted(_outbox(api)) == sorted([(early, "cart-reminder-1"), (late, "cart-reminder-new")])
