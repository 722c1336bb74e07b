"""Shipped templates imported as they are and run by the real trigger and runner (SQLite and
PostgreSQL, frozen clock): an abandoned cart, and a tenth order that makes a regular."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from lealta.automations.runner import advance_all
from lealta.automations.tables import Run
from lealta.channels.tables import OutboxMessage
from lealta.clock import FrozenClock
from lealta.contacts.tables import ContactList, ListMembership
from lealta.vouchers.tables import Voucher
from tests.factories.tracked import owner
from tests.integration.conftest import Api

START = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)  # a Monday
PRODUCTS = [{"sku": "TEA-01", "quantity": 2, "price": 12.5}]


def _install(api: Api, *template_ids: str) -> None:
    """Install shipped workflows (with their message templates) and enable them."""
    for template_id in template_ids:
        answer = api.client.post(f"/v1/automations/templates/{template_id}", headers=api.admin)
        assert answer.status_code == 201, answer.text
        assert answer.json()["missing_templates"] == []
        enabled = api.client.post(f"/v1/automations/{template_id}/enable", headers=api.admin)
        assert enabled.is_success, enabled.text


def _track(api: Api, user: str, event: str, at: dt.datetime, **properties: object) -> None:
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


def _outbox(api: Api) -> list[tuple[str, str, dict[str, object]]]:
    with api.services.uow.transaction() as session:
        rows = session.execute(
            select(
                OutboxMessage.contact_id, OutboxMessage.template, OutboxMessage.payload
            ).order_by(OutboxMessage.id)
        ).all()
    return [(contact, template, dict(payload)) for contact, template, payload in rows]


def _runs(api: Api) -> dict[tuple[str, str], str]:
    with api.services.uow.transaction() as session:
        return {
            (run.workflow_id, run.contact_id): run.status for run in session.scalars(select(Run))
        }


def test_the_abandoned_cart_template_reminds_then_rewards(api: Api) -> None:
    clock = FrozenClock(START)
    api.services.clock = clock
    _install(api, "abandoned-cart")
    _track(api, "dawdler", "Checkout Started", START, products=PRODUCTS)
    _track(api, "buyer", "Checkout Started", START, products=PRODUCTS)
    advance_all(api.services)

    clock.advance(minutes=30)
    _track(api, "buyer", "Order Completed", clock.now(), order_id="B-1", total=25)
    advance_all(api.services)
    clock.advance(minutes=30)
    advance_all(api.services)
    dawdler, buyer = _contact(api, "dawdler"), _contact(api, "buyer")
    [(to, template, payload)] = _outbox(api)
    assert (to, template) == (dawdler, "cart-reminder-1")
    assert payload["cart"] == "{{ trigger.properties.products }}"
    assert (payload["workflow"], payload["step"], payload["saved"]) == (
        "abandoned-cart",
        "reminder-1",
        {},
    )
    # the cart's items travel with the message, for its template
    assert payload["trigger"]["event"] == "Checkout Started"
    assert payload["trigger"]["properties"]["products"] == PRODUCTS

    clock.advance(days=1)
    advance_all(api.services)
    assert [template for _, template, _ in _outbox(api)] == ["cart-reminder-1", "cart-reminder-2"]
    with api.services.uow.transaction() as session:
        vouchers = [
            (v.contact_id, v.kind, int(v.value), v.code) for v in session.scalars(select(Voucher))
        ]
    assert [v[:3] for v in vouchers] == [(dawdler, "percent", 10)]
    second = _outbox(api)[1][2]  # the incentive's code, issued the step before
    assert second["saved"] == {"voucher": vouchers[0][3]}
    assert second["trigger"]["properties"]["products"] == PRODUCTS
    runs = _runs(api)
    assert (runs["abandoned-cart", dawdler], runs["abandoned-cart", buyer]) == ("done", "goal")


def test_the_tenth_order_makes_a_regular_who_gets_monthly_perks(api: Api) -> None:
    clock = FrozenClock(START)
    api.services.clock = clock
    _install(api, "loyal-customers", "regulars")
    for number in range(1, 11):  # ten orders within 100 days
        clock.advance(days=10)
        _track(api, "fan", "Order Completed", clock.now(), order_id=f"F-{number}", total=30)
        advance_all(api.services)
        if number == 9:
            assert _outbox(api) == []
    fan = _contact(api, "fan")
    assert [template for _, template, _ in _outbox(api)] == ["loyal-welcome"]
    assert _runs(api) == {("loyal-customers", fan): "done", ("regulars", fan): "waiting"}
    with api.services.uow.transaction() as session:
        status = session.scalar(
            select(ListMembership.status)
            .join(ContactList, ContactList.id == ListMembership.list_id)
            .where(ContactList.slug == "loyal-customers", ListMembership.contact_id == fan)
        )
    assert status == "subscribed"

    # 27 days on (Tuesday 6 October, 10:00), then the next Tuesday at 10:00 UTC: the contact
    # has no time zone, so the workflow's applies.
    joined = clock.now()
    assert joined == dt.datetime(2026, 9, 9, 10, 0, tzinfo=dt.UTC)
    clock.advance(days=33, hours=23, minutes=59)
    advance_all(api.services)
    assert [template for _, template, _ in _outbox(api)] == ["loyal-welcome"]
    clock.advance(minutes=1)
    advance_all(api.services)
    assert clock.now() == dt.datetime(2026, 10, 13, 10, 0, tzinfo=dt.UTC)
    assert [template for _, template, _ in _outbox(api)] == ["loyal-welcome", "regulars-perks"]
