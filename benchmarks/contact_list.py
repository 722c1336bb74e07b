"""The contact list at a million contacts: how long a page, a search, a count and the filter
choices take on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/contact_list.py sqlite 1_000_000
    .venv/bin/python benchmarks/contact_list.py postgresql+psycopg://postgres@127.0.0.1/postgres 1e6

The database is built once (names, e-mails, phones, RFM for a third, tags for a tenth) and
reused by later runs with the same size; each query then runs 3 times and the best is printed.
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

from lealta.contacts import choices, search
from lealta.contacts.names import search_name
from lealta.contacts.tables import Contact, ContactTag, Identifier
from lealta.segmentation.tables import ContactRfm
from lealta.storage.engine import make_engine
from lealta.storage.migrate import upgrade
from lealta.storage.unit_of_work import UnitOfWork

FIRST = ["Marta", "José", "Ana", "Luis", "Carmen", "Jorge", "Lucía", "Pablo", "Elena", "Hugo"]
LAST = ["García", "López", "Martín", "Sánchez", "Pérez", "Gómez", "Ruiz", "Díaz", "Moreno"]
SEGMENTS = ["Champions", "Loyal", "At risk", "Hibernating", "New customers", "Lost"]
BATCH = 20_000


def _database(target: str, size: int) -> str:
    if target == "sqlite":
        path = Path("/tmp") / f"lealta-list-bench-{size}.db"
        url = f"sqlite:///{path}"
        if path.exists():
            return url
    else:
        name = f"lealta_list_bench_{size}"
        admin = create_engine(target, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            there = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if there:
                return make_url(target).set(database=name).render_as_string(hide_password=False)
            connection.execute(text(f'CREATE DATABASE "{name}"'))  # a generated name
        url = make_url(target).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    _fill(url, size)
    return url


def _fill(url: str, size: int) -> None:
    rng = random.Random(7)
    engine = make_engine(url)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as connection:
        for first in range(0, size, BATCH):
            contacts, ids, rfm, tags = [], [], [], []
            for n in range(first, min(first + BATCH, size)):
                cid = f"{n:032x}"
                attributes = {"first_name": rng.choice(FIRST), "last_name": rng.choice(LAST)}
                if n % 99_991 == 0:
                    attributes["last_name"] = "Zuloaga"  # a rare name
                seen = start + dt.timedelta(minutes=rng.randrange(1_000_000))
                contacts.append(
                    {
                        "id": cid,
                        "created_at": start + dt.timedelta(seconds=n),
                        "updated_at": start,
                        "attributes": attributes,
                        "search_name": search_name(attributes),
                        "lifecycle_stage": rng.choice(["Lead", "Customer", "Subscriber"]),
                        "score": float(rng.randrange(100)),
                        "score_state": {},
                        "last_seen_at": seen,
                    }
                )
                ids.append({"contact_id": cid, "kind": "email", "value": f"p{n}@example.com"})
                ids.append({"contact_id": cid, "kind": "phone", "value": f"+346{n:08d}"})
                if n % 3 == 0:
                    rfm.append(_rfm(cid, rng, start))
                if n % 10 == 0:
                    tags.append({"contact_id": cid, "tag": f"tag-{n % 40}", "created_at": start})
            connection.execute(insert(Contact), contacts)
            connection.execute(insert(Identifier), [{**i, "created_at": start} for i in ids])
            connection.execute(insert(ContactRfm), rfm)
            if tags:
                connection.execute(insert(ContactTag), tags)
            print(f"  {first + BATCH:,} contacts", file=sys.stderr, end="\r")
    engine.dispose()


def _rfm(cid: str, rng: random.Random, at: dt.datetime) -> dict[str, Any]:
    r, f = rng.randint(1, 5), rng.randint(1, 5)
    cluster = rng.randrange(5)
    return {
        "contact_id": cid,
        "recency_days": 10,
        "frequency": f,
        "monetary": 50.0,
        "payment": None,
        "r": r,
        "f": f,
        "m": 3,
        "p": None,
        "code": f"{r}{f}3",
        "segment": rng.choice(SEGMENTS),
        "cluster": cluster,
        "cluster_name": f"group {cluster}",
        "as_of": at,
        "computed_at": at,
    }


def _best(run: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times) * 1000


def main() -> None:
    target, size = sys.argv[1], int(float(sys.argv[2].replace("_", "").replace(",", "")))
    url = _database(target, size)
    uow = UnitOfWork(make_engine(url))
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cases: dict[str, search.ContactFilter] = {
        "everyone, first page": search.ContactFilter(),
        "q = common first name (marta)": search.ContactFilter(q="marta"),
        "q = rare last name (zuloaga)": search.ContactFilter(q="Zuloaga"),
        "q = no match (xyzzy)": search.ContactFilter(q="xyzzy"),
        "q = e-mail part (p123456@)": search.ContactFilter(q="p123456@"),
        "q = phone (600 123 456)": search.ContactFilter(q="600 123 456"),
        "q = contact id": search.ContactFilter(q=f"{size // 2:032x}"),
        "segment + score 50..60": search.ContactFilter(
            segment="Champions", score_min=50, score_max=60
        ),
        "cluster 3, seen in 30 days": search.ContactFilter(
            cluster=3, seen_after=now - dt.timedelta(days=30)
        ),
        "stage + tag": search.ContactFilter(stage="Customer", tag="tag-7"),
    }
    print(f"{make_url(url).get_backend_name()}, {size:,} contacts (best of 3, ms)")
    print(f"{'query':38} {'page':>8} {'count≤10k':>10}  matches")
    with uow.transaction() as session:
        total = session.scalar(select(func.count()).select_from(Contact))
        print(f"(table holds {total:,})")
        for label, wanted in cases.items():
            page = _best(lambda w=wanted: search.search(session, w, limit=50))
            counted = _best(lambda w=wanted: search.count(session, w))
            n, more = search.count(session, wanted)
            print(f"{label:38} {page:8.1f} {counted:10.1f}  {'>' if more else ''}{n:,}")
        picked = _best(lambda: choices.choices(session))
        print(f"{'filter choices (all selects)':38} {picked:8.1f}")
    uow.engine.dispose()


if __name__ == "__main__":
    main()
