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


class TakesRuns(RecordingChannel):
    """Like the e-mail channel: takes a chunk's messages in one call (``send_many``), each
    with its own outcome; ``die_on_run`` makes the worker die during that run."""

    idempotent = False

    def __init__(self, die_on_run: int = -1) -> None:
        super().__init__("email")
        self.runs: list[list[str]] = []
        self.die_on_run = die_on_run

    def send_many(self, deliveries: Any) -> list[Any]:
        self.runs.append([d.idempotency_key for d in deliveries])
        if len(self.runs) - 1 == self.die_on_run:
            self.send(deliveries[0])  # the first reached the provider
            raise Killed
        results: list[Any] = []
        for delivery in deliveries:
            try:
                results.append(self.send(delivery))
            except Exception as exc:  # the outcome of that one message
                results.append(exc)
        return results


def test_a_channel_that_takes_runs_gets_each_chunk_at_once_with_an_outcome_each(
    box: Outbox,
) -> None:
    people = [box.person(f"p{n}@example.com") for n in range(7)]
    for n, person in enumerate(people):
        box.enqueue(f"k{n}", person, template="bad" if n == 4 else "welcome")
    channel = TakesRuns()
    channel.fail_permanently("bad", "550 no such user")
    channel.fail_transiently(1)  # the first message of the first run
    report = box.dispatch(channels={"email": channel}, chunk=3)
    assert channel.runs == [["k0", "k1", "k2"], ["k3", "k4", "k5"], ["k6"]]
    assert (report.sent, report.retrying, report.failed) == (5, 1, 1)
    assert [box.row(f"k{n}").status for n in range(7)] == (
        ["pending"] + ["sent"] * 3 + ["failed"] + ["sent"] * 2
    )
    assert box.row("k4").error == "550 no such user"
    assert box.row("k1").provider_id == "email-1"


def test_a_rate_limited_channel_is_paced_message_by_message_even_if_it_takes_runs(
    box: Outbox,
) -> None:
    from lealta.channels.pacing import Pacer

    for n in range(4):
        box.enqueue(f"k{n}", box.person(f"p{n}@example.com"))
    channel = TakesRuns()
    waited: list[float] = []
    pacer = Pacer({"email": 2.0}, monotonic=lambda: 0.0, sleep=waited.append)
    report = box.dispatch(channels={"email": channel}, chunk=3, pacer=pacer)
    assert report.sent == 4
    assert channel.runs == []  # one send per message, each paced
    assert len(waited) == 2  # a burst of two, then a wait for each


def test_a_worker_killed_during_a_run_leaves_that_chunk_unknown_and_sends_nothing_twice(
    box: Outbox,
) -> None:
    for n in range(8):
        box.enqueue(f"k{n}", box.person(f"p{n}@example.com"))
    channel = TakesRuns(die_on_run=1)
    with pytest.raises(Killed):
        box.dispatch(channels={"email": channel}, chunk=3)
    assert [box.row(f"k{n}").status for n in range(8)] == ["sent"] * 3 + ["sending"] * 3 + [
        "claimed"
    ] * 2
    box.clock.advance(minutes=10)
    report = box.dispatch(channels={"email": channel}, chunk=3)
    assert (report.sent, report.failed) == (2, 3)
    assert [k for k, times in Counter(channel.keys()).items() if times > 1] == []
    assert sorted(channel.keys()) == ["k0", "k1", "k2", "k3", "k6", "k7"]
