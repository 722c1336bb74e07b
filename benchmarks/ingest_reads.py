"""What an index of ``events`` is worth to its readers: one heavy contact's reads, timed, with
all the indexes or with ``--drop`` ones dropped.

Dropping an index keyed by contact makes the tracking processor cheaper (each event writes an
entry in a random place of it), but the reads by contact then go another way. This script
builds a fresh database with the migrations (SQLite, or PostgreSQL with ``--database
postgresql``), one contact with ``--heavy`` events over a year (five names, a fifth of them
pages) among ``--others`` events of 5,000 other contacts, then runs each reader ``--repeat``
times and prints its best and median milliseconds and the plan of its statements on
``events`` (``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN ANALYZE`` on PostgreSQL).

The readers are the code's own where it has a function (the contact timeline's first page,
its next page through the cursor, the page after a cursor half-way down the history, its
``event`` kind; the profile's segment moves; the count
and path triggers the processor checks on an event; the erasure count) and otherwise the
statement it runs (soft bounces in a window, the scoring refold's history).

    python benchmarks/ingest_reads.py
    python benchmarks/ingest_reads.py --drop ix_events_contact_time
    python benchmarks/ingest_reads.py --database postgresql --drop ix_events_contact_time
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import Connection, Engine, Table, event, func, select, text
from sqlalchemy.orm import Session

from ingest import POSTGRES_URL
from lealta.automations.triggers import Triggers
from lealta.bootstrap import build
from lealta.config import Settings
from lealta.contacts import history, timeline
from lealta.contacts.tables import Contact
from lealta.events.tables import Event
from lealta.persons.rows import count
from lealta.scoring.rules import ScoringEvent
from lealta.storage.bulk import insert_columns
from scratch import scratch_database

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)  # the data's "now": nothing reads the clock
AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)  # the event the triggers are checked for
HEAVY_ID = "c" + "0" * 31
NAMES = ("Product Viewed", "Added To Cart", "Checkout Started", "Email Opened", None)
CHUNK = 50_000


def _rows(start: int, stop: int, heavy: int) -> dict[str, list[Any]]:
    """Event rows ``start``..``stop``: the first ``heavy`` of all are the heavy contact's."""
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "message_id",
            "contact_id",
            "anonymous_id",
            "type",
            "name",
            "properties",
            "context",
            "occurred_at",
            "received_at",
        )
    }
    for i in range(start, stop):
        name = NAMES[i % len(NAMES)]
        columns["message_id"].append(str(uuid.UUID(int=i + 1)))
        columns["contact_id"].append(HEAVY_ID if i < heavy else f"c{1 + i % 5000:031d}")
        columns["anonymous_id"].append(f"visitor-{i % 5000}")
        columns["type"].append("page" if name is None else "track")
        columns["name"].append(name)
        columns["properties"].append({"path": f"/p/{i % 7}"})
        columns["context"].append({})
        columns["occurred_at"].append(NOW - dt.timedelta(seconds=(i * 631) % (365 * 86400)))
        columns["received_at"].append(NOW)
    return columns


def fill(engine: Engine, heavy: int, others: int) -> None:
    """The heavy contact and every event, then fresh statistics for the planner."""
    with Session(engine) as session, session.begin():
        session.add(Contact(id=HEAVY_ID, created_at=NOW, updated_at=NOW))
    table = cast(Table, Event.__table__)
    total = heavy + others
    with engine.begin() as connection:
        for start in range(0, total, CHUNK):
            insert_columns(connection, table, _rows(start, min(total, start + CHUNK), heavy))
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def _middle_cursor(session: Session) -> str:
    """The timeline cursor at the heavy contact's middle event: the page after it starts
    half-way down their history (a cursor that cannot seek reads the newer half first)."""
    count_of = session.scalar(select(func.count()).where(Event.contact_id == HEAVY_ID)) or 0
    at, row_id = session.execute(
        select(Event.occurred_at, Event.id)
        .where(Event.contact_id == HEAVY_ID)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .offset(count_of // 2)
        .limit(1)
    ).one()
    return timeline.format_cursor(timeline.Cursor(at, "event", row_id))


def readers(session: Session) -> dict[str, Callable[[], object]]:
    """Each reader of the heavy contact's events, ready to run."""
    contact = session.get(Contact, HEAVY_ID)
    assert contact is not None
    first = timeline.timeline(session, contact, now=NOW, limit=50)
    middle = _middle_cursor(session)
    triggers = Triggers(session, [], now=NOW)
    page = ScoringEvent("probe", AT, "page", None, {"path": "/p/3"})
    viewed = ScoringEvent("probe", AT, "track", "Product Viewed", {})
    return {
        "timeline, first page": lambda: timeline.timeline(session, contact, now=NOW, limit=50),
        "timeline, next page": lambda: timeline.timeline(
            session, contact, now=NOW, limit=50, before=first.next_before
        ),
        "timeline, middle page": lambda: timeline.timeline(
            session, contact, now=NOW, limit=50, before=middle
        ),
        "timeline events, middle": lambda: timeline._events(
            session, [HEAVY_ID], timeline.parse_before(middle), 51
        ),
        "timeline, kind=event": lambda: timeline.timeline(
            session, contact, now=NOW, limit=50, kind="event"
        ),
        "profile: segment moves": lambda: history.segment_moves(session, [HEAVY_ID]),
        "path trigger (30 min)": lambda: triggers._path_done(HEAVY_ID, page, ["/p/*"], 30),
        "count trigger (7 days)": lambda: triggers._count(HEAVY_ID, "product viewed", viewed, 7),
        "soft bounces (7 days)": lambda: session.scalars(
            select(Event.properties).where(
                Event.contact_id == HEAVY_ID,
                Event.name == "Email Bounced",
                Event.occurred_at > AT - dt.timedelta(days=7),
                Event.occurred_at <= AT,
            )
        ).all(),
        "erasure count": lambda: count(session, Event, [HEAVY_ID]),
        "scoring refold's history": lambda: session.execute(
            select(Event.message_id, Event.occurred_at, Event.type, Event.name).where(
                Event.contact_id == HEAVY_ID
            )
        ).all(),
    }


@contextmanager
def statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The statements on ``events`` run inside the block, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if " events" in sql and not sql.startswith("EXPLAIN"):
            seen.append((sql, params))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def plan(connection: Connection, sql: str, params: Any) -> list[str]:
    """The plan of one statement, a line per step."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
        return [str(row[-1]) for row in rows]
    rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}", params).all()
    return [str(row[0]) for row in rows if not str(row[0]).startswith("Planning")]


def run(url: str, args: argparse.Namespace) -> None:
    settings = Settings(database_url=url, environment="test", secret_key="benchmark-secret")
    services = build(settings)
    engine = services.uow.engine
    fill(engine, args.heavy, args.others)
    with engine.begin() as connection:
        for index in args.drop:
            connection.execute(text(f"DROP INDEX {index}"))  # a name given on the command line
    dropped = ", ".join(args.drop) or "none"
    print(f"{engine.dialect.name}: {args.heavy:,} events of one contact among {args.others:,}")
    print(f"indexes dropped: {dropped}\n")
    with Session(engine) as session:
        for name, read in readers(session).items():
            with statements(engine) as seen:
                read()
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                read()
                times.append((time.perf_counter() - started) * 1000)
            best, middle = min(times), statistics.median(times)
            print(f"{name:28s} best {best:9.2f} ms   median {middle:9.2f} ms")
            if args.plans:
                connection = session.connection()
                for sql, params in seen:
                    for line in plan(connection, sql, params):
                        print(f"    {line}")
    engine.dispose()
    if services.inbox is not services.uow:
        services.inbox.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--heavy", type=int, default=50_000, help="the heavy contact's events")
    parser.add_argument("--others", type=int, default=300_000, help="other contacts' events")
    parser.add_argument("--drop", action="append", default=[], help="an index to drop first")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each reader")
    parser.add_argument("--no-plans", dest="plans", action="store_false")
    args = parser.parse_args()
    with scratch_database(args.database, args.postgres_url, prefix="lealta_reads") as url:
        run(url, args)


if __name__ == "__main__":
    main()
