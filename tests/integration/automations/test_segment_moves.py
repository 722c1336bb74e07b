"""Segment moves after an RFM recomputation: events, and set-based enrolment."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from lealta.automations import service
from lealta.automations.sweeps import ENTERED, LEFT, segment_moves
from lealta.automations.tables import Run
from lealta.events.tables import Event
from lealta.identity.service import resolve
from lealta.storage.unit_of_work import UnitOfWork

NOW = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
WIN_BACK = """
id: win-back
name: Win back
trigger: {type: segment_entered, segment: At Risk, from_segments: [Champions, Loyal]}
steps:
  - {id: hello, type: send, channel: email, template: we-miss-you}
"""


def test_moves_become_events_and_enrol_only_the_matching_movers(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        ids = [resolve(session, {"user_id": f"u{i}"}, NOW).id for i in range(5)]
        service.save(session, WIN_BACK, now=NOW)
        service.set_status(session, "win-back", "active", now=NOW)
    before = {ids[0]: "Champions", ids[1]: "Loyal", ids[2]: "Promising", ids[3]: "At Risk"}
    after = {ids[0]: "At Risk", ids[1]: "At Risk", ids[2]: "At Risk", ids[3]: "At Risk"}
    after[ids[4]] = "New Customers"
    with uow.transaction() as session:
        report = segment_moves(session, before, after, now=NOW)
    assert report == {"moves": 4 + 3, "win-back": 2}
    with uow.transaction() as session:
        enrolled = set(session.scalars(select(Run.contact_id)))
        entered = session.scalar(select(func.count()).where(Event.name == ENTERED))
        left = session.scalar(select(func.count()).where(Event.name == LEFT))
    assert enrolled == {ids[0], ids[1]}
    assert (entered, left) == (4, 3)
    with uow.transaction() as session:  # the same recomputation replayed: nothing new
        assert segment_moves(session, before, after, now=NOW)["win-back"] == 0
        assert session.scalar(select(func.count()).select_from(Run)) == 2
        assert session.scalar(select(func.count()).where(Event.name == ENTERED)) == 4
