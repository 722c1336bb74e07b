"""An advertising export of a whole shop: time and memory of ``lealta ads export`` beside the
floor (the same rows read by one bare SQL join, neither hashed nor written).

    .venv/bin/python benchmarks/retargeting.py sqlite 1_000_000
    .venv/bin/python benchmarks/retargeting.py postgresql+psycopg://postgres@127.0.0.1/postgres 1e6

Every contact has an e-mail and is tagged ``all``; half have a phone and names, 60 % granted
``ads`` consent, 20 % denied it. The database is built once per size and reused. Memory is
the growth of the process's peak resident size over the export: it must not grow with size.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from lealta.contacts.tables import Consent, Contact, ContactTag, Identifier
from lealta.retargeting.service import export
from lealta.retargeting.sources import Tag
from lealta.storage.engine import make_engine
from lealta.storage.migrate import upgrade
from lealta.storage.unit_of_work import UnitOfWork

BATCH = 20_000


class Counting(io.TextIOBase):
    """A text sink that only counts what is written (the file's size without the disk)."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, text: str) -> int:
        self.size += len(text)
        return len(text)


def _database(target: str, size: int) -> str:
    if target == "sqlite":
        path = Path("/tmp") / f"lealta-ads-bench-{size}.db"
        url = f"sqlite:///{path}"
        if path.exists():
            return url
    else:
        name = f"lealta_ads_bench_{size}"
        admin = create_engine(target, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            there = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if not there:
                connection.execute(text(f'CREATE DATABASE "{name}"'))  # a generated name
        admin.dispose()
        url = make_url(target).set(database=name).render_as_string(hide_password=False)
        if there:
            return url
    upgrade(url)
    _fill(url, size)
    return url


def _fill(url: str, size: int) -> None:
    rng = random.Random(11)
    engine = make_engine(url)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as connection:
        for first in range(0, size, BATCH):
            rows: dict[str, list[dict[str, Any]]] = {"c": [], "i": [], "t": [], "k": []}
            for n in range(first, min(first + BATCH, size)):
                cid = f"{n:032x}"
                named = n % 2 == 0
                attributes = {"first_name": "Ana", "last_name": "Rossi", "zip": "20121"}
                rows["c"].append(
                    {"id": cid, "created_at": now, "updated_at": now,
                     "attributes": attributes if named else {}}
                )  # fmt: skip
                rows["i"].append({"contact_id": cid, "kind": "email", "value": f"p{n}@example.com"})
                if named:
                    phone = f"+39347{n % 10_000_000:07d}"
                    rows["i"].append({"contact_id": cid, "kind": "phone", "value": phone})
                rows["t"].append({"contact_id": cid, "tag": "all", "created_at": now})
                draw = rng.random()
                if draw < 0.8:
                    status = "granted" if draw < 0.6 else "denied"
                    rows["k"].append(
                        {"contact_id": cid, "channel": "ads", "status": status, "source": "bench",
                         "proof": {}, "recorded_at": now}
                    )  # fmt: skip
            connection.execute(insert(Contact), rows["c"])
            connection.execute(insert(Identifier), [{**r, "created_at": now} for r in rows["i"]])
            connection.execute(insert(ContactTag), rows["t"])
            connection.execute(insert(Consent), rows["k"])
    engine.dispose()


FLOOR = """
SELECT t.contact_id, i.kind, i.value, k.status
FROM contact_tags t
JOIN identifiers i ON i.contact_id = t.contact_id
LEFT JOIN consents k ON k.contact_id = t.contact_id AND k.channel = 'ads'
WHERE t.tag = 'all'
"""


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    size = int(float(sys.argv[2])) if len(sys.argv) > 2 else 100_000
    started = time.perf_counter()
    url = _database(target, size)
    print(f"store ready in {time.perf_counter() - started:.1f} s ({size:,} contacts)")
    uow = UnitOfWork(make_engine(url))
    with uow.transaction() as session:
        started = time.perf_counter()
        rows = sum(1 for _ in session.execute(text(FLOOR)).yield_per(BATCH))
        floor = time.perf_counter() - started
    for format_ in ("meta", "google"):
        sink = Counting()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with uow.transaction() as session:
            started = time.perf_counter()
            counts = export(session, Tag("all"), sink, format_=format_, country_default="IT")
            took = time.perf_counter() - started
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before  # KiB on Linux
        print(
            f"{format_}: {counts.exported:,} exported, {counts.left_out:,} left out in "
            f"{took:.1f} s ({size / took:,.0f} contacts/s), file {sink.size / 1e6:.0f} MB, "
            f"peak memory grew by {grown / 1024:.1f} MB"
        )
    print(f"floor (bare SQL join, {rows:,} rows, not hashed): {floor:.1f} s")
    uow.engine.dispose()


if __name__ == "__main__":
    main()
