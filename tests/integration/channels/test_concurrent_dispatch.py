"""Several dispatchers at once (as several `lealta worker` processes would run them)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from lealta.channels.dispatcher import dispatch_all
from lealta.channels.tables import OutboxMessage
from lealta.events.tables import Event
from tests.integration.channels.conftest import Outbox

PEOPLE = 10
MESSAGES = 120


def test_parallel_dispatchers_never_deliver_a_key_twice(box: Outbox) -> None:
    people = [box.person(f"p{n}@example.com") for n in range(PEOPLE)]
    for n in range(MESSAGES):
        box.enqueue(f"msg-{n}", people[n % PEOPLE])
    failures: list[BaseException] = []
    start = threading.Barrier(3)

    def worker() -> None:
        try:
            start.wait()
            dispatch_all(box.services, box.channels, batch=7)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    assert box.email.repeats == 0  # no key was handed to the channel twice
    assert sorted(box.email.keys()) == sorted(f"msg-{n}" for n in range(MESSAGES))
    with box.services.uow.transaction() as session:
        statuses = dict(
            session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )
        sent_events = session.scalar(
            select(func.count()).select_from(Event).where(Event.name == "Message Sent")
        )
    assert statuses == {"sent": MESSAGES}
    assert sent_events == MESSAGES
