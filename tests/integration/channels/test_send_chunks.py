"""Messages are marked ``sending`` a chunk per commit: a worker that dies between marking a
chunk and recording its outcomes leaves exactly that chunk as attempted with an unknown
outcome, never sent again; the rest go out once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from lealta.channels.tables import OutboxMessage
from lealta.channels.testing import RecordingChannel
from lealta.events.tables import Event
from tests.integration.channels.conftest import Outbox


class Killed(BaseException):
    """The process dying: nothing after it runs (not an error a channel reports)."""


class DiesMidChunk(RecordingChannel):
    """Like SMTP (a repeated key would arrive twice); the worker dies during the fifth send."""

    idempotent = False

    def __init__(self) -> None:
        super().__init__("email")
        self.dead = False

    def send(self, delivery: Any) -> str:
        if self.calls == 4 and not self.dead:
            self.dead = True
            raise Killed
        return super().send(delivery)


def test_a_worker_killed_mid_chunk_leaves_that_chunk_unknown_and_sends_nothing_twice(
    box: Outbox,
) -> None:
    people = [box.person(f"p{n}@example.com") for n in range(8)]
    for n, person in enumerate(people):
        box.enqueue(f"k{n}", person)
    channel = DiesMidChunk()
    with pytest.raises(Killed):
        box.dispatch(channels={"email": channel}, chunk=3)
    # The first chunk was recorded with the second chunk's start; the second chunk is marked
    # sending (k3 reached the provider, k4 may have, k5 did not); the third is only claimed.
    assert [box.row(f"k{n}").status for n in range(8)] == ["sent"] * 3 + ["sending"] * 3 + [
        "claimed"
    ] * 2
    box.clock.advance(minutes=10)  # the dead worker's lease runs out
    report = box.dispatch(channels={"email": channel}, chunk=3)
    assert (report.sent, report.failed) == (2, 3)
    assert [n for n, times in Counter(channel.keys()).items() if times > 1] == []
    assert sorted(channel.keys()) == ["k0", "k1", "k2", "k3", "k6", "k7"]
    unknown = [box.row(f"k{n}") for n in (3, 4, 5)]
    assert {row.status for row in unknown} == {"failed"}
    assert all(str(row.error).startswith("interrupted while being sent") for row in unknown)
    assert all(row.attempts == 1 for row in unknown)
    with box.services.uow.transaction() as session:
        events = Counter(
            session.scalars(select(Event.name).where(Event.name.like("Message %"))).all()
        )
        rows = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert events == {"Message Sent": 5, "Message Failed": 3}
    assert rows == 8


def test_chunks_record_every_outcome_once_with_its_event(box: Outbox) -> None:
    people = [box.person(f"p{n}@example.com") for n in range(7)]
    for n, person in enumerate(people):
        box.enqueue(f"k{n}", person, template="news" if n != 4 else "broken")
    box.email.fail_permanently("broken")
    report = box.dispatch(chunk=2)
    assert (report.claimed, report.sent, report.failed) == (7, 6, 1)
    assert [box.row(f"k{n}").attempts for n in range(7)] == [1] * 7
    assert [name for name, _ in box.events(people[4])] == ["Message Failed"]
    assert [name for name, _ in box.events(people[0])] == ["Message Sent"]
