"""The Journeys pages at scale: server time of the list, the diagram with its live counts and a
step's page, p50 and p95, against the 500 ms of issue 12, before and after the summary.

Loads one workflow (the shipped ``inactive-reactivation``) with ``--runs`` runs, each with
its step log (about six rows: entered the branch, took it, the send step queued its message,
the wait), a message per run in the outbox (sent, suppressed, failed or waiting), opens and
clicks for some, and orders for the runs that reached the goal, into a throwaway database:
a temporary SQLite file and/or a PostgreSQL database named ``lealta_bench_journeys`` (made
afresh, dropped at the end). Then, through the app in process (signed in as an admin, as
``benchmarks/console.py`` does), each page is requested ``--requests`` times:

* before: every figure counted for every request (what the pages did before the summary);
* after: the figures from the Journeys summary (:mod:`lealta.console.journeys_page`); its
  first request counts them (reported as "first"), later ones read the summary, recounted in
  the background every 30 s and never older than a minute.

    .venv/bin/python benchmarks/journeys.py --quick                 # 10,000 runs, both
    .venv/bin/python benchmarks/journeys.py --runs 200000 --engine sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from lealta.automations import service
from lealta.automations.tables import Run, RunStep
from lealta.bootstrap import Services, build
from lealta.channels.tables import MessageInteraction, OutboxMessage
from lealta.console import journeys_page
from lealta.contacts.tables import Contact
from lealta.orders.tables import Order
from lealta.overview.summary import Freshness
from lealta.users.service import create_user

sys.path.insert(0, str(Path(__file__).resolve().parent))
from console import ADMIN, PASSWORD, _settings, _signed_in_client

TARGET_MS = 500.0
CHUNK = 20_000
WORKFLOW = "inactive-reactivation"
DATABASE = "lealta_bench_journeys"
PAGES = (
    ("journeys list", "/journeys"),
    ("diagram", f"/journeys/{WORKFLOW}"),
    ("step (wait)", f"/journeys/{WORKFLOW}/steps/window"),
    ("step (send)", f"/journeys/{WORKFLOW}/steps/seasonal"),
)
MESSAGE_FATES = ("sent",) * 7 + ("suppressed", "failed", "pending")


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(services: Services, table: Any, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    for batch in _chunks(rows):
        with services.uow.transaction() as session:
            session.execute(insert(table), batch)
        count += len(batch)
    return count


def _run_id(i: int) -> str:
    return f"run{i:012d}"


def _contact_id(i: int) -> str:
    return f"{i:032x}"


def _path(i: int) -> tuple[str, str, list[tuple[str, str]]]:
    """Run ``i``'s status, step and step log: 60 % wait five days after the send, 25 % have
    left with no reaction, 10 % reached the goal, 5 % wait for the reminder."""
    past = i % 4 == 0  # past customers: the feedback voucher and e-mail
    voucher, send = ("feedback-voucher", "feedback") if past else ("seasonal-voucher", "seasonal")
    log = [
        ("has-history", "entered"),
        ("has-history", "branch:then" if past else "branch:else"),
        (voucher, "issued"),
        (send, "sent"),
        ("window", "entered"),
    ]
    kind = i % 20
    if kind < 12:
        return "waiting", "window", [*log, ("window", "waiting")]
    if kind < 17:
        log += [("interacted", "branch:else"), ("last-chance", "sent"), ("no-reaction", "entered")]
        return "exited", "no-reaction", log
    if kind < 19:
        return "goal", "window", [*log, ("window", "goal")]
    log += [("interacted", "branch:then"), ("partially-active", "tagged")]
    return "waiting", "wait-reminder", [*log, ("wait-reminder", "entered")]


def load(
    services: Services, runs: int, *, people: bool = True, first_id: int = 1, key: str = "bench"
) -> dict[str, int]:
    """The workflow and its runs, step log, messages, reactions and orders; ``people``: also
    the admin and the contacts (else the store's contacts ``0`` to ``runs - 1`` are used);
    outbox ids start at ``first_id``, idempotency keys and order ids with ``key``."""
    now = services.clock.now()
    with services.uow.transaction() as session:
        if people:
            create_user(session, email=ADMIN, role="admin", password=PASSWORD, now=now)
        service.install(session, WORKFLOW, now=now)
        service.set_status(session, WORKFLOW, "active", now=now)

    def entered(i: int) -> dt.datetime:
        return now - dt.timedelta(minutes=i % 50_000, seconds=i)

    contacts = (
        {"id": _contact_id(i), "attributes": {"first_name": f"P{i}"}, "created_at": now}
        for i in range(runs)
    )
    counts = {"contacts": _insert(services, Contact, contacts) if people else 0}

    def run_rows() -> Iterator[dict[str, Any]]:
        for i in range(runs):
            status, step, _ = _path(i)
            yield {
                "id": _run_id(i),
                "workflow_id": WORKFLOW,
                "version": 1,
                "contact_id": _contact_id(i),
                "entry_key": "bench",
                "status": status,
                "step_id": step,
                "state": {},
                "wake_at": now + dt.timedelta(days=1) if status == "waiting" else None,
                "entered_at": entered(i),
                "updated_at": now,
                "ended_at": None if status == "waiting" else now,
            }

    def step_rows() -> Iterator[dict[str, Any]]:
        for i in range(runs):
            for step, outcome in _path(i)[2]:
                yield {
                    "run_id": _run_id(i),
                    "workflow_id": WORKFLOW,
                    "step_id": step,
                    "outcome": outcome,
                    "detail": {},
                    "at": entered(i) + dt.timedelta(hours=1),
                }

    def messages() -> Iterator[dict[str, Any]]:
        for i in range(runs):
            step = "feedback" if i % 4 == 0 else "seasonal"
            fate = MESSAGE_FATES[i % len(MESSAGE_FATES)]
            yield {
                "id": first_id + i,
                "idempotency_key": f"{key}-{i}",
                "contact_id": _contact_id(i),
                "run_id": _run_id(i),
                "channel": "email",
                "template": f"reactivation-{step}",
                "payload": {"step": step},
                "status": fate,
                "error": "no consent for email" if fate == "suppressed" else None,
                "created_at": entered(i),
                "sent_at": entered(i) if fate == "sent" else None,
            }

    def reactions() -> Iterator[dict[str, Any]]:
        for i in range(0, runs, 3):  # a third open, a ninth click
            outbox_id = first_id + i
            yield {
                "outbox_id": outbox_id,
                "contact_id": _contact_id(i),
                "kind": "opened",
                "at": now,
            }
            if i % 9 == 0:
                yield {
                    "outbox_id": outbox_id,
                    "contact_id": _contact_id(i),
                    "kind": "clicked",
                    "at": now,
                }

    def orders() -> Iterator[dict[str, Any]]:
        for i in range(runs):
            if _path(i)[0] == "goal":
                yield {
                    "external_id": f"{key}-{i}",
                    "contact_id": _contact_id(i),
                    "amount": Decimal("42.50"),
                    "currency": "EUR",
                    "placed_at": entered(i) + dt.timedelta(minutes=30),
                }

    counts["runs"] = _insert(services, Run, run_rows())
    counts["step rows"] = _insert(services, RunStep, step_rows())
    counts["messages"] = _insert(services, OutboxMessage, messages())
    counts["reactions"] = _insert(services, MessageInteraction, reactions())
    counts["orders"] = _insert(services, Order, orders())
    with services.uow.transaction() as session:
        session.execute(text("ANALYZE"))
    return counts


def _fresh_postgres(server: str) -> str:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}"'))  # our own fixed name
        connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return make_url(server).set(database=DATABASE).render_as_string(hide_password=False)


def _drop_postgres(server: str) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}"'))
    admin.dispose()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def time_pages(url: str, requests: int, *, summarised: bool) -> dict[str, dict[str, float]]:
    """Per page: the first request's time and p50/p95 of the following ones (milliseconds)."""
    live = Freshness(live_below=math.inf)  # never slow: counted for every request
    saved = journeys_page.FRESHNESS
    journeys_page.FRESHNESS = saved if summarised else live
    services = build(_settings(url))  # its own summaries
    try:
        client = _signed_in_client(services)
        found = {}
        for label, path in PAGES:
            took = []
            for _ in range(requests + 1):
                started = time.perf_counter()
                answer = client.get(path)
                took.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, (path, answer.status_code)
            rest = took[1:]
            found[label] = {
                "first": took[0],
                "p50": statistics.median(rest),
                "p95": _percentile(rest, 0.95),
            }
        journeys_page.figures(services).close()
        client.__exit__(None, None, None)
        return found
    finally:
        journeys_page.FRESHNESS = saved
        services.uow.engine.dispose()


def _print(engine: str, counts: dict[str, int], before: Any, after: Any) -> None:
    print(f"\n{engine}: " + ", ".join(f"{n:,} {what}" for what, n in counts.items()))
    print(
        f"{'page':<16}{'before p50':>11}{'p95':>8}  {'after first':>12}{'p50':>8}{'p95':>8}"
        f"  target {TARGET_MS:.0f} ms"
    )
    for label, _ in PAGES:
        b, a = before[label], after[label]
        ok = "ok" if a["p95"] <= TARGET_MS else "SLOW"
        print(
            f"{label:<16}{b['p50']:>11.0f}{b['p95']:>8.0f}  {a['first']:>12.0f}"
            f"{a['p50']:>8.0f}{a['p95']:>8.0f}  {ok}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--quick", action="store_true", help="10,000 runs, 5 requests a page")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.requests = 10_000, 5
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    with tempfile.TemporaryDirectory(prefix="lealta-bench-journeys-") as folder:
        for engine in engines:
            if engine == "sqlite":
                url = f"sqlite:///{Path(folder) / 'journeys.db'}"
            else:
                url = _fresh_postgres(args.postgres_url)
            loader = build(_settings(url))
            started = time.perf_counter()
            counts = load(loader, args.runs)
            loader.uow.engine.dispose()
            print(f"{engine}: loaded in {time.perf_counter() - started:.0f} s", flush=True)
            before = time_pages(url, args.requests, summarised=False)
            after = time_pages(url, args.requests, summarised=True)
            _print(engine, counts, before, after)
            if engine == "postgresql":
                _drop_postgres(args.postgres_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
