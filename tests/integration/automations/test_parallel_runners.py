"""Runners side by side: three threads advance the same runs at once, on SQLite and
PostgreSQL. On PostgreSQL they share the runs (``FOR UPDATE SKIP LOCKED``); on SQLite they take
turns (``BEGIN IMMEDIATE``). Either way every run is advanced once per step, and every message
is written once."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

from sqlalchemy import func, select

from lealta.automations import service
from lealta.automations.runner import advance_due
from lealta.automations.sweeps import enroll_many
from lealta.automations.tables import Run, RunStep
from lealta.automations.triggers import load_live
from lealta.bootstrap import Services
from lealta.channels.tables import OutboxMessage
from lealta.clock import FrozenClock
from lealta.contacts.tables import Contact
from lealta.messages import service as messages
from lealta.storage.unit_of_work import UnitOfWork
from tests.factories.services import services_for

START = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
RUNS = 240
THREADS = 3
WELCOME = """
id: welcome
name: Welcome
trigger: {type: manual}
steps:
  - {id: hello, type: send, channel: email, template: hello}
  - {id: later, type: wait, duration: 1h}
  - {id: tagged, type: tag, add: [welcomed]}
  - {id: reminder, type: send, channel: email, template: reminder}
"""


def _setup(uow: UnitOfWork) -> Services:
    with uow.transaction() as session:
        session.add_all(
            Contact(id=f"{i:032x}", attributes={}, created_at=START, updated_at=START)
            for i in range(RUNS)
        )
        service.save(session, WELCOME, now=START)
        for template in ("hello", "reminder"):
            messages.save(session, template, "email", {"subject": "Hi", "text": "Welcome"})
        service.set_status(session, "welcome", "active", now=START)
    with uow.transaction() as session:
        (live,) = load_live(session)
        ids = [f"{i:032x}" for i in range(RUNS)]
        assert enroll_many(session, live, ids, entry_key="test", now=START) == RUNS
    url = uow.engine.url.render_as_string(hide_password=False)
    return services_for(uow, url, clock=FrozenClock(START), process_in_server=True)


def _race(services: Services) -> list[int]:
    """Three threads advancing small batches until nothing is due; the runs each took."""
    taken = [0] * THREADS
    failures: list[BaseException] = []
    ready = threading.Barrier(THREADS)

    def work(index: int) -> None:
        try:
            ready.wait()
            while count := advance_due(services, limit=7):
                taken[index] += count
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    return taken


def test_three_runners_advance_every_run_once_and_write_every_message_once(
    uow: UnitOfWork,
) -> None:
    services = _setup(uow)

    first = _race(services)
    assert sum(first) == RUNS  # no run was taken by two runners

    clock = services.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(hours=1)
    second = _race(services)
    assert sum(second) == RUNS

    with uow.transaction() as session:
        statuses = Counter(session.scalars(select(Run.status)))
        keys = Counter(session.scalars(select(OutboxMessage.idempotency_key)))
        templates = Counter(session.scalars(select(OutboxMessage.template)))
        steps = Counter(
            session.execute(select(RunStep.run_id, RunStep.step_id, RunStep.outcome)).all()
        )
        run_ids = set(session.scalars(select(Run.id)))
        tagged = session.scalar(select(func.count()).where(RunStep.outcome == "tagged"))
    assert statuses == {"done": RUNS}
    assert templates == {"hello": RUNS, "reminder": RUNS}
    expected_keys = {f"{run}:hello:1" for run in run_ids} | {f"{run}:reminder:1" for run in run_ids}
    assert set(keys) == expected_keys
    assert set(keys.values()) == {1}
    duplicated = [entry for entry, count in steps.items() if count > 1]
    assert duplicated == []
    # each run: hello (entered, sent), later (entered, waiting, waited), tagged (entered,
    # tagged), reminder (entered, sent)
    assert len(steps) == RUNS * 9
    assert tagged == RUNS
