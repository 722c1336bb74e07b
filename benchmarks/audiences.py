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

``--live`` measures the live path end to end instead (see :func:`live`)::

    .venv/bin/python benchmarks/audiences.py --live sqlite 1000 30
    .venv/bin/python benchmarks/audiences.py --live \
        postgresql+psycopg://postgres@127.0.0.1/postgres 1000 30
"""

from __future__ import annotations

import datetime as dt
import json
import os
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
from lealta.audiences.schedule import ordered
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
    if uow.engine.dialect.name == "postgresql":
        _fill_events_in_sql(uow, contacts, events)
    number = 0 if uow.engine.dialect.name != "postgresql" else events
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


def _fill_events_in_sql(uow: UnitOfWork, contacts: int, events: int) -> None:
    """The same events written by PostgreSQL itself (generate_series: minutes, not an hour,
    for ten million); same shape, other random draws."""
    with uow.engine.begin() as connection:
        connection.exec_driver_sql("SELECT setseed(0.7)")
        connection.exec_driver_sql(
            "CREATE TEMP TABLE bench_ids AS"
            " SELECT (row_number() OVER (ORDER BY id) - 1)::bigint AS n, id FROM contacts"
        )
        connection.exec_driver_sql("CREATE INDEX ON bench_ids (n)")
        for start in range(0, events, 1_000_000):
            connection.execute(
                text(
                    "INSERT INTO events (message_id, contact_id, type, name, properties, context,"
                    " occurred_at, received_at)"
                    " SELECT 'bench-' || g, b.id, 'track', 'Product Viewed',"
                    " jsonb_build_object('category',"
                    "   CASE WHEN random() < 1.0 / 3 THEN 'shoes' ELSE 'hats' END),"
                    " '{}', s.at, s.at"
                    " FROM (SELECT g, floor(random() * :contacts)::bigint AS n,"
                    "   CAST(:now AS timestamptz) - random() * interval '60 days' AS at"
                    "   FROM generate_series(:start, :stop) g) s JOIN bench_ids b USING (n)"
                ),
                {
                    "contacts": contacts,
                    "now": NOW,
                    "start": start,
                    "stop": min(events, start + 1_000_000) - 1,
                },
            )
            print(f"  {min(events, start + 1_000_000):,} events", file=sys.stderr, end="\r")


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


SERVER: list[str] = []  # the PostgreSQL database whose backends' CPU is counted (see main)


def _server_cpu() -> float:
    """CPU seconds used so far by this machine's PostgreSQL backends of the benchmark's
    database (their process titles name it); 0 on SQLite, which runs in this process."""
    if not SERVER:
        return 0.0
    ticks = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if f" {SERVER[0]} ".encode() not in cmdline.read_bytes():
                continue
            fields = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _timed(what: str, work: Callable[[], Any]) -> Any:
    """Runs ``work``; prints the wall time and the CPU time (this process and, on PostgreSQL,
    the database's backends: the figure the shared machine's load distorts least)."""
    started, cpu = time.perf_counter(), time.process_time() + _server_cpu()
    result = work()
    used = time.process_time() + _server_cpu() - cpu
    print(f"{what:<38} {time.perf_counter() - started:8.2f} s  {used:8.2f} CPU s   {result}")
    return result


def main(argv: list[str]) -> None:
    target = argv[0] if argv else "sqlite"
    contacts = _number(argv[1]) if len(argv) > 1 else 100_000
    events = _number(argv[2]) if len(argv) > 2 else 10 * contacts
    url, empty = _database(target, contacts, events)
    upgrade(url)
    if target != "sqlite":
        # one process per query (no parallel workers), so that the backends' CPU is all of it
        SERVER.append(str(make_url(url).database))
        url = str(
            make_url(url)
            .update_query_dict({"options": "-c max_parallel_workers_per_gather=0"})
            .render_as_string(hide_password=False)
        )
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


# --- the live path, end to end ----------------------------------------------------------------

LIVE_AUDIENCES = {
    "shoe-lookers": AUDIENCE,
    "cart-lookers": """
name: Cart lookers
condition:
  kind: all
  conditions:
    - {kind: audience, audience: Shoe lookers}
    - {kind: event_count, event: Product Added}
""",
    "readers": """
name: Readers
condition: {kind: event_count, event: Page Viewed, gte: 5}
""",
}
LIVE_NAMES = [("Product Viewed", 5), ("Page Viewed", 3), ("Product Added", 2)]


def live(argv: list[str]) -> None:
    """``--live TARGET [RATE] [SECONDS] [none]``: a real ``lealta serve`` (its worker applying
    events as shipped) receives RATE tracked events a second (default 1,000) for SECONDS
    (default 30) through ``POST /v1/batch``, with three audiences saved; for every ``Audience
    Entered`` event, the time from its triggering event's acceptance (``received_at``) to the
    event's recorded time (the clock of the batch that moved the person), and to when a reader
    polling the database every 20 ms first sees it (committed). ``none`` saves no audience:
    whether the worker keeps up with applying the events alone. The floor is the audience's
    bare query for a processor batch's worth of people."""
    import tempfile
    import threading

    from ingest import _free_port, _lealta, _serve

    target = argv[0] if argv else "sqlite"
    rate = _number(argv[1]) if len(argv) > 1 else 1000
    seconds = float(argv[2]) if len(argv) > 2 else 30.0
    # a fourth argument "none" saves no audience: what applying the events alone costs
    audiences = {} if argv[3:4] == ["none"] else LIVE_AUDIENCES
    with tempfile.TemporaryDirectory(prefix="lealta-audiences-live-") as tmp:
        workdir = Path(tmp)
        url = _live_database(target, workdir)
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEALTA_")}
        env.update(
            LEALTA_DATABASE_URL=url,
            LEALTA_ENVIRONMENT="test",
            LEALTA_SECRET_KEY="benchmark-secret",
            LEALTA_TRACK_RATE_LIMIT="1000000",
            LEALTA_CONFIG_FILE=str(workdir / "none.toml"),
        )
        _lealta(env, workdir, "db", "upgrade")
        key = _lealta(env, workdir, "keys", "create", "--scope", "track").strip().splitlines()[-1]
        for slug, definition in audiences.items():
            (workdir / f"{slug}.yaml").write_text(definition)
            _lealta(env, workdir, "audiences", "import", str(workdir / f"{slug}.yaml"))
        uow = UnitOfWork(make_engine(url))
        port = _free_port()
        server = _serve(env, workdir, port)
        seen: dict[int, float] = {}
        stop = threading.Event()
        watcher = threading.Thread(target=_watch, args=(uow, seen, stop), daemon=True)
        try:
            watcher.start()
            sent = _stream(port, key, rate, seconds)
            behind = _settle(uow, sent)
        finally:
            stop.set()
            watcher.join(5)
            server.terminate()
            server.wait(30)
        recorded, visible, entered = _latencies(uow, seen)
        if target != "sqlite":
            SERVER[:] = [str(make_url(url).database)]  # the replay's backends only, now
        steps = _live_steps(uow) if audiences else []
        floor = _live_floor(uow)
        missed = _refreshed(uow)
        uow.engine.dispose()
        if target != "sqlite":
            _drop(target, url)
    print(f"\n{uow.engine.dialect.name}: {sent:,} events at {rate:,}/s for {seconds:g} s, ")
    print(f"  {entered:,} Audience Entered events over {len(audiences)} audiences")
    print(f"  the worker finished applying {behind:.1f} s after the last message was sent")
    for what, took in (("recorded", recorded), ("visible to a reader", visible)):
        print(
            f"  acceptance -> {what:<20} p50 {_pct(took, 50) * 1000:6.0f} ms"
            f"  p95 {_pct(took, 95) * 1000:6.0f} ms  max {max(took, default=0) * 1000:6.0f} ms"
        )
    print(
        f"  a full refresh afterwards moved {missed[0]:,} in and {missed[1]:,} out (0 and 0: exact)"
    )
    print(
        f"  floor: the bare query for 200 people  p50 {_pct(floor, 50) * 1000:6.1f} ms"
        f"  p95 {_pct(floor, 95) * 1000:6.1f} ms"
    )
    if steps:
        walls, cpus = [wall for wall, _ in steps], [cpu for _, cpu in steps]
        print(
            f"  the live step alone (follow_batch), {len(steps)} batches of up to {LIVE_BATCH}"
            f" replayed: wall p50 {_pct(walls, 50) * 1000:.0f} ms p95 {_pct(walls, 95) * 1000:.0f}"
            f" ms; CPU p50 {_pct(cpus, 50) * 1000:.0f} ms p95 {_pct(cpus, 95) * 1000:.0f} ms"
            " (this process and the database's backends)"
        )


def _refreshed(uow: UnitOfWork) -> tuple[int, int]:
    """Who a full refresh of every audience moves in and out: what the live path missed."""
    entered = exited = 0
    with uow.transaction() as session:
        for audience in ordered(service.list_(session)):
            done = refresh(session, audience, now=dt.datetime.now(dt.UTC))
            entered, exited = entered + done.entered, exited + done.exited
    return entered, exited


def _pct(values: list[float], pct: int) -> float:
    if not values:
        return float("nan")
    ordered_ = sorted(values)
    return ordered_[min(len(ordered_) - 1, int(len(ordered_) * pct / 100))]


def _live_database(target: str, workdir: Path) -> str:
    if target == "sqlite":
        return f"sqlite:///{workdir / 'lealta.db'}"
    name = "lealta_audiences_live_bench"
    admin = create_engine(target, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # fixed name
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(target).set(database=name).render_as_string(hide_password=False)


def _drop(target: str, url: str) -> None:
    admin = create_engine(target, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        name = make_url(url).database
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _stream(port: int, key: str, rate: int, seconds: float, per_request: int = 20) -> int:
    """``rate`` messages a second in requests of ``per_request``, on schedule (a late request
    is sent at once, the next ones keep the schedule); how many were sent."""
    import base64
    import http.client
    import uuid

    rng = random.Random(11)
    users = [f"user-{n}" for n in range(max(100, rate * 3))]
    names = [name for name, weight in LIVE_NAMES for _ in range(weight)]
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    requests = int(rate * seconds / per_request)
    began = time.perf_counter()
    for number in range(requests):
        wait = began + number * per_request / rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        batch = []
        for _ in range(per_request):
            name = rng.choice(names)
            batch.append(
                {
                    "type": "track",
                    "messageId": uuid.uuid4().hex,
                    "userId": rng.choice(users),
                    "event": name,
                    "properties": {"category": rng.choice(["shoes", "hats"])},
                }
            )
        connection.request(
            "POST",
            "/v1/batch",
            json.dumps({"batch": batch}).encode(),
            {"Authorization": auth, "Content-Type": "application/json"},
        )
        answer = connection.getresponse()
        body = answer.read()
        if answer.status != 200:
            raise SystemExit(f"{answer.status} {body[:200]!r}")
    connection.close()
    took = time.perf_counter() - began
    if took > seconds * 1.1:
        print(f"  sending fell behind: {seconds:g} s of events took {took:.1f} s", file=sys.stderr)
    return requests * per_request


def _watch(uow: UnitOfWork, seen: dict[int, float], stop: Any) -> None:
    """When each Audience Entered event is first visible, polling every 20 ms."""
    last = 0
    while not stop.is_set():
        try:
            with uow.transaction() as session:
                ids = list(
                    session.scalars(
                        select(Event.id).where(Event.id > last, Event.name == "Audience Entered")
                    )
                )
        except Exception:  # the server is still creating its tables
            ids = []
        now = time.time()
        for event_id in ids:
            seen.setdefault(event_id, now)
        last = max(ids, default=last)
        time.sleep(0.02)


def _settle(uow: UnitOfWork, sent: int, timeout: float = 600) -> float:
    """Wait until every sent message is an event (then a little for the watcher); how long
    applying went on after the last message was sent, in seconds."""
    began = time.perf_counter()
    query = select(func.count()).select_from(Event).where(Event.name != "Audience Entered")
    while time.perf_counter() - began < timeout:
        with uow.transaction() as session:
            if int(session.scalar(query) or 0) >= sent:
                behind = time.perf_counter() - began
                time.sleep(1)
                return behind
        time.sleep(0.2)
    raise SystemExit("the worker did not apply everything in time")


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _latencies(uow: UnitOfWork, seen: dict[int, float]) -> tuple[list[float], list[float], int]:
    """For each Audience Entered event, its trigger is the person's latest event accepted
    before it was recorded; (recorded - accepted, seen - accepted) in seconds."""
    with uow.transaction() as session:
        entered = list(
            session.execute(
                select(Event.id, Event.contact_id, Event.occurred_at).where(
                    Event.name == "Audience Entered"
                )
            )
        )
        tracked: dict[str | None, list[dt.datetime]] = {}
        for contact_id, received in session.execute(
            select(Event.contact_id, Event.received_at)
            .where(Event.type == "track", Event.name != "Audience Entered")
            .order_by(Event.received_at)
        ):
            tracked.setdefault(contact_id, []).append(_utc(received))
    recorded: list[float] = []
    visible: list[float] = []
    for event_id, contact_id, occurred in entered:
        at = _utc(occurred)
        before = [r for r in tracked.get(contact_id, []) if r <= at]
        if not before:
            continue
        accepted = before[-1]
        recorded.append((at - accepted).total_seconds())
        if event_id in seen:
            visible.append(seen[event_id] - accepted.timestamp())
    return recorded, visible, len(entered)


LIVE_BATCH = 500  # the tracking processor's batch at most (lealta.tracking.processor.BATCH)


def _live_steps(uow: UnitOfWork) -> list[tuple[float, float]]:
    """The live step alone, measured apart from the worker's other work: the tracked events
    replayed in the worker's largest batches, each followed by
    :func:`lealta.audiences.live.follow_batch` in a transaction rolled back (the members are
    up to date by then: the cost of finding that nobody moves); (wall, CPU) seconds per batch,
    the CPU being this process's and, on PostgreSQL, the database's backends'."""
    from sqlalchemy.orm import Session

    from lealta.audiences.live import follow_batch

    with uow.transaction() as session:
        rows = session.execute(
            select(Event.message_id, Event.type, Event.name)
            .where(Event.type == "track", Event.name.not_like("Audience %"))
            .order_by(Event.id)
        ).all()
    took = []
    for start in range(0, len(rows), LIVE_BATCH):
        messages = [
            {"messageId": message_id, "type": kind, "event": name}
            for message_id, kind, name in rows[start : start + LIVE_BATCH]
        ]
        with uow.engine.connect() as connection:
            transaction = connection.begin()
            session = Session(bind=connection)
            started, cpu = time.perf_counter(), time.process_time() + _server_cpu()
            follow_batch(session, messages, now=dt.datetime.now(dt.UTC))
            used = time.process_time() + _server_cpu() - cpu
            took.append((time.perf_counter() - started, used))
            session.close()
            transaction.rollback()
    return took


def _live_floor(uow: UnitOfWork, people: int = 200, rounds: int = 40) -> list[float]:
    """The audience's bare query restricted to a processor batch's worth of people."""
    rng = random.Random(5)
    with uow.transaction() as session:
        ids = list(session.scalars(select(Contact.id)))
    viewed = (
        select(Event.contact_id)
        .where(
            func.lower(Event.name) == "product viewed",
            Event.properties["category"].as_string() == "shoes",
        )
        .group_by(Event.contact_id)
        .having(func.count() >= 3)
    )
    tagged = select(ContactTag.contact_id).where(ContactTag.tag == "no-marketing")
    took = []
    for _ in range(rounds):
        batch = rng.sample(ids, min(people, len(ids)))
        query = viewed.where(Event.contact_id.in_(batch), Event.contact_id.not_in(tagged))
        started = time.perf_counter()
        with uow.transaction() as session:
            list(session.scalars(query))
        took.append(time.perf_counter() - started)
    return took


if __name__ == "__main__":
    if sys.argv[1:2] == ["--live"]:
        live(sys.argv[2:])
    else:
        main(sys.argv[1:])
