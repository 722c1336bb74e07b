"""Time the campaign reports on a copy of the console benchmark's SQLite data set.

Usage::

    cp /tmp/lealta-bench/console-1000000-10000000.db /tmp/reports-bench/copy.db
    python benchmarks/reports.py /tmp/reports-bench/copy.db [--migrate] [--grow 2000000]

Times each query the ``/reports`` page runs (message report per workflow, totals, trend,
splits, NPS, deliverability by domain) and the page itself (p50/p95 of ``--requests``
requests, after one untimed), for the last 30 days. ``--migrate`` brings the copy to the
newest schema first (with the rollup: migration 0012 fills it). ``--grow N`` first adds ``N``
sent e-mails spread over the last 60 days with about four interactions each (delivered,
opens, clicks, a few conversions), to reach ten million message events; the rollup is then
swept once, as the worker does. Never point it at a data set others use.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).parent))

CHUNK = 50_000


def _timed(run: Callable[[], Any], times: int) -> tuple[float, float]:
    run()
    took = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return statistics.median(took), took[min(len(took) - 1, round(0.95 * (len(took) - 1)))]


def grow(services: Any, count: int) -> None:
    """Add ``count`` sent e-mails and their interactions (see the module docstring)."""
    from lealta.channels.tables import MessageInteraction, OutboxMessage
    from lealta.feedback.rollup import sweep

    rng = random.Random(5)
    now = services.clock.now()
    with services.uow.transaction() as session:
        people = int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)
        first = int(session.scalar(select(func.max(OutboxMessage.id))) or 0) + 1
        contacts = list(session.scalars(select(OutboxMessage.contact_id).limit(200_000)))
    started = time.perf_counter()

    def outbox() -> Iterator[dict[str, Any]]:
        for i in range(count):
            at = now - dt.timedelta(seconds=rng.random() * 60 * 86_400)
            yield {
                "idempotency_key": f"grow-{people}-{i}",
                "contact_id": contacts[i % len(contacts)],
                "channel": "email",
                "template": ("welcome", "winback", "newsletter", "birthday")[i % 4],
                "payload": {"step": ("day-1", "day-3", "day-7")[i % 3]},
                "status": "sent",
                "not_before": at,
                "created_at": at,
                "sent_at": at,
            }

    def interactions() -> Iterator[dict[str, Any]]:
        for i in range(count):
            outbox_id, contact = first + i, contacts[i % len(contacts)]
            kinds = ["delivered", "opened", "opened", "clicked"]
            if i % 50 == 0:
                kinds.append("converted")
            for kind in kinds:
                row: dict[str, Any] = {
                    "outbox_id": outbox_id,
                    "contact_id": contact,
                    "kind": kind,
                    "at": now,
                    "details": {},
                    # every row names both (an executemany takes its columns from the first
                    # row, so a batch starting with an open would drop every conversion's)
                    "order_id": None,
                    "revenue": None,
                }
                if kind == "converted":
                    row.update(order_id=f"grow-{people}-{i}", revenue=Decimal("42.50"))
                yield row

    for table, rows in (
        (OutboxMessage.__table__, outbox()),
        (MessageInteraction.__table__, interactions()),
    ):
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == CHUNK:
                with services.uow.transaction() as session:
                    session.execute(insert(table), batch)
                batch = []
        if batch:
            with services.uow.transaction() as session:
                session.execute(insert(table), batch)
    print(f"  added {count:,} messages in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    with services.uow.transaction() as session:
        sweep(session, now=now)
    print(f"  rollup swept in {time.perf_counter() - started:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("database", type=Path, help="a COPY of a console benchmark data set")
    parser.add_argument("--migrate", action="store_true", help="upgrade the copy first")
    parser.add_argument("--grow", type=int, default=0, help="add this many sent e-mails")
    parser.add_argument("--requests", type=int, default=20, help="timed requests (20)")
    args = parser.parse_args(argv)
    from console import _settings, _signed_in_client
    from lealta.bootstrap import build
    from lealta.feedback import deliverability
    from lealta.feedback.nps import nps
    from lealta.feedback.reports import message_report, message_totals
    from lealta.feedback.splits import split_results
    from lealta.feedback.trends import trend

    url = f"sqlite:///{args.database}"
    if args.migrate:
        from lealta.storage.migrate import upgrade

        started = time.perf_counter()
        upgrade(url)
        print(f"migrated in {time.perf_counter() - started:.1f} s")
    services = build(_settings(url))
    if args.grow:
        grow(services, args.grow)
    today = services.clock.now().astimezone(dt.UTC).date()
    since = dt.datetime.combine(today - dt.timedelta(days=29), dt.time(), tzinfo=dt.UTC)
    until = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    with services.uow.transaction() as session:
        from lealta.channels.tables import MessageInteraction, OutboxMessage

        sent = session.scalar(select(func.count()).select_from(OutboxMessage))
        events = session.scalar(select(func.count()).select_from(MessageInteraction))
        print(f"{sent:,} messages, {events:,} interactions; the last 30 days from {since:%Y-%m-%d}")
        queries: dict[str, Callable[[], Any]] = {
            "message report by workflow": lambda: message_report(
                session, by="workflow", since=since, until=until
            ),
            "message report by step": lambda: message_report(
                session, by="step", since=since, until=until
            ),
            "totals": lambda: message_totals(session, since=since, until=until),
            "trend per day": lambda: trend(session, since=since, until=until),
            "A/B splits": lambda: split_results(session, since=since, until=until),
            "NPS": lambda: nps(session, since=since, until=until),
            "deliverability by domain": lambda: deliverability.by_domain(
                session, since=since, until=until
            ),
        }
        print(f"  {'query':30} {'p50 ms':>8} {'p95 ms':>8}")
        for label, run in queries.items():
            p50, p95 = _timed(run, max(args.requests // 4, 3))
            print(f"  {label:30} {p50:8.0f} {p95:8.0f}")
    client = _signed_in_client(services)
    try:
        for label, path in (
            ("page /reports?period=30", "/reports?period=30"),
            ("page /reports (by step)", "/reports?period=30&by=step"),
            ("page /reports/deliverability", "/reports/deliverability"),
        ):
            assert client.get(path).status_code == 200, path
            p50, p95 = _timed(lambda path=path: client.get(path), args.requests)
            print(f"  {label:30} {p50:8.0f} {p95:8.0f}")
    finally:
        client.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
