"""One profile per person: resolving identifiers and merging profiles, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lealta.contacts.tables import Contact, ContactTag, Identifier
from lealta.events.tables import Event
from lealta.identity.service import MERGE_EVENT, find_contact, resolve
from lealta.orders.tables import Order
from lealta.storage.unit_of_work import UnitOfWork

T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def test_a_new_identifier_creates_one_contact_and_a_known_one_finds_it(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        first = resolve(session, {"anonymous_id": "anon-1"}, T0)
    with uow.transaction() as session:
        again = resolve(session, {"anonymous_id": "anon-1"}, T0)
        assert again.id == first.id
        assert session.scalar(select(func.count()).select_from(Contact)) == 1


def test_identify_joins_an_anonymous_visitor_to_the_known_person(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        visitor = resolve(session, {"anonymous_id": "anon-1"}, T0)
        session.add(Event(message_id="e1", contact_id=visitor.id, type="page", occurred_at=T0))
    with uow.transaction() as session:
        person = resolve(session, {"anonymous_id": "anon-1", "email": "Ana@Example.com"}, T0)
        assert person.id == visitor.id
        found = find_contact(session, "email", "ana@example.com")
        assert found is not None
        assert found.id == visitor.id


def test_two_profiles_sharing_an_identifier_are_merged_into_the_oldest(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        older = resolve(session, {"anonymous_id": "laptop"}, T0)
        newer = resolve(session, {"email": "ana@example.com"}, T0 + dt.timedelta(days=1))
        older.attributes = {"city": "Sevilla"}
        newer.attributes = {"city": "Madrid", "language": "es"}
        newer.score = 5.0  # stale: the merge recomputes from the united history
        session.add(
            Event(
                message_id="e-new",
                contact_id=newer.id,
                type="track",
                name="Form Submitted",
                occurred_at=T0,
            )
        )
        session.add(ContactTag(contact_id=newer.id, tag="vip"))
        session.add(ContactTag(contact_id=older.id, tag="vip"))
        session.add(ContactTag(contact_id=newer.id, tag="newsletter"))
        session.add(
            Order(external_id="SO-1", contact_id=newer.id, placed_at=T0, amount=Decimal("9.90"))
        )
        older_id, newer_id = older.id, newer.id
    with uow.transaction() as session:
        merged = resolve(
            session,
            {"anonymous_id": "laptop", "email": "ana@example.com"},
            T0 + dt.timedelta(days=2),
        )
        assert merged.id == older_id
        assert merged.attributes == {"city": "Sevilla", "language": "es"}
        assert merged.score == 15.0  # the default model gives a form submission 15 points
        tags = session.execute(select(ContactTag.contact_id, ContactTag.tag)).all()
        assert sorted(tags) == [(older_id, "newsletter"), (older_id, "vip")]
        owners = set(session.scalars(select(Identifier.contact_id)))
        assert owners == {older_id}
        assert session.scalar(select(Order.contact_id)) == older_id
        names = set(session.scalars(select(Event.name).where(Event.contact_id == older_id)))
        assert MERGE_EVENT in names
        gone = session.get(Contact, newer_id)
        assert gone is not None
        assert gone.merged_into == older_id
    with uow.transaction() as session:
        found = find_contact(session, "email", "ana@example.com")
        assert found is not None
        assert found.id == older_id


def test_resolving_needs_an_identifier(uow: UnitOfWork) -> None:
    with pytest.raises(ValueError, match="at least one identifier"), uow.transaction() as session:
        resolve(session, {"email": None}, T0)


def test_concurrent_requests_for_one_new_person_create_one_contact(uow: UnitOfWork) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from lealta.storage.retry import in_transaction

    def identify(i: int) -> str:
        ids = {"anonymous_id": f"device-{i}", "email": "same@example.com"}
        return in_transaction(uow, lambda session: resolve(session, ids, T0).id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(identify, range(16)))
    with uow.transaction() as session:
        live = session.scalars(select(Contact).where(Contact.merged_into.is_(None))).all()
        owners = set(session.scalars(select(Identifier.contact_id)))
    assert len(live) == 1
    assert owners == {live[0].id}
    assert ids == {live[0].id}
