"""Trying a workflow on a real contact: the real engine with a simulated clock, nothing written
or sent (runs, outbox, events and vouchers are counted before and after)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from lealta.automations import service
from lealta.automations import simulate as sim
from lealta.automations.tables import Run, RunStep
from lealta.channels.tables import OutboxMessage
from lealta.errors import InvalidInput
from lealta.events.tables import Event
from lealta.storage.base import utcnow
from lealta.vouchers.tables import Voucher
from tests.factories import contacts
from tests.integration.conftest import Api

REACTIVATION = "inactive-reactivation"


def _setup(api: Api) -> str:
    with api.services.uow.transaction() as session:
        service.install(session, REACTIVATION, now=utcnow())
        lucia = contacts.person(
            session,
            utcnow(),
            email="lucia@example.com",
            attributes={"first_name": "Lucía"},
            lifecycle_stage="Inactive",
        )
        return lucia.id


def _counts(api: Api) -> dict[str, int]:
    with api.services.uow.transaction() as session:
        return {
            table.__name__: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (Run, RunStep, OutboxMessage, Event, Voucher)
        }


def _simulate(api: Api, contact_id: str, events: list[dict[str, Any]]) -> sim.Simulation:
    with api.services.uow.transaction() as session:
        rules = service.definition(session, REACTIVATION)
        return sim.simulate(
            session,
            api.services.settings,
            rules,
            contact_id,
            sim.planned(events),
            now=api.services.clock.now(),
            days=30,
        )


def _texts(result: sim.Simulation) -> list[str]:
    return [entry.text for entry in result.entries]


def test_a_click_on_day_2_takes_the_clicked_branch_and_nothing_is_written(api: Api) -> None:
    contact_id = _setup(api)
    before = _counts(api)
    result = _simulate(api, contact_id, [{"day": 2, "kind": "clicked"}])
    texts = _texts(result)
    assert "Clicks the e-mail reactivation-seasonal" in texts
    assert "Takes the “yes” path" in texts
    assert "Reaches 'partially-active': add tag partially active" in texts
    assert not any("last-chance" in text for text in texts)
    sent = [e.message for e in result.entries if e.message is not None]
    assert [m["template"] for m in sent] == [
        "reactivation-seasonal",
        "offer-reminder",
        "offer-expiring",
    ]
    assert all(m["subject"] for m in sent)  # rendered for the contact
    days = [e.day for e in result.entries if e.message is not None]
    assert days == [0, 9, 12]
    assert result.status == "done"
    assert "offer expired" in result.ending
    assert _counts(api) == before


def test_without_a_click_the_last_chance_is_sent_and_they_leave(api: Api) -> None:
    contact_id = _setup(api)
    result = _simulate(api, contact_id, [])
    assert "Takes the “no” path" in _texts(result)
    assert [e.message["template"] for e in result.entries if e.message] == [
        "reactivation-seasonal",
        "reactivation-last-chance",
    ]
    assert result.ending == "Leaves at 'no-reaction' (no interaction) on day 5"


def test_a_purchase_reaches_the_goal_and_the_voucher_is_shown_not_issued(api: Api) -> None:
    contact_id = _setup(api)
    before = _counts(api)
    result = _simulate(api, contact_id, [{"day": 3, "kind": "bought", "amount": "60"}])
    assert result.status == "goal"
    assert any(text.startswith("Gets a 10% voucher valid 14 days") for text in _texts(result))
    assert "Buys for 60 EUR" in _texts(result)
    assert _counts(api) == before


def test_planned_events_are_checked_with_their_row_and_field(api: Api) -> None:
    for row, field in (
        ({"day": "x", "kind": "clicked"}, "events[0].day"),
        ({"day": 1, "kind": "dances"}, "events[0].kind"),
        ({"day": 1, "kind": "bought", "amount": "-3"}, "events[0].amount"),
        ({"day": 1, "kind": "event"}, "events[0].name"),
    ):
        with pytest.raises(InvalidInput) as problem:
            sim.planned([row])
        assert problem.value.field == field


def test_the_rest_api_simulates_by_e_mail_and_writes_nothing(api: Api) -> None:
    _setup(api)
    before = _counts(api)
    answer = api.client.post(
        f"/v1/automations/{REACTIVATION}/simulate",
        json={"contact": "Lucia@Example.com", "events": [{"day": 2, "kind": "clicked"}]},
        headers=api.admin,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "done"
    assert any(item["text"] == "Takes the “yes” path" for item in body["timeline"])
    assert _counts(api) == before
    unknown = api.client.post(
        f"/v1/automations/{REACTIVATION}/simulate", json={"contact": "x@y.z"}, headers=api.admin
    )
    assert unknown.status_code == 404
    bad = api.client.post(
        f"/v1/automations/{REACTIVATION}/simulate",
        json={"contact": "lucia@example.com", "events": [{"day": 1, "kind": "bought"}]},
        headers=api.admin,
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "events[0].amount"
