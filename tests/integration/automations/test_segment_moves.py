"""Segment moves after an RFM recomputation: events, and set-based enrolment."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from lealta.automations import service
from lealta.automations.runner import advance_all
from lealta.automations.sweeps import ENTERED, LEFT, segment_moves
from lealta.automations.tables import Run, RunStep
from lealta.bootstrap import Services
from lealta.channels.tables import OutboxMessage
from lealta.clock import FrozenClock
from lealta.config import Settings
from lealta.events.tables import Event
from lealta.identity.service import resolve
from lealta.messages import service as messages
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
        messages.save(session, "we-miss-you", "email", {"subject": "Hi", "text": "Come back"})
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


PAUSE_FIRST = """
id: pause-first
name: Pause first
trigger: {type: segment_entered, segment: At Risk}
steps:
  - {id: pause, type: wait, duration: 2d}
  - {id: hello, type: send, channel: email, template: we-miss-you}
"""


def test_runs_that_all_start_alike_are_written_started(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        ids = [resolve(session, {"user_id": f"u{i}"}, NOW).id for i in range(3)]
        service.save(session, PAUSE_FIRST, now=NOW)
        messages.save(session, "we-miss-you", "email", {"subject": "Hi", "text": "Come back"})
        service.set_status(session, "pause-first", "active", now=NOW)
    with uow.transaction() as session:
        segment_moves(session, {}, dict.fromkeys(ids, "At Risk"), now=NOW)
    with uow.transaction() as session:
        runs = list(session.scalars(select(Run)))
        logged = session.execute(
            select(RunStep.run_id, RunStep.step_id, RunStep.outcome).order_by(RunStep.id)
        ).all()
    assert {run.status for run in runs} == {"waiting"}
    assert {run.step_id for run in runs} == {"pause"}
    for run in runs:
        assert run.wake_at is not None
        assert run.wake_at.replace(tzinfo=dt.UTC) == NOW + dt.timedelta(days=2)
        assert run.state["run_id"] == run.id
        assert run.state["visits"] == {"pause": 1}
        assert [(s, o) for r, s, o in logged if r == run.id] == [
            ("pause", "entered"),
            ("pause", "waiting"),
        ]
    settings = Settings(_env_file=None, environment="test", secret_key="test-secret")  # type: ignore[call-arg]
    later = Services(settings, uow, FrozenClock(NOW + dt.timedelta(days=2)))
    assert advance_all(later) == 3  # the runner takes them on from there
    with uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 3
        assert set(session.scalars(select(Run.status))) == {"done"}
