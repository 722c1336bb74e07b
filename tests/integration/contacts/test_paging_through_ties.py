"""Cursors that seek: pages of the timeline and of orders walk through entries that share a
time exactly as the whole list orders them, and segment moves keep to their exact names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from lealta.automations.sweeps import ENTERED, LEFT
from lealta.contacts import history, timeline
from lealta.contacts.schemas import TimelineEntry
from lealta.contacts.tables import Contact
from lealta.events.tables import Event
from lealta.identity.service import resolve
from lealta.orders.tables import Order
from lealta.storage.unit_of_work import UnitOfWork

NOW = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
TIE = NOW - dt.timedelta(days=2)  # many entries at this very moment


def _person_with_ties(uow: UnitOfWork) -> str:
    """A person with seven events and three orders at ``TIE``, and one of each an hour either
    side, so a page of two or three ends inside the tie."""
    with uow.transaction() as session:
        contact = resolve(session, {"user_id": "tied"}, NOW - dt.timedelta(days=9))
        times = [TIE - dt.timedelta(hours=1)] + [TIE] * 7 + [TIE + dt.timedelta(hours=1)]
        session.add_all(
            Event(
                message_id=f"tie-{n}",
                contact_id=contact.id,
                type="track",
                name=f"Viewed {n}",
                occurred_at=at,
            )
            for n, at in enumerate(times)
        )
        session.add_all(
            Order(
                external_id=f"o-{n}",
                contact_id=contact.id,
                placed_at=at,
                amount=Decimal(10 + n),
            )
            for n, at in enumerate([TIE - dt.timedelta(hours=1), TIE, TIE, TIE])
        )
        return contact.id


def test_timeline_pages_walk_through_ties_as_the_whole_list_does(uow: UnitOfWork) -> None:
    contact_id = _person_with_ties(uow)
    with uow.transaction() as session:
        contact = session.get_one(Contact, contact_id)
        everything = timeline.timeline(session, contact, now=NOW, limit=100).entries
        for size in (1, 2, 3):
            collected: list[TimelineEntry] = []
            before: str | None = None
            for _ in range(40):
                page = timeline.timeline(session, contact, now=NOW, limit=size, before=before)
                collected += page.entries
                before = page.next_before
                if before is None:
                    break
            assert collected == everything, size
    at_tie = [e for e in everything if e.at.replace(tzinfo=dt.UTC) == TIE]
    assert [e.kind for e in at_tie] == ["order"] * 3 + ["event"] * 7
    assert [e.details["name"] for e in at_tie[3:]] == [f"Viewed {n}" for n in range(7, 0, -1)]


def test_order_pages_walk_through_ties_newest_id_first(uow: UnitOfWork) -> None:
    contact_id = _person_with_ties(uow)
    with uow.transaction() as session:
        collected: list[str] = []
        before: str | None = None
        for _ in range(10):
            page = history.orders(session, [contact_id], limit=1, before=before)
            collected += [line.order_id for line in page.rows]
            before = page.next
            if before is None:
                break
    assert collected == ["o-3", "o-2", "o-1", "o-0"]


def test_segment_moves_keep_to_the_exact_names(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        contact = resolve(session, {"user_id": "mover"}, NOW - dt.timedelta(days=9))
        moves = [
            (ENTERED, {"segment": "Loyal", "from": None}, 5),
            (ENTERED.lower(), {"segment": "Spelled Otherwise", "from": "Loyal"}, 4),
            (ENTERED, {"segment": "At Risk", "from": "Loyal"}, 3),
            (LEFT, {"segment": "Loyal", "to": None}, 3),  # a tie: the later row comes first
            (LEFT.upper(), {"segment": "At Risk", "to": None}, 2),
            (LEFT, {"segment": "At Risk", "to": None}, 1),
        ]
        session.add_all(
            Event(
                message_id=f"move-{n}",
                contact_id=contact.id,
                type="track",
                name=name,
                properties=properties,
                occurred_at=NOW - dt.timedelta(days=days),
            )
            for n, (name, properties, days) in enumerate(moves)
        )
        session.flush()
        found = history.segment_moves(session, [contact.id])
    assert [(m.from_segment, m.to_segment) for m in found] == [
        ("At Risk", None),
        ("Loyal", None),
        ("Loyal", "At Risk"),
        (None, "Loyal"),
    ]
