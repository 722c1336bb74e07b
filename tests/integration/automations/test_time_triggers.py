"""Anniversaries in each contact's time zone, inactivity, cron schedules, tags and lists."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from lealta.automations import service
from lealta.automations.schedules import run_time_triggers
from lealta.automations.tables import Run
from lealta.contacts.tables import ContactTag
from lealta.messages import service as messages
from lealta.storage.unit_of_work import UnitOfWork
from tests.factories import contacts, events
from tests.integration.conftest import Api

T0 = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


def _workflow(uow: UnitOfWork, trigger: str, workflow_id: str = "w") -> None:
    text = (
        f"id: {workflow_id}\nname: W\ntrigger: {trigger}\n"
        "steps:\n  - {id: hello, type: send, channel: email, template: hello}\n"
    )
    with uow.transaction() as session:
        service.save(session, text, now=T0)
        messages.save(session, "hello", "email", {"subject": "Hello", "text": "Hello"})
        service.set_status(session, workflow_id, "active", now=T0)


def _person(uow: UnitOfWork, name: str, **attributes: str) -> str:
    with uow.transaction() as session:
        return contacts.person(session, T0, user_id=name, attributes=attributes).id


def _enrolled(uow: UnitOfWork) -> list[str]:
    with uow.transaction() as session:
        return sorted(session.scalars(select(Run.contact_id)))


def _sweep(uow: UnitOfWork, now: dt.datetime) -> dict[str, int]:
    with uow.transaction() as session:
        return run_time_triggers(session, now=now)


def test_birthdays_fire_at_nine_in_each_contacts_time_zone(uow: UnitOfWork) -> None:
    _workflow(uow, "{type: anniversary, attribute: birthday, at: '09:00'}")
    tokyo = _person(uow, "tokyo", birthday="1990-06-02", timezone="Asia/Tokyo")
    la = _person(uow, "la", birthday="1985-06-02", timezone="America/Los_Angeles")
    _person(uow, "no-birthday")
    _person(uow, "other-day", birthday="1990-07-02")
    assert _sweep(uow, dt.datetime(2026, 6, 1, 23, 30, tzinfo=dt.UTC)) == {}  # Tokyo 08:30
    assert _sweep(uow, dt.datetime(2026, 6, 2, 0, 30, tzinfo=dt.UTC)) == {"w": 1}  # Tokyo 09:30
    assert _enrolled(uow) == [tokyo]
    assert _sweep(uow, dt.datetime(2026, 6, 2, 16, 30, tzinfo=dt.UTC)) == {"w": 1}  # LA 09:30
    assert _sweep(uow, dt.datetime(2026, 6, 2, 17, 30, tzinfo=dt.UTC)) == {}  # once a year
    assert _enrolled(uow) == sorted([tokyo, la])


def test_inactivity_enrols_once_per_quiet_spell(uow: UnitOfWork) -> None:
    _workflow(uow, "{type: inactivity, event: Order Completed, days: 120}")
    quiet = _person(uow, "quiet")
    busy = _person(uow, "busy")
    with uow.transaction() as session:
        for contact, days in ((quiet, 130), (busy, 10)):
            at = T0 - dt.timedelta(days=days)
            events.event(session, contact, "Order Completed", at=at, message_id=f"o-{contact}")
    assert _sweep(uow, T0) == {"w": 1}
    assert _sweep(uow, T0 + dt.timedelta(hours=1)) == {}
    assert _enrolled(uow) == [quiet]


def test_a_cron_schedule_enrols_its_audience_at_the_minute(uow: UnitOfWork) -> None:
    _workflow(uow, "{type: schedule, cron: '0 9 * * 1', audience: {tag: vip}}")
    vip = _person(uow, "vip")
    _person(uow, "plain")
    with uow.transaction() as session:
        session.add(ContactTag(contact_id=vip, tag="vip", created_at=T0))
    monday_nine = dt.datetime(2026, 6, 1, 9, 0, 20, tzinfo=dt.UTC)  # 2026-06-01 is a Monday
    assert _sweep(uow, monday_nine - dt.timedelta(minutes=1)) == {}
    assert _sweep(uow, monday_nine) == {"w": 1}
    assert _sweep(uow, monday_nine + dt.timedelta(seconds=30)) == {}  # same minute: no repeat
    assert _enrolled(uow) == [vip]


def test_tags_and_list_sign_ups_through_the_api_start_workflows(api: Api) -> None:
    uow = api.services.uow
    _workflow(uow, "{type: tag_added, tag: vip}", "on-tag")
    _workflow(uow, "{type: list_joined, list: newsletter}", "on-list")
    created = api.client.post(
        "/v1/contacts", json={"identifiers": {"email": "ana@example.com"}}, headers=api.admin
    ).json()
    api.client.post("/v1/lists", json={"slug": "newsletter", "name": "News"}, headers=api.admin)
    contact = created["id"]
    assert api.client.put(f"/v1/contacts/{contact}/tags/vip", headers=api.admin).is_success
    assert api.client.put(f"/v1/contacts/{contact}/lists/newsletter", headers=api.admin).is_success
    with uow.transaction() as session:
        runs = sorted(session.execute(select(Run.workflow_id, Run.contact_id)).all())
    assert runs == [("on-list", contact), ("on-tag", contact)]
