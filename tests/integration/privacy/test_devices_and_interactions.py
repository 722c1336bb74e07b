"""Push devices and what people did with messages, through a merge and an erasure (the
registry's channel rows), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from lealta.channels.tables import MessageInteraction, PushDevice
from lealta.identity.service import resolve
from lealta.privacy.erase import erase_contact
from lealta.storage.unit_of_work import UnitOfWork
from tests.factories import contacts, outbox

T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def test_devices_and_clicks_follow_a_merge_then_erasure_drops_what_reaches_the_person(
    uow: UnitOfWork,
) -> None:
    with uow.transaction() as session:
        older = contacts.person(session, T0, anonymous_id="laptop")
        newer = contacts.person(session, T0 + dt.timedelta(days=1), email="ana@example.com")
        sent = outbox.sent(session, newer.id, at=T0, template="hello")
        session.add(PushDevice(contact_id=newer.id, kind="fcm", token="t", token_hash="h"))
        session.flush()
        session.add(
            MessageInteraction(
                outbox_id=sent.id,
                contact_id=newer.id,
                kind="clicked",
                at=T0,
                url="https://shop.example/?ana",
                details={"ip": "203.0.113.7"},
            )
        )
        older_id = older.id
    with uow.transaction() as session:
        resolve(session, {"anonymous_id": "laptop", "email": "ana@example.com"}, T0)
        assert set(session.scalars(select(PushDevice.contact_id))) == {older_id}
        assert set(session.scalars(select(MessageInteraction.contact_id))) == {older_id}
    with uow.transaction() as session:
        erase_contact(session, older_id, now=T0 + dt.timedelta(days=3))
    with uow.transaction() as session:
        assert session.scalars(select(PushDevice)).all() == []
        click = session.scalars(select(MessageInteraction)).one()
        assert (click.kind, click.url, click.details) == ("clicked", None, {})
