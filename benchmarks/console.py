"""The console's pages at a million contacts: server time per page, p50 and p95, against 300 ms.

Loads a shop of ``--contacts`` people (names, e-mail and phone, stages, scores, tags, lists,
consent), about a third of them customers with their orders, ``--events`` tracked events, sent
e-mails with their opens and clicks and two RFM runs a month apart (so segments have
movements) into SQLite and/or PostgreSQL, through the same tables the product writes. Then it
signs in to the console as an admin and requests every page ``--requests`` times through the
app (in process, so the figure is the server's time, not the network's), and prints p50/p95
per page beside the 300 ms target.

A data set is loaded once and reused (SQLite: a file under ``--data-dir``; PostgreSQL: a
database named after the sizes), so later runs only time the pages.

    .venv/bin/python benchmarks/console.py --quick                 # 20,000 contacts, SQLite
    .venv/bin/python benchmarks/console.py                         # 1M contacts, 10M events, both
    .venv/bin/python benchmarks/console.py --engine sqlite --json console.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from lealta.bootstrap import Services, build
from lealta.config import Settings

CHUNK = 20_000
TARGET_MS = 300.0
CAMPAIGN_TARGET_MS = 500.0  # issue 12: journey diagrams, simulations and reports


def target_ms(page: str) -> float:
    """The p95 a page must stay under: 500 ms for journeys and reports, else 300 ms."""
    return CAMPAIGN_TARGET_MS if page.startswith(("journey ", "report")) else TARGET_MS


DOWNLOAD = "segment CSV (whole file)"  # a download, not a page: timed, not held to the target
STAGES = ("Prospect", "Visitor", "Lead", "Customer", "Loyal")
STAGE_WEIGHTS = (30, 30, 15, 18, 7)
TAGS = ("vip", "newsletter", "b2b", "wholesale", "returns", "gift", "eco", "student", "press")
LISTS = ("newsletter", "offers", "b2b-news")
EVENTS = (
    ("Page Viewed", 55),
    ("Product Viewed", 20),
    ("Product Added", 8),
    ("Email Opened", 7),
    ("Email Link Clicked", 3),
    ("Checkout Started", 3),
    ("Signed In", 2),
    ("File Downloaded", 2),
)
FIRST = ("Anna", "Marco", "Giulia", "Luca", "Sofia", "Paolo", "Emma", "Jonas", "Lea", "Noah")
LAST = ("Rossi", "Bianchi", "Müller", "Schmidt", "Martin", "Bernard", "Smith", "Jones", "Costa")
JOURNEY = "inactive-reactivation"  # loaded with the campaigns (see ``load_campaigns``)
RICH_EVENTS = 20_000  # the busiest person's history (the contact page's worst case)


@dataclass(frozen=True)
class Sizes:
    contacts: int
    events: int

    @property
    def customers(self) -> int:
        return self.contacts * 3 // 10

    @property
    def tag(self) -> str:
        return f"{self.contacts}-{self.events}"


def contact_id(i: int) -> str:
    return f"{i:032x}"


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _load(
    services: Services, table: Any, rows: Iterator[dict[str, Any]], label: str, total: int
) -> None:
    started, done = time.perf_counter(), 0
    for batch in _chunks(rows):
        with services.uow.transaction() as session:
            session.execute(insert(table), batch)
        done += len(batch)
        if sys.stderr.isatty():
            print(f"\r  {label}: {done:,}/{total:,}", end="", file=sys.stderr)
    took = time.perf_counter() - started
    print(f"\r  {label}: {done:,} rows in {took:.0f} s ({done / max(took, 1e-9):,.0f}/s)")


def load_shop(services: Services, sizes: Sizes, now: dt.datetime) -> None:
    """Write the shop into the (migrated, empty) database of ``services``."""
    from lealta.channels.tables import MessageInteraction, OutboxMessage
    from lealta.contacts.tables import (
        Consent,
        Contact,
        ContactList,
        ContactTag,
        Identifier,
        ListMembership,
    )
    from lealta.events.tables import Event
    from lealta.orders.tables import Order
    from lealta.users.service import record
    from lealta.users.tables import ConsoleUser

    rng = random.Random(11)
    n = sizes.contacts
    year = dt.timedelta(days=365)

    def when(back: dt.timedelta) -> dt.datetime:
        return now - dt.timedelta(seconds=rng.random() * back.total_seconds())

    def contacts() -> Iterator[dict[str, Any]]:
        for i in range(n):
            created = when(2 * year)
            seen = created + (now - created) * rng.random()
            yield {
                "id": contact_id(i),
                "created_at": created,
                "updated_at": seen,
                "attributes": {
                    "first_name": FIRST[i % len(FIRST)],
                    "last_name": f"{LAST[(i // 10) % len(LAST)]}{i}",
                    "city": ("Milano", "Berlin", "Paris", "Lyon")[i % 4],
                },
                "lifecycle_stage": rng.choices(STAGES, STAGE_WEIGHTS)[0],
                "score": round(rng.random() * 120, 1),
                "score_state": {},
                "first_seen_at": created,
                "last_seen_at": seen,
            }

    _load(services, Contact.__table__, contacts(), "contacts", n)

    def identifiers() -> Iterator[dict[str, Any]]:
        for i in range(n):
            yield {"contact_id": contact_id(i), "kind": "email", "value": f"person{i}@example.com"}
            if i % 3 == 0:
                yield {"contact_id": contact_id(i), "kind": "phone", "value": f"+3934{i:08d}"}

    _load(services, Identifier.__table__, identifiers(), "identifiers", n + n // 3)
    _load(
        services,
        Consent.__table__,
        (
            {
                "contact_id": contact_id(i),
                "channel": "email",
                "status": "granted" if i % 5 else "withdrawn",
                "source": "benchmark",
                "proof": {},
                "recorded_at": now - year,
            }
            for i in range(0, n, 2)
        ),
        "consents",
        n // 2,
    )
    _load(
        services,
        ContactTag.__table__,
        ({"contact_id": contact_id(i), "tag": TAGS[i % len(TAGS)]} for i in range(0, n, 4)),
        "tags",
        n // 4,
    )
    with services.uow.transaction() as session:
        for slug in LISTS:
            session.add(ContactList(slug=slug, name=slug.replace("-", " ").title()))
        session.flush()
        list_ids = [
            session.scalar(select(ContactList.id).where(ContactList.slug == s)) for s in LISTS
        ]
    _load(
        services,
        ListMembership.__table__,
        (
            {
                "list_id": list_ids[i % len(list_ids)],
                "contact_id": contact_id(i),
                "status": "subscribed" if i % 7 else "unsubscribed",
                "source": "benchmark",
            }
            for i in range(0, n, 2)
        ),
        "list memberships",
        n // 2,
    )

    customers = sizes.customers

    def orders() -> Iterator[dict[str, Any]]:
        number = 0
        for c in range(customers):
            for _ in range(min(1 + int(rng.expovariate(0.45)), 40)):
                number += 1
                yield {
                    "external_id": f"o{number}",
                    "contact_id": contact_id(c * 3),
                    "placed_at": when(2 * year),
                    "amount": round(5 + rng.expovariate(1 / 60), 2),
                    "currency": "EUR",
                    "channel": "web",
                    "items": [{"sku": f"sku-{rng.randrange(500)}", "quantity": 1}],
                }

    _load(services, Order.__table__, orders(), "orders", int(customers * 3.2))

    names = [name for name, _ in EVENTS]
    weights = [weight for _, weight in EVENTS]

    def events() -> Iterator[dict[str, Any]]:
        rich = contact_id(0)
        for i in range(sizes.events):
            person = rich if i < RICH_EVENTS else contact_id(int(rng.paretovariate(1.2)) % n)
            name = rng.choices(names, weights)[0]
            yield {
                "message_id": f"bench-{i}",
                "contact_id": person,
                "type": "track",
                "name": name,
                "properties": {"path": f"/p/{i % 997}"},
                "context": {},
                "occurred_at": when(year),
                "received_at": now,
            }

    _load(services, Event.__table__, events(), "events", sizes.events)

    sent = max(n // 4, 1)
    _load(
        services,
        OutboxMessage.__table__,
        (
            {
                "idempotency_key": f"bench-{i}",
                "contact_id": contact_id(i * 2 % n),
                "channel": "email",
                "template": ("welcome", "winback", "newsletter")[i % 3],
                "payload": {},
                "status": "sent",
                "not_before": now - dt.timedelta(days=i % 60),
                "created_at": now - dt.timedelta(days=i % 60),
                "sent_at": now - dt.timedelta(days=i % 60),
            }
            for i in range(sent)
        ),
        "messages sent",
        sent,
    )
    with services.uow.transaction() as session:
        first_outbox = int(session.scalar(select(func.min(OutboxMessage.id))) or 1)
    _load(
        services,
        MessageInteraction.__table__,
        (
            {
                "outbox_id": first_outbox + i,
                "contact_id": contact_id(i * 2 % n),
                "kind": "opened" if i % 3 else "clicked",
                "at": now - dt.timedelta(days=i % 60),
                "details": {},
            }
            for i in range(0, sent, 3)
        ),
        "opens and clicks",
        sent // 3,
    )
    from lealta.segmentation.store import rfm_from_store

    with services.uow.transaction() as session:  # planner statistics for the bulk-loaded rows
        session.execute(text("ANALYZE"))
    for label, as_of in (("a month ago", now - dt.timedelta(days=30)), ("today", now)):
        started = time.perf_counter()
        rfm_from_store(services, as_of=as_of.date(), clusters=5)
        print(f"  RFM {label}: {time.perf_counter() - started:.0f} s")
    with services.uow.transaction() as session:
        admin = session.scalar(select(ConsoleUser).limit(1))
        for i in range(2_000):
            record(session, user=admin, action="tag added", target=f"contact {i}", now=now)


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url, process_in_server=False, secret_key="benchmark-secret-" + "x" * 32
    )


def _sqlite_services(folder: Path, sizes: Sizes) -> tuple[Services, bool]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"console-{sizes.tag}.db"
    done = path.with_suffix(".loaded")
    if path.exists() and not done.exists():
        for stale in folder.glob(f"console-{sizes.tag}*"):
            stale.unlink()
    return build(_settings(f"sqlite:///{path}")), done.exists()


def _postgres_services(server: str, sizes: Sizes) -> tuple[Services, bool]:
    from sqlalchemy import create_engine

    name = f"lealta_bench_console_{sizes.contacts}_{sizes.events}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        loaded = False
        if exists:
            probe = create_engine(make_url(server).set(database=name))
            with probe.connect() as db:
                loaded = bool(
                    db.scalar(text("SELECT to_regclass('public.bench_loaded') IS NOT NULL"))
                )
            probe.dispose()
            if not loaded:
                connection.execute(text(f'DROP DATABASE "{name}"'))  # our own fixed name
        if not loaded:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    return build(_settings(url)), loaded


def _campaigns_loaded(services: Services, engine: str) -> bool:
    with services.uow.transaction() as session:
        if engine == "sqlite":
            path = make_url(services.settings.database_url).database
            return Path(str(path)).with_suffix(".campaigns").exists()
        found = session.scalar(text("SELECT to_regclass('public.bench_campaigns') IS NOT NULL"))
        return bool(found)


def load_campaigns(services: Services, engine: str, args: argparse.Namespace) -> None:
    """Ten million message events on top of the shop: ``--campaign-messages`` sent e-mails
    with about four interactions each over 60 days (``reports.grow``), and the shipped
    reactivation journey, active, with ``--runs`` runs on the shop's first contacts, their
    step log, messages, reactions and goal orders (``journeys.load``); then rolled up as the
    worker does once a minute (without that sweep, reports would read the journey's 200,000
    messages from the rows)."""
    import journeys
    import reports
    from lealta.channels.tables import MessageInteraction, OutboxMessage
    from lealta.feedback.rollup import sweep

    print(f"Adding {args.campaign_messages:,} campaign e-mails and {args.runs:,} journey runs:")
    reports.grow(services, args.campaign_messages)
    with services.uow.transaction() as session:
        first_id = int(session.scalar(select(func.max(OutboxMessage.id))) or 0) + 1
    started = time.perf_counter()
    counts = journeys.load(services, args.runs, people=False, first_id=first_id, key="journey")
    print(f"  journey: {counts} in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    with services.uow.transaction() as session:  # the journey's messages, as the worker would
        sweep(session, now=services.clock.now())
    print(f"  rollup swept again in {time.perf_counter() - started:.0f} s")
    with services.uow.transaction() as session:
        if engine == "postgresql":  # the journey's messages were given their ids
            session.execute(
                text("SELECT setval(pg_get_serial_sequence('outbox', 'id'), max(id)) FROM outbox")
            )
        session.execute(text("ANALYZE"))
        messages = int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)
        reactions = int(session.scalar(select(func.count()).select_from(MessageInteraction)) or 0)
        if engine == "postgresql":
            session.execute(text("CREATE TABLE bench_campaigns (at text)"))
    if engine == "sqlite":
        path = make_url(services.settings.database_url).database
        Path(str(path)).with_suffix(".campaigns").write_text(str(messages + reactions))
    print(f"  message events now: {messages + reactions:,} ({messages:,} messages)")


def prepare(engine: str, sizes: Sizes, args: argparse.Namespace) -> Services:
    """The services of a loaded data set on ``engine`` (loading it the first time)."""
    from lealta.users.service import create_user

    if engine == "sqlite":
        services, loaded = _sqlite_services(args.data_dir, sizes)
    else:
        services, loaded = _postgres_services(args.postgres_url, sizes)
    if not loaded:
        print(f"Loading {sizes.contacts:,} contacts and {sizes.events:,} events into {engine}:")
        now = services.clock.now()
        with services.uow.transaction() as session:
            create_user(session, email=ADMIN, role="admin", password=PASSWORD, now=now)
        load_shop(services, sizes, now)
        with services.uow.transaction() as session:
            session.execute(text("ANALYZE"))
        if engine == "sqlite":
            path = make_url(services.settings.database_url).database
            Path(str(path)).with_suffix(".loaded").write_text(now.isoformat())
        else:
            with services.uow.transaction() as session:
                session.execute(text("CREATE TABLE bench_loaded (at text)"))
    if args.campaign_messages and not _campaigns_loaded(services, engine):
        load_campaigns(services, engine, args)
    return services


ADMIN = "bench@lealta.example"
PASSWORD = "benchmark-password-1"


def _signed_in_client(services: Services) -> Any:
    from fastapi.testclient import TestClient

    from lealta.rest.app import create_app

    client = TestClient(create_app(services))
    client.__enter__()
    form = client.get("/signin")
    token = re.search(r'name="token" value="([^"]+)"', form.text)
    assert token, "no sign-in form"
    answer = client.post(
        "/signin",
        data={"email": ADMIN, "password": PASSWORD, "token": token[1], "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:500]
    return client


def pages(services: Services) -> list[tuple[str, str]]:
    """(label, path) of every console page, on real ids of the data set."""
    from lealta.automations.tables import Workflow
    from lealta.contacts.tables import Contact
    from lealta.segmentation.tables import ContactRfm

    with services.uow.transaction() as session:
        busiest = contact_id(0)
        customer = session.scalar(select(ContactRfm.contact_id).limit(1)) or busiest
        segment = session.scalar(
            select(ContactRfm.segment).group_by(ContactRfm.segment).order_by(func.count().desc())
        )
        someone = session.scalar(select(Contact.id).order_by(Contact.created_at).offset(500))
        journey = session.scalar(select(Workflow.id).where(Workflow.id == JOURNEY))
    return [
        ("overview", "/"),
        ("contacts", "/contacts"),
        ("contacts: search e-mail", "/contacts?q=person4242%40example.com"),
        ("contacts: search name", "/contacts?q=Rossi"),
        ("contacts: segment", f"/contacts?segment={segment}"),
        ("contacts: stage + tag", "/contacts?stage=Lead&tag=vip"),
        ("contacts: R=5 F=5", "/contacts?r=5&f=5"),
        ("contact: busiest person", f"/contacts/{busiest}"),
        ("contact: a customer", f"/contacts/{customer}"),
        ("contact: orders only", f"/contacts/{customer}?kind=order"),
        ("contact: someone", f"/contacts/{someone}"),
        ("segments", "/segments"),
        (DOWNLOAD, f"/segments/export?segment={segment}"),
        ("journeys", "/journeys"),
        *(
            [
                ("journey diagram", f"/journeys/{JOURNEY}"),
                ("journey step: waiting", f"/journeys/{JOURNEY}/steps/window"),
                ("journey step: e-mail", f"/journeys/{JOURNEY}/steps/seasonal"),
                (
                    "journey try: clicks day 2",
                    f"/journeys/{JOURNEY}/try?contact={customer}&day=2&kind=clicked"
                    "&detail=reactivation-seasonal",
                ),
                (
                    "journey dry run: segment",
                    f"/journeys/{JOURNEY}/try?dry=1&audience=segment&value={segment}",
                ),
            ]
            if journey
            else []
        ),
        ("messages (templates)", "/messages"),
        ("reports, last 30 days", "/reports?period=30"),
        ("reports by step, 90 days", "/reports?period=90&by=step"),
        ("report: who clicked", "/reports/contacts?kind=message&by=channel&figure=clicked"),
        ("deliverability", "/reports/deliverability"),
        ("settings", "/settings"),
        ("audit log", "/settings/audit"),
    ]


COUNTING = "Counting…"  # the reports page's answer while its figures are counted


def time_pages(
    services: Services, requests: int, only: list[str] | None = None
) -> list[dict[str, Any]]:
    """p50/p95 server time of each page (those whose label contains one of ``only``, when
    given) after a first request, timed apart: the first of a process may count what later
    ones read from a summary. A page answering "counting…" first is asked again every half
    second until its figures are there ("ready s": when they were)."""
    client = _signed_in_client(services)
    results = []
    try:
        for label, path in pages(services):
            if only and not any(part in label for part in only):
                continue
            started = time.perf_counter()
            first = client.get(path)
            first_ms = (time.perf_counter() - started) * 1000
            if first.status_code == 404:
                results.append({"page": label, "path": path, "status": 404})
                continue
            ready_s = None
            if COUNTING in first.text:
                while COUNTING in client.get(path).text:
                    time.sleep(0.5)
                ready_s = time.perf_counter() - started
            took = []
            for _ in range(requests):
                started = time.perf_counter()
                answer = client.get(path)
                took.append((time.perf_counter() - started) * 1000)
            took.sort()
            results.append(
                {
                    "page": label,
                    "path": path,
                    "status": answer.status_code,
                    "bytes": len(answer.content),
                    "first_ms": first_ms,
                    "ready_s": ready_s,
                    "p50_ms": statistics.median(took),
                    "p95_ms": took[min(len(took) - 1, round(0.95 * (len(took) - 1)))],
                }
            )
    finally:
        client.__exit__(None, None, None)
    return results


def _print(engine: str, sizes: Sizes, results: list[dict[str, Any]]) -> None:
    print(
        f"\n{engine}: {sizes.contacts:,} contacts, {sizes.events:,} events; "
        f"target p95 < {TARGET_MS:.0f} ms ({CAMPAIGN_TARGET_MS:.0f} ms for journeys and reports)"
    )
    print(
        f"  {'page':30} {'status':>6} {'first ms':>9} {'ready s':>8} {'p50 ms':>8} {'p95 ms':>8}"
        "  verdict"
    )
    for row in results:
        if "p95_ms" not in row:
            print(f"  {row['page']:30} {row['status']:>6} {'':>9} {'':>8} {'':>8} {'':>8}  missing")
            continue
        verdict = (
            "ok" if row["p95_ms"] < target_ms(row["page"]) and row["status"] == 200 else "SLOW"
        )
        if row["page"] == DOWNLOAD:
            verdict = f"download, {row['bytes'] / 1e6:.1f} MB"
        if row["status"] != 200:
            verdict = f"answered {row['status']}"
        ready = "" if row["ready_s"] is None else f"{row['ready_s']:.1f}"
        print(
            f"  {row['page']:30} {row['status']:>6} {row['first_ms']:>9.0f} {ready:>8} "
            f"{row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f}  {verdict}"
        )


def _number(text_value: str) -> int:
    return int(float(text_value.replace("_", "").replace(",", "")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--contacts", type=_number, default=1_000_000, help="people (1,000,000)")
    parser.add_argument("--events", type=_number, default=10_000_000, help="events (10,000,000)")
    parser.add_argument(
        "--engine", choices=("sqlite", "postgresql", "both"), default="both", help="(both)"
    )
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page (20)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("TMPDIR", "/tmp")) / "lealta-bench",
        help="where the SQLite data sets are kept ($TMPDIR/lealta-bench)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "LEALTA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server to create the benchmark's database on "
        "($LEALTA_TEST_POSTGRES_URL)",
    )
    parser.add_argument(
        "--campaign-messages",
        type=_number,
        default=2_000_000,
        help="campaign e-mails added with about four interactions each, for ten million "
        "message events (2,000,000; 0: none)",
    )
    parser.add_argument(
        "--runs", type=_number, default=200_000, help="runs of the reactivation journey (200,000)"
    )
    parser.add_argument(
        "--pages",
        help="time only the pages whose label contains one of these comma-separated words "
        "(e.g. report,deliverability); every page when not given",
    )
    parser.add_argument("--quick", action="store_true", help="20,000 contacts, 200,000 events")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    sizes = Sizes(20_000, 200_000) if args.quick else Sizes(args.contacts, args.events)
    if args.quick:
        args.requests = min(args.requests, 5)
        args.campaign_messages, args.runs = 20_000, 2_000
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    report: dict[str, Any] = {"contacts": sizes.contacts, "events": sizes.events}
    slow = False
    for engine in engines:
        services = prepare(engine, sizes, args)
        only = [part.strip() for part in (args.pages or "").split(",") if part.strip()]
        results = time_pages(services, args.requests, only or None)
        _print(engine, sizes, results)
        report[engine] = results
        slow |= any(
            (r.get("p95_ms", 0) >= target_ms(r["page"]) and r["page"] != DOWNLOAD)
            or r["status"] != 200
            for r in results
        )
        services.uow.engine.dispose()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 1 if slow and not args.quick else 0


if __name__ == "__main__":
    raise SystemExit(main())
