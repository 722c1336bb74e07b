"""A new audience over a shop's contacts and events: the set-wise refresh beside the floor
(the same people found by one bare SQL query, nothing written), and the counts the builder
asks for (the estimate on a slice of the contacts, the exact count, the funnel).

    .venv/bin/python benchmarks/audiences.py sqlite 100_000 1_000_000
    .venv/bin/python benchmarks/audiences.py \
        postgresql+psycopg://postgres@127.0.0.1/postgres 1e6 1e7

Each contact has on average EVENTS/CONTACTS ``Product Viewed`` events spread over the last
60 days, a third of them in category ``shoes``; 5 % carry the tag ``no-marketing``. The
audience: viewed shoes at least 3 times in the last 14 days, without the tag. The database is
built once per size and reused. The first refresh lets everyone in (one ``Audience Entered``
event each, which is written); the second finds no change.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from lealta.audiences import counting, service
from lealta.audiences.definition import load_condition
from lealta.audiences.membership import refresh
from lealta.contacts.tables import Contact, ContactTag
from lealta.events.tables import Event
from lealta.storage.engine import make_engine
from lealta.storage.migrate import upgrade
from lealta.storage.unit_of_work import UnitOfWork

BATCH = 50_000
NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)  # the data's own clock, fixed
AUDIENCE = """
name: Shoe lookers
condition:
  kind: all
  conditions:
    - {kind: event_count, event: Product Viewed, within_days: 14, gte: 3,
       where: [{property: category, op: equals, value: shoes}]}
    - {kind: tag, tag: no-marketing, present: false}
"""


def _number(text_: str) -> int:
    return int(float(text_.replace("_", "").replace(",", "")))


def _database(target: str, contacts: int, events: int) -> tuple[str, bool]:
    """The database's URL, and whether it must be filled."""
    if target == "sqlite":
        path = Path("/tmp") / f"lealta-audiences-bench-{contacts}-{events}.db"
        return f"sqlite:///{path}", not path.exists()
    name = f"lealta_audiences_bench_{contacts}_{events}"
    admin = create_engine(target, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        there = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not there:
            connection.execute(text(f'CREATE DATABASE "{name}"'))  # generated name
    admin.dispose()
    url = make_url(target).set(database=name).render_as_string(hide_password=False)
    return url, not there


def _fill(uow: UnitOfWork, contacts: int, events: int) -> None:
    rng = random.Random(7)
    ids = [f"{rng.getrandbits(128):032x}" for _ in range(contacts)]
    with uow.transaction() as session:
        for start in range(0, contacts, BATCH):
            session.execute(
                insert(Contact),
                [
                    {"id": cid, "created_at": NOW, "updated_at": NOW, "attributes": {}}
                    for cid in ids[start : start + BATCH]
                ],
            )
        session.execute(
            insert(ContactTag),
            [{"contact_id": cid, "tag": "no-marketing", "created_at": NOW} for cid in ids[::20]],
        )
    number = 0
    while number < events:
        rows = []
        for _ in range(min(BATCH, events - number)):
            at = NOW - dt.timedelta(seconds=rng.randrange(60 * 86400))
            category = "shoes" if rng.random() < 1 / 3 else "hats"
            rows.append(
                {
                    "message_id": f"bench-{number}",
                    "contact_id": ids[rng.randrange(contacts)],
                    "type": "track",
                    "name": "Product Viewed",
                    "properties": {"category": category},
                    "context": {},
                    "occurred_at": at,
                    "received_at": at,
                }
            )
            number += 1
        with uow.transaction() as session:
            session.execute(insert(Event), rows)
        print(f"  {number:,} events", file=sys.stderr, end="\r")
    if uow.engine.dialect.name == "postgresql":
        with uow.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    else:
        with uow.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


def _floor(uow: UnitOfWork) -> int:
    """The same people by one hand-written query: grouped events, minus the tagged."""
    since = NOW - dt.timedelta(days=14)
    viewed = (
        select(Event.contact_id)
        .where(
            func.lower(Event.name) == "product viewed",
            Event.occurred_at > since,
            Event.occurred_at <= NOW,
            Event.properties["category"].as_string() == "shoes",
        )
        .group_by(Event.contact_id)
        .having(func.count() >= 3)
        .subquery()
    )
    tagged = select(ContactTag.contact_id).where(ContactTag.tag == "no-marketing")
    query = select(func.count()).select_from(viewed).where(viewed.c.contact_id.not_in(tagged))
    with uow.transaction() as session:
        return int(session.scalar(query) or 0)


def _timed(what: str, work: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = work()
    print(f"{what:<38} {time.perf_counter() - started:8.2f} s   {result}")
    return result


def main(argv: list[str]) -> None:
    target = argv[0] if argv else "sqlite"
    contacts = _number(argv[1]) if len(argv) > 1 else 100_000
    events = _number(argv[2]) if len(argv) > 2 else 10 * contacts
    url, empty = _database(target, contacts, events)
    upgrade(url)
    uow = UnitOfWork(make_engine(url))
    if empty:
        print(f"filling {contacts:,} contacts and {events:,} events …", file=sys.stderr)
        _fill(uow, contacts, events)
    with uow.transaction() as session:
        found = service.get(session, "Shoe lookers") if service.list_(session) else None
        if found is not None:  # a previous run's audience: start from an empty one
            service.delete_(session, found)
        audience_id = service.save(session, AUDIENCE, now=NOW).audience.id
    condition = load_condition(service_condition(uow, audience_id))
    print(f"{uow.engine.dialect.name}: {contacts:,} contacts, {events:,} events")
    floor = _timed("floor: one bare SQL count", lambda: _floor(uow))

    def counted(work: Callable[[Any], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with uow.transaction() as session:
                return work(session)

        return run

    guess = _timed(
        "estimate (a slice of ~10,000 contacts)",
        counted(lambda s: counting.estimate(s, condition, now=NOW)),
    )
    exact = _timed("exact count", counted(lambda s: counting.count(s, condition, now=NOW)))
    _timed(
        "funnel (2 steps)",
        counted(lambda s: [step.left for step in counting.funnel(s, condition, now=NOW)]),
    )

    def refreshed(session: Any) -> str:
        done = refresh(session, service.get(session, audience_id), now=NOW)
        return f"size {done.size:,}, entered {done.entered:,}, exited {done.exited:,}"

    _timed("first refresh (everyone enters)", counted(refreshed))
    _timed("second refresh (no change)", counted(refreshed))
    _batches(uow)
    assert exact == floor, (exact, floor)
    print(f"estimate {guess.count:,} ± {guess.margin:,} for an exact {exact:,}")
    uow.engine.dispose()


def _batches(uow: UnitOfWork, size: int = 500, rounds: int = 20) -> None:
    """What the tracking processor adds to a batch of ``size`` people (the live path:
    :func:`lealta.audiences.live.follow`), members already up to date; p50 and p95."""
    from lealta.audiences.live import follow

    rng = random.Random(3)
    with uow.transaction() as session:
        ids = list(session.scalars(select(Contact.id)))
    took = []
    for _ in range(rounds):
        people = rng.sample(ids, size)
        started = time.perf_counter()
        with uow.transaction() as session:
            follow(session, people, now=NOW)
        took.append(time.perf_counter() - started)
    took.sort()
    p50, p95 = took[len(took) // 2], took[int(len(took) * 0.95) - 1]
    print(
        f"{f'live: a batch of {size} people':<38} p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
    )


def service_condition(uow: UnitOfWork, audience_id: int) -> dict[str, Any]:
    with uow.transaction() as session:
        return dict(service.get(session, audience_id).condition)


if __name__ == "__main__":
    main(sys.argv[1:])
