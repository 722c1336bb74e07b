"""Refreshing audiences set-wise (SQLite and PostgreSQL): members follow the store, each move
is one event, a repeated refresh changes nothing, windows expire as the clock moves, erased
people leave silently, the list follows, and sizes are kept per day."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from lealta.audiences import members, service
from lealta.audiences.membership import ENTERED, EXITED, refresh
from lealta.audiences.sizes import history
from lealta.audiences.tables import Audience
from lealta.contacts.tables import Contact, ContactList, ListMembership
from lealta.storage.unit_of_work import UnitOfWork
from tests.integration.audiences.helpers import (
    NOW,
    add_contacts,
    events_named,
    tag,
    track,
    untag,
)

VIPS = "name: VIPs\ncondition: {kind: tag, tag: vip}\n"


def _save(uow: UnitOfWork, text: str) -> int:
    with uow.transaction() as session:
        return service.save(session, text, now=NOW).audience.id


def _refresh(uow: UnitOfWork, audience_id: int, now: dt.datetime = NOW) -> tuple[int, int, int]:
    with uow.transaction() as session:
        audience = session.get(Audience, audience_id)
        assert audience is not None
        done = refresh(session, audience, now=now)
        return done.size, done.entered, done.exited


def _members(uow: UnitOfWork, audience_id: int) -> set[str]:
    with uow.transaction() as session:
        audience = service.get(session, audience_id)
        return {m.contact_id for m in members.page(session, audience, limit=500)}


def test_members_follow_the_store_with_one_event_per_move(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        ana, ben, cruz = add_contacts(session, 3)
        tag(session, ana, "vip")
        tag(session, ben, "vip")
    vips = _save(uow, VIPS)
    assert _refresh(uow, vips) == (2, 2, 0)
    assert _members(uow, vips) == {ana, ben}
    assert _refresh(uow, vips) == (2, 0, 0)  # nothing changed: no row, no event
    with uow.transaction() as session:
        untag(session, ben, "vip")
        tag(session, cruz, "vip")
    assert _refresh(uow, vips) == (2, 1, 1)
    assert _refresh(uow, vips) == (2, 0, 0)
    assert _members(uow, vips) == {ana, cruz}
    with uow.transaction() as session:
        wanted = {"audience": "VIPs", "audience_id": vips}
        assert events_named(session, ENTERED) == [(ana, wanted), (ben, wanted), (cruz, wanted)]
        assert events_named(session, EXITED) == [(ben, wanted)]
        assert [
            (d.size, d.entered, d.exited)
            for d in history(session, service.get(session, vips), today=NOW.date())
        ] == [(2, 3, 1)]


def test_a_window_expires_when_the_clock_moves_past_it(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        ana, ben = add_contacts(session, 2)
        track(session, ana, "Product Viewed", NOW - dt.timedelta(days=3), category="shoes")
        track(session, ben, "Product Viewed", NOW - dt.timedelta(days=3), category="hats")
    lookers = _save(
        uow,
        """
name: Shoe lookers
condition:
  kind: event_count
  event: Product Viewed
  within_days: 7
  where: [{property: category, op: equals, value: shoes}]
""",
    )
    assert _refresh(uow, lookers) == (1, 1, 0)
    later = NOW + dt.timedelta(days=4, hours=1)  # the view is now 7 days and 1 hour old
    assert _refresh(uow, lookers, later) == (0, 0, 1)
    with uow.transaction() as session:
        assert [cid for cid, _ in events_named(session, EXITED)] == [ana]
        days = history(session, service.get(session, lookers), today=later.date())
        assert [(d.day, d.size) for d in days] == [(NOW.date(), 1), (later.date(), 0)]


def test_erased_and_merged_people_leave_without_an_event(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        ana, ben, cruz = add_contacts(session, 3)
        for cid in (ana, ben, cruz):
            tag(session, cid, "vip")
    vips = _save(uow, VIPS)
    assert _refresh(uow, vips) == (3, 3, 0)
    with uow.transaction() as session:
        erased = session.get(Contact, ana)
        merged = session.get(Contact, ben)
        assert erased is not None
        assert merged is not None
        erased.erased_at = NOW
        merged.merged_into = cruz
    assert _refresh(uow, vips) == (1, 0, 2)
    with uow.transaction() as session:
        assert events_named(session, EXITED) == []


def test_the_list_follows_the_members_but_keeps_who_left_it(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        ana, ben, cruz = add_contacts(session, 3)
        for cid in (ana, ben, cruz):
            tag(session, cid, "vip")
        session.add(ContactList(slug="vip-list", name="VIP list", created_at=NOW))
        session.flush()
        listed = session.scalar(select(ContactList.id).where(ContactList.slug == "vip-list"))
        session.add(  # cruz left the list before: the audience does not put them back
            ListMembership(
                list_id=listed,
                contact_id=cruz,
                status="unsubscribed",
                source="form",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    vips = _save(uow, VIPS + "list: vip-list\n")
    _refresh(uow, vips)

    def on_list() -> dict[str, str]:
        with uow.transaction() as session:
            rows = session.execute(select(ListMembership.contact_id, ListMembership.status))
            return {str(cid): status for cid, status in rows}

    assert on_list() == {ana: "subscribed", ben: "subscribed", cruz: "unsubscribed"}
    with uow.transaction() as session:
        untag(session, ana, "vip")
        untag(session, cruz, "vip")
    _refresh(uow, vips)
    assert on_list() == {ben: "subscribed", cruz: "unsubscribed"}


def test_an_audience_of_an_audience_reads_the_members(uow: UnitOfWork) -> None:
    from lealta.audiences.schedule import ordered

    with uow.transaction() as session:
        ana, ben = add_contacts(session, 2)
        tag(session, ana, "vip")
        tag(session, ben, "vip")
        tag(session, ben, "berlin")
    vips = _save(uow, VIPS)
    berlin = _save(
        uow,
        "name: Berlin VIPs\ncondition: {kind: all, conditions: "
        "[{kind: audience, audience: VIPs}, {kind: tag, tag: berlin}]}\n",
    )
    with uow.transaction() as session:
        names = [a.name for a in ordered(reversed(service.list_(session)))]
        assert names == ["VIPs", "Berlin VIPs"]
    assert _refresh(uow, berlin) == (0, 0, 0)  # VIPs not refreshed yet: nobody in it
    _refresh(uow, vips)
    assert _refresh(uow, berlin) == (1, 1, 0)
    assert _members(uow, berlin) == {ben}
