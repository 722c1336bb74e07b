"""Loyalty tier reviews at a million customers: Lealta's review beside one bare SQL statement.

Loads ``--customers`` customers (contacts with their orders and RFM scores in ``contact_rfm``)
and the shipped programme ``genius.yaml`` into a throwaway SQLite file and/or a PostgreSQL
database (``lealta_bench_loyalty_<N>``, kept for reruns), then times on each engine:

* Lealta's review, :func:`lealta.loyalty.service.apply_program`, as after an RFM run (on the
  orders file the run exported, exported here beforehand and not timed, in a process that
  has imported and connected what the run scores with, also not timed): the first review
  (every customer enters a tier: a change and an event each), then a review a day later
  (same scores: no change, so no tier row is written); then a review on its own two days later,
  which exports the orders itself (a scheduled review, ``lealta loyalty review``);
* the floor: one bare SQL ``UPDATE … FROM`` setting each customer's tier rank in a scratch
  table (a row per customer, made beforehand), once from the score sum alone
  (``contact_rfm``), once with the programme's every rule (the score sum plus orders and
  spend in their windows, from ``orders``).

It prints both side by side, in seconds and in CPU seconds (this process's and, on
PostgreSQL, the server's for the benchmark's database: the work done, which a busy machine
does not inflate as it does the seconds), each with its ratio to the every-rule floor, and
the verdict against the issue's 30 s. ``--profile FILE`` profiles the two reviews after RFM
in CPU time (the second into ``FILE.later``); ``--after-rfm-only`` leaves out the review on
its own.

    .venv/bin/python benchmarks/loyalty.py --quick                      # 50,000, both engines
    .venv/bin/python benchmarks/loyalty.py                              # 1,000,000, both engines
    .venv/bin/python benchmarks/loyalty.py --customers 200000 --engine sqlite --profile prof.out
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import make_url

from lealta.bootstrap import Services, build
from lealta.config import Settings

TARGET_S = 30.0
NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)  # the review's time
AS_OF = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)  # the RFM run's as-of date
PROGRAM = Path(__file__).parents[1] / "src/lealta/loyalty/examples/genius.yaml"
ORDERS_PER_FLUSH = 50_000
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

# The floors: one UPDATE … FROM setting every customer's tier rank in a scratch table (one row
# per customer, rank 0, written beforehand and not timed). Their thresholds are genius.yaml's,
# written by hand: eligibility a score sum of 6; Gold by a sum of 12 (or 5 orders, or R 4, M 5
# and €500 in a year); Platinum by 15 orders (or a sum of 14 and €2,000 in a year); Silver by
# 2 orders; Member every eligible customer.
FLOOR_SCORES = """
UPDATE bench_floor SET tier_rank = a.tier_rank
FROM (SELECT contact_id, CASE WHEN r + f + m >= 12 THEN 3 ELSE 1 END AS tier_rank
      FROM contact_rfm
      WHERE r + f + m >= 6) a
WHERE bench_floor.contact_id = a.contact_id
"""
FLOOR_RULES = """
UPDATE bench_floor SET tier_rank = a.tier_rank
FROM (SELECT s.contact_id,
             CASE
               WHEN o.orders_730 >= 15 OR (s.r + s.f + s.m >= 14 AND o.spend_365 >= 2000) THEN 4
               WHEN o.orders_730 >= 5 OR s.r + s.f + s.m >= 12
                    OR (s.r >= 4 AND s.m >= 5 AND o.spend_365 >= 500) THEN 3
               WHEN o.orders_730 >= 2 THEN 2
               ELSE 1
             END AS tier_rank
      FROM contact_rfm s
      JOIN (SELECT contact_id,
                   sum(CASE WHEN placed_at >= :d730 THEN 1 ELSE 0 END) AS orders_730,
                   sum(CASE WHEN placed_at >= :d365 THEN amount ELSE 0 END) AS spend_365
            FROM orders
            WHERE placed_at < :as_of
            GROUP BY contact_id) o ON o.contact_id = s.contact_id
      WHERE s.r + s.f + s.m >= 6) a
WHERE bench_floor.contact_id = a.contact_id
"""


def contact_id(i: int) -> str:
    return f"{i:032x}"


def _score(value: float, bounds: tuple[float, ...]) -> int:
    """1 plus the number of ``bounds`` (ascending) that ``value`` reaches."""
    return 1 + sum(value >= bound for bound in bounds)


def shop(customers: int) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]]:
    """Per customer: the contact, their orders over three years and their RFM row.

    The scores follow the orders (R from days since the last order, F from their number, M
    from their sum) with fixed bounds, so every tier gets customers."""
    rng = random.Random(7)
    number = 0
    for i in range(customers):
        cid = contact_id(i)
        last = rng.random() * 1095
        count = min(1 + int(rng.expovariate(0.4)), 40)
        days = [last] + [last + rng.random() * (1095 - last) for _ in range(count - 1)]
        orders = []
        for back in days:
            number += 1
            orders.append(
                {
                    "external_id": f"o{number}",
                    "contact_id": cid,
                    "placed_at": AS_OF - dt.timedelta(days=back, seconds=1),
                    "amount": round(5 + rng.expovariate(1 / 70), 2),
                }
            )
        spend = sum(o["amount"] for o in orders)
        r = 6 - _score(last, (60, 180, 365, 730))
        f, m = _score(count, (2, 3, 5, 8)), _score(spend, (60, 150, 300, 600))
        rfm = {
            "contact_id": cid,
            "recency_days": int(last) + 1,
            "frequency": count,
            "monetary": round(spend, 2),
            "r": r,
            "f": f,
            "m": m,
            "code": f"{r}{f}{m}",
            "segment": "Champions" if r + f + m >= 12 else "Others",
        }
        yield {"id": cid}, orders, rfm


def load(services: Services, customers: int) -> None:
    """Write the shop and the programme into the (migrated, empty) database of ``services``."""
    from lealta.contacts.tables import Contact
    from lealta.loyalty.service import save
    from lealta.orders.tables import Order
    from lealta.segmentation.tables import ContactRfm
    from lealta.storage import bulk

    started = time.perf_counter()
    contact_shared = {
        "created_at": AS_OF, "updated_at": AS_OF, "attributes": {}, "score": 0.0,
        "score_state": {}, "lifecycle_stage": "Customer",
    }  # fmt: skip
    order_shared = {"currency": "EUR", "channel": "web", "items": [], "created_at": AS_OF}
    rfm_shared = {
        "payment": None, "p": None, "cluster": None, "cluster_name": None, "as_of": AS_OF,
        "computed_at": AS_OF,
    }  # fmt: skip
    buffers: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
    written = [0, 0]

    def flush() -> None:
        contacts, orders, scores = buffers
        with services.uow.transaction() as session:
            connection = session.connection()
            bulk.insert_rows(connection, Contact.__table__, contacts, shared=contact_shared)
            bulk.insert_rows(connection, Order.__table__, orders, shared=order_shared)
            bulk.insert_rows(connection, ContactRfm.__table__, scores, shared=rfm_shared)
        written[0] += len(contacts)
        written[1] += len(orders)
        for buffer in buffers:
            buffer.clear()
        if sys.stderr.isatty():
            print(f"\r  {written[0]:,} customers, {written[1]:,} orders", end="", file=sys.stderr)

    for contact, orders, rfm in shop(customers):
        buffers[0].append(contact)
        buffers[1].extend(orders)
        buffers[2].append(rfm)
        if len(buffers[1]) >= ORDERS_PER_FLUSH:
            flush()
    flush()
    with services.uow.transaction() as session:
        save(session, PROGRAM.read_text(), now=AS_OF)
        session.execute(text("ANALYZE"))
    took = time.perf_counter() - started
    print(f"\r  loaded {written[0]:,} customers, {written[1]:,} orders in {took:.0f} s")


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url, process_in_server=False, secret_key="benchmark-secret-" + "x" * 32
    )


def sqlite_services(stack: ExitStack, customers: int) -> Services:
    """A freshly loaded throwaway SQLite file (removed when ``stack`` closes)."""
    from scratch import scratch_database

    url = stack.enter_context(scratch_database("sqlite", "", prefix="lealta-bench-loyalty"))
    services = build(_settings(url))
    print(f"Loading {customers:,} customers into SQLite:")
    load(services, customers)
    return services


def postgres_services(server: str, customers: int) -> Services:
    """The database ``lealta_bench_loyalty_<N>`` on ``server``, loaded the first time."""
    name = f"lealta_bench_loyalty_{customers}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    loaded = False
    with admin.connect() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            probe = create_engine(make_url(server).set(database=name))
            with probe.connect() as db:
                loaded = bool(db.scalar(text("SELECT to_regclass('bench_loaded') IS NOT NULL")))
            probe.dispose()
            if not loaded:
                connection.execute(text(f'DROP DATABASE "{name}"'))  # our own fixed name
        if not loaded:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    services = build(_settings(url))
    if loaded:
        print(f"PostgreSQL: reusing the database {name}")
        return services
    print(f"Loading {customers:,} customers into PostgreSQL ({name}):")
    load(services, customers)
    with services.uow.transaction() as session:
        session.execute(text("CREATE TABLE bench_loaded (at text)"))
    return services


def reset_tiers(services: Services) -> None:
    """No tier, no tier history and no event: the state before the first review."""
    engine = services.uow.engine
    with services.uow.transaction() as session:
        if engine.dialect.name == "postgresql":
            session.execute(text("TRUNCATE contact_tiers, loyalty_tier_changes, events"))
        else:
            for table in ("contact_tiers", "loyalty_tier_changes", "events"):
                session.execute(text(f"DELETE FROM {table}"))  # fixed names
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE contact_tiers, loyalty_tier_changes, events"))


def time_review(
    services: Services, now: dt.datetime, orders: Path | None, profile: Path | None = None
) -> dict[str, Any]:
    """Run :func:`apply_program` once: its seconds, its phases and what it did."""
    from lealta.loyalty.service import apply_program

    marks: list[tuple[float, float]] = []
    used: list[tuple[float, float]] = []  # CPU seconds (this process and the server) so far
    meter = CpuMeter(services)

    def progress(fraction: float, _step: str) -> None:
        marks.append((fraction, time.perf_counter()))
        used.append((fraction, meter.used()))

    # CPU time, not wall time: on a busy machine waits for a CPU would swamp the profile
    profiler = cProfile.Profile(time.process_time) if profile else None
    started = time.perf_counter()
    marks.append((-1.0, started))
    used.append((-1.0, meter.used()))
    if profiler:
        profiler.enable()
    review = apply_program(services, now=now, orders=orders, progress=progress)
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(profile))
    seconds = time.perf_counter() - started
    assert review is not None, "no programme in force"
    moments, spent = dict(marks), dict(used)
    bounds = {"read and assign": (-1.0, 0.5), "status rules": (0.5, 0.6)}
    bounds |= {"save tiers": (0.6, 0.9), "record changes": (0.9, 1.0)}
    phases = {name: moments[b] - moments[a] for name, (a, b) in bounds.items()}
    phases_cpu = {name: spent[b] - spent[a] for name, (a, b) in bounds.items()}
    return {
        "seconds": seconds,
        "cpu_seconds": meter.used(),
        "phases": phases,
        "phases_cpu": phases_cpu,
        "customers": review.customers,
        "tiers": review.tiers,
        "upgraded": review.upgraded,
        "downgraded": review.downgraded,
    }


def time_floor(services: Services, sql: str) -> dict[str, float]:
    """One floor statement over a fresh scratch table of every customer at rank 0 (made
    beforehand, not timed): its seconds and CPU seconds (the database's, see
    :class:`CpuMeter`), committed."""
    from lealta.orders.tables import Order

    with services.uow.transaction() as session:
        session.execute(text("DROP TABLE IF EXISTS bench_floor"))
        session.execute(
            text("CREATE TABLE bench_floor (contact_id VARCHAR(32) PRIMARY KEY, tier_rank INT)")
        )
        session.execute(
            text("INSERT INTO bench_floor SELECT contact_id, 0 FROM contact_rfm")  # fixed names
        )
    if services.uow.engine.dialect.name == "postgresql":
        with services.uow.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as connection:
            connection.execute(text("VACUUM ANALYZE bench_floor"))
    statement = text(sql)
    if ":d730" in sql:
        moment = Order.__table__.c.placed_at.type
        statement = statement.bindparams(
            bindparam("d730", AS_OF - dt.timedelta(days=730), type_=moment),
            bindparam("d365", AS_OF - dt.timedelta(days=365), type_=moment),
            bindparam("as_of", AS_OF, type_=moment),
        )
    meter = CpuMeter(services)
    started = time.perf_counter()
    with services.uow.transaction() as session:
        session.execute(statement)
    return {"seconds": time.perf_counter() - started, "cpu_seconds": meter.used()}


class CpuMeter:
    """CPU seconds used since it was made by this process and, on PostgreSQL, by the server
    processes of the benchmark's database (read from ``/proc``; 0 for them off Linux): the
    work done, whatever else the machine's CPUs were busy with."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.own = time.process_time()
        self.server = self._server()

    def used(self) -> float:
        after = self._server()
        server = sum(after[pid] - self.server.get(pid, 0.0) for pid in after)
        return time.process_time() - self.own + server

    def _server(self) -> dict[int, float]:
        engine = self.services.uow.engine
        if engine.dialect.name != "postgresql":
            return {}
        with engine.connect() as connection:
            pids = connection.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            ).all()
        found = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return found


def disagreements(services: Services) -> int:
    """Customers whose tier rank differs between Lealta's review and the last floor."""
    query = """
        SELECT (SELECT count(*) FROM contact_tiers t
                LEFT JOIN bench_floor b ON b.contact_id = t.contact_id
                WHERE b.tier_rank IS NULL OR b.tier_rank <> t.tier_rank)
             + (SELECT count(*) FROM bench_floor b
                LEFT JOIN contact_tiers t ON t.contact_id = b.contact_id
                WHERE b.tier_rank > 0 AND t.contact_id IS NULL)
    """
    with services.uow.transaction() as session:
        return int(session.scalar(text(query)) or 0)


def machine_busy_seconds() -> float | None:
    """CPU seconds all processes have used since boot, from /proc/stat (None off Linux)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def as_after_rfm() -> float:
    """Do (untimed) what the RFM run before a review has done in its process: import ibis,
    its DuckDB backend and the scoring code, and connect DuckDB. The CPU seconds it took,
    which a review in a fresh process (``lealta loyalty apply``) pays on top."""
    started = time.process_time()
    import lealta.api  # noqa: F401  # what lealta.segmentation.store.rfm_from_store scores with
    from lealta.engines import connect

    connect("duckdb")
    return time.process_time() - started


def measure(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    """The reviews and both floors on one loaded database."""
    from lealta.segmentation.store import export_orders

    own, busy = time.process_time(), machine_busy_seconds()
    started = time.perf_counter()
    warmed = as_after_rfm()
    reset_tiers(services)
    with tempfile.TemporaryDirectory(prefix="lealta-bench-loyalty-") as folder:
        orders = Path(folder) / "orders.parquet"  # what the RFM run exported and read
        with services.uow.transaction() as session:
            export_orders(session, orders)
        first = time_review(services, NOW, orders, args.profile)
        later = time_review(
            services,
            NOW + dt.timedelta(days=1),
            orders,
            args.profile.with_suffix(f".later{args.profile.suffix}") if args.profile else None,
        )
    alone = None if args.after_rfm_only else time_review(services, NOW + dt.timedelta(days=2), None)
    scores_only = time_floor(services, FLOOR_SCORES)
    every_rule = time_floor(services, FLOOR_RULES)
    result = {
        "imports of the RFM run (not timed), CPU s": warmed,
        "first review": first,
        "review a day later": later,
        **({"review on its own": alone} if alone else {}),
        "floor, score sum only": scores_only,
        "floor, every rule": every_rule,
        "disagreements with the floor": disagreements(services),
    }
    after = machine_busy_seconds()
    if busy is not None and after is not None:
        wall = time.perf_counter() - started
        # what other processes (another benchmark, but also this run's PostgreSQL server) used
        result["others_cpu_share"] = (after - busy - (time.process_time() - own)) / (
            (os.cpu_count() or 1) * wall
        )
    return result


def report(engine: str, customers: int, result: dict[str, Any]) -> bool:
    """Print one engine's figures; whether both reviews after an RFM run met the target."""
    runs = {
        "Lealta, first review after RFM": result["first review"],
        "Lealta, a day later, after RFM": result["review a day later"],
        **(
            {"Lealta, on its own (exports)": result["review on its own"]}
            if "review on its own" in result
            else {}
        ),
        "floor, every rule": result["floor, every rule"],
        "floor, score sum only": result["floor, score sum only"],
    }
    floor = result["floor, every rule"]
    print(f"\n{engine}: {customers:,} customers; target: a review under {TARGET_S:.0f} s")
    print(f"  {'':34} {'seconds':>8} {'x floor':>8} {'CPU s':>7} {'x floor':>8}  what it did")
    for name, run in runs.items():
        did = (
            f"{run['customers']:,} in a tier, {run['upgraded']:,} up, {run['downgraded']:,} down"
            if "customers" in run
            else "UPDATE … FROM"
        )
        print(
            f"  {name:34} {run['seconds']:>8.2f} {run['seconds'] / floor['seconds']:>8.1f} "
            f"{run['cpu_seconds']:>7.2f} {run['cpu_seconds'] / floor['cpu_seconds']:>8.1f}  {did}"
        )
    for name, run in [(name, run) for name, run in runs.items() if "phases" in run]:
        parts = ", ".join(
            f"{phase} {s:.2f} s ({run['phases_cpu'][phase]:.2f} CPU s)"
            for phase, s in run["phases"].items()
        )
        print(f"  {name}: {parts}")
    print(f"  tiers: {result['first review']['tiers']}")
    warmed = result["imports of the RFM run (not timed), CPU s"]
    print(f"  imports and DuckDB connection an RFM run does first (not timed): {warmed:.2f} CPU s")
    differ = result["disagreements with the floor"]
    print(f"  customers whose tier differs from the every-rule floor: {differ:,}")
    share = result.get("others_cpu_share")
    if share is not None:
        print(f"  other processes (the database server included) used {share:.0%} of the CPUs")
    after = max(runs[name]["seconds"] for name in list(runs)[:2])
    work = max(runs[name]["cpu_seconds"] for name in list(runs)[:2])
    met = after < TARGET_S
    alone = result.get("review on its own")
    print(
        f"  verdict: {'met' if met else 'MISSED'}: after an RFM run the slower review took "
        f"{after:.1f} s ({work:.1f} CPU s, the database's included)"
        + (f"; on its own {alone['seconds']:.1f} s" if alone else "")
    )
    return met


def _number(value: str) -> int:
    return int(float(value.replace("_", "").replace(",", "")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--customers", type=_number, default=1_000_000, help="customers (1,000,000)"
    )
    parser.add_argument(
        "--engine", choices=("sqlite", "postgresql", "both"), default="both", help="(both)"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("LEALTA_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
        help="the PostgreSQL server to create lealta_bench_loyalty_<N> on "
        "($LEALTA_TEST_POSTGRES_URL, else postgres@127.0.0.1:5432)",
    )
    parser.add_argument("--quick", action="store_true", help="50,000 customers: a smoke run")
    parser.add_argument(
        "--after-rfm-only",
        action="store_true",
        help="leave out the review on its own (which exports the orders itself)",
    )
    parser.add_argument("--profile", type=Path, help="cProfile the first review into this file")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    customers = 50_000 if args.quick else args.customers
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    figures: dict[str, Any] = {"customers": customers, "cpus": os.cpu_count()}
    met = True
    for engine in engines:
        with ExitStack() as stack:
            if engine == "sqlite":
                services = sqlite_services(stack, customers)
            else:
                services = postgres_services(args.postgres_url, customers)
            if args.profile and len(engines) > 1:
                args.profile = args.profile.with_suffix(f".{engine}{args.profile.suffix}")
            figures[engine] = measure(services, args)
            met &= report(engine, customers, figures[engine])
            services.uow.engine.dispose()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0 if met or args.quick else 1


if __name__ == "__main__":
    raise SystemExit(main())
