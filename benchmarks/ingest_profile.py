"""CPU seconds the tracking processor spends applying a prepared inbox, without HTTP.

The same messages as ``benchmarks/ingest.py`` (``track`` events of 5,000 anonymous visitors
over five names) are accepted into a fresh SQLite (or PostgreSQL) database's inbox, then
:func:`lealta.tracking.processor.process_all` applies them in the process, timed by
``time.process_time``, after the garbage-collector tuning a worker's loop applies (when the
code has it): events per processor CPU second is the figure to compare between code versions
(run it from another checkout with ``PYTHONPATH=<checkout>/src``). ``--profile``
prints the processor's top functions by cumulative and own time (cProfile) and keeps the
profile in ``/tmp/ingest_profile.pstats``; its times are CPU times.

    python benchmarks/ingest_profile.py --events 20000
    python benchmarks/ingest_profile.py --events 20000 --profile 30
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import BATCH, POSTGRES_URL, _messages
from lealta.bootstrap import build
from lealta.config import Settings
from lealta.tracking import worker
from lealta.tracking.intake import check_batch, enqueue
from lealta.tracking.processor import process_all
from scratch import scratch_database

WARM = 1_000  # applied first, untimed: imports, caches, the first people created
PROFILE_FILE = "/tmp/ingest_profile.pstats"  # with --profile, for pstats' callers and callees


def run(url: str, events: int, profile: int) -> dict[str, float]:
    """Accept ``events`` messages (after a warm-up), apply them; the processor's figures."""
    settings = Settings(database_url=url, environment="test", secret_key="benchmark-secret")
    services = build(settings)
    messages = _messages(WARM + events)
    received = dt.datetime.now(dt.UTC)
    engine = services.inbox.engine

    def accept(part: list[dict[str, object]]) -> None:
        for start in range(0, len(part), BATCH):
            checked = check_batch({"batch": part[start : start + BATCH]}, received_at=received)
            enqueue(engine, checked.good, received_at=received)

    accept(messages[:WARM])
    process_all(services)
    accept(messages[WARM:])
    tune = getattr(worker, "tune_collector", None)  # what the worker's loop does first
    if tune is not None:
        tune()
    # CPU times, not wall times: on a loaded machine the wall clock counts others' work
    profiler = cProfile.Profile(time.process_time) if profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    applied = process_all(services)
    if profiler is not None:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profiler is not None:
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("cumulative").print_stats(profile)
        stats.sort_stats("tottime").print_stats(profile)
        profiler.dump_stats(PROFILE_FILE)
    services.uow.engine.dispose()
    if services.inbox is not services.uow:
        services.inbox.engine.dispose()
    return {"events": applied, "cpu_s": cpu, "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="events to apply (timed)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("LEALTA_BENCH_PG", POSTGRES_URL))
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    options = parser.parse_args()
    with scratch_database(options.database, options.postgres_url, prefix="h3_ingest") as url:
        figures = run(url, options.events, options.profile)
    print(
        f"{options.database}: applied {figures['events']:,.0f} events in "
        f"{figures['cpu_s']:.2f} CPU s ({figures['events'] / figures['cpu_s']:,.0f} events per "
        f"processor CPU s; wall {figures['wall_s']:.2f} s)"
    )


if __name__ == "__main__":
    main()
