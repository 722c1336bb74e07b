"""Status points for a tier review: Lealta's grouped ledger query beside a bare SUM.

Loads ``--customers`` contacts and ``--entries`` ledger entries per contact (earns with their
order ids, bonuses, redemptions, expiries, adjustments and a return for one order in twenty,
over the last two years) into a throwaway SQLite file and/or PostgreSQL database, then times
on each:

* :func:`lealta.loyalty.status_points.status_points` over every customer, for a programme with
  points rules of two windows (365 and 90 days), as a full review reads it;
* the same for one contact (what the card and a partial review of one customer add);
* the floor: one bare ``SELECT contact_id, SUM(points) … WHERE kind IN ('earn', 'bonus') AND
  created_at in the window GROUP BY contact_id`` (one window, returns ignored).

    .venv/bin/python benchmarks/loyalty_status_points.py --quick      # 20,000 customers
    .venv/bin/python benchmarks/loyalty_status_points.py              # 200,000 customers
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).parent))
from lealta.bootstrap import Services, build
from lealta.config import Settings
from scratch import scratch_database

AS_OF = dt.date(2026, 6, 1)
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PROGRAM = {
    "name": "Bench",
    "points": {},
    "tiers": [
        {"name": "Member"},
        {"name": "Silver", "qualify": {"points": 300, "window_days": 90}},
        {"name": "Gold", "qualify": {"points": 2000}},
    ],
}
FLOOR = """
SELECT contact_id, SUM(points) FROM loyalty_points
WHERE kind IN ('earn', 'bonus') AND created_at >= :start AND created_at < :end
GROUP BY contact_id
"""
FLUSH = 50_000


def load(services: Services, customers: int, per: int) -> None:
    from lealta.contacts.tables import Contact
    from lealta.loyalty.tables import PointsEntry

    rng = random.Random(7)
    end = dt.datetime.combine(AS_OF, dt.time(), dt.UTC)
    started = time.perf_counter()
    contacts: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []

    def flush() -> None:
        with services.uow.transaction() as session:
            if contacts:
                session.execute(insert(Contact), contacts)
            if entries:
                session.execute(insert(PointsEntry), entries)
        contacts.clear()
        entries.clear()

    for n in range(customers):
        cid = f"c{n:08d}"
        contacts.append({"id": cid, "attributes": {}, "created_at": end, "updated_at": end})
        balance = 0
        moments = sorted(
            end - dt.timedelta(minutes=rng.randrange(2 * 365 * 1440)) for _ in range(per)
        )
        for i, moment in enumerate(moments):
            kind, points, order = _entry(rng, balance, i, cid)
            balance += points
            entries.append(
                {"contact_id": cid, "seq": i + 1, "kind": kind, "points": points,
                 "balance": balance, "key": f"{kind}:{i}", "order_id": order,
                 "created_at": moment, "reason": "", "actor": "bench"}
            )  # fmt: skip
        if len(entries) >= FLUSH:
            flush()
            print(f"\r  {n + 1:,} customers", end="", flush=True)
    flush()
    with services.uow.transaction() as session:
        session.execute(text("ANALYZE"))
    print(f"\r  loaded {customers:,} customers, {customers * per:,} entries in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip


def _entry(rng: random.Random, balance: int, i: int, cid: str) -> tuple[str, int, str | None]:
    roll = rng.random()
    if roll < 0.05 and balance >= 10:
        return "return", -min(balance, 10), f"{cid}-o{max(i - 1, 0)}"
    if roll < 0.15 and balance >= 50:
        return "redeem", -50, None
    if roll < 0.20 and balance >= 5:
        return "expire", -5, None
    if roll < 0.25:
        return "adjust", 20, None
    if roll < 0.40:
        return "bonus", 40, None
    return "earn", rng.randrange(10, 200), f"{cid}-o{i}"


def timed(what: str, work: Any, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    print(f"  {what:<44} {best:8.3f} s")
    return best


def bench(services: Services, label: str) -> None:
    from lealta.loyalty.program import load_program
    from lealta.loyalty.status_points import status_points

    program = load_program(PROGRAM)
    end = dt.datetime.combine(AS_OF, dt.time(), dt.UTC)
    print(f"{label}:")

    def everyone() -> None:
        with services.uow.transaction() as session:
            frame = status_points(session, program, as_of=AS_OF)
            assert len(frame)

    def one() -> None:
        with services.uow.transaction() as session:
            status_points(session, program, as_of=AS_OF, contact_ids=["c00000042"])

    def floor() -> None:
        with services.uow.transaction() as session:
            rows = session.execute(
                text(FLOOR), {"start": end - dt.timedelta(days=365), "end": end}
            ).all()
            assert rows

    timed("Lealta, every customer (2 windows, returns)", everyone)
    timed("Lealta, one customer", one)
    timed("floor: bare SUM … GROUP BY (1 window)", floor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--entries", type=int, default=10, help="ledger entries per customer")
    parser.add_argument("--quick", action="store_true", help="20,000 customers")
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    customers = 20_000 if args.quick else args.customers
    kinds = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    for kind in kinds:
        with ExitStack() as stack:
            url = stack.enter_context(
                scratch_database(kind, args.postgres, prefix="lealta_bench_status_points")
            )
            services = build(
                Settings(database_url=url, process_in_server=False,
                         secret_key="benchmark-secret-" + "x" * 32)
            )  # fmt: skip
            print(f"Loading into {kind}:")
            load(services, customers, args.entries)
            bench(
                services, f"{kind}, {customers:,} customers, {customers * args.entries:,} entries"
            )
            services.uow.engine.dispose()


if __name__ == "__main__":
    main()
