"""How fast one condition finds its people: the compiled query beside a hand-written floor.

Builds (once, kept in ``--data-dir``) a SQLite store of N contacts with 10 events each over 90
days (page views of 6 categories, e-mail opens), 2 orders each with lines, tags on one in ten,
and times ``lealta.conditions.sql.members_query`` (set-wise, counted) for typical audience
rules, each beside the bare SQL a person would write for the same rule (the floor). Prints CPU
seconds, their ratio and the counts; the counts must agree.

    .venv/bin/python benchmarks/conditions.py 1_000_000          # 1M contacts, 10M events
    .venv/bin/python benchmarks/conditions.py 20_000 --quick     # smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from lealta.conditions import parse
from lealta.conditions.sql import members_query
from lealta.storage.engine import make_engine
from lealta.storage.migrate import upgrade

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
CATEGORIES = ["shoes", "hats", "shirts", "bags", "socks", "coats"]

RULES: list[tuple[str, dict[str, Any], str]] = [
    (
        "viewed shoes >= 2 times in 30 days",
        {
            "kind": "event_count",
            "event": "Product Viewed",
            "where": [{"property": "category", "op": "equals", "value": "shoes"}],
            "within_days": 30,
            "gte": 2,
        },
        """SELECT count(*) FROM (SELECT contact_id FROM events
           WHERE lower(name) = 'product viewed' AND occurred_at > :since30 AND occurred_at <= :now
             AND json_extract(properties, '$.category') = 'shoes'
           GROUP BY contact_id HAVING count(*) >= 2)""",
    ),
    (
        "opened an e-mail of 'welcome' in 30 days",
        {"kind": "message", "template": "welcome", "within_days": 30},
        """SELECT count(DISTINCT contact_id) FROM events
           WHERE lower(name) = 'email opened' AND occurred_at > :since30 AND occurred_at <= :now
             AND json_extract(properties, '$.template') = 'welcome'""",
    ),
    (
        "no order in 90 days (and a tag)",
        {
            "kind": "all",
            "conditions": [
                {"kind": "tag", "tag": "vip"},
                {"kind": "bought", "within_days": 90, "lte": 0},
            ],
        },
        """SELECT count(*) FROM contact_tags t WHERE t.tag = 'vip' AND NOT EXISTS
           (SELECT 1 FROM orders o WHERE o.contact_id = t.contact_id
              AND o.placed_at > :since90 AND o.placed_at <= :now)""",
    ),
    (
        "bought 2+ shoes in 60 days",
        {"kind": "bought", "category": "shoes", "measure": "quantity", "within_days": 60, "gte": 2},
        """SELECT count(*) FROM (SELECT o.contact_id FROM orders o, json_each(o.items) i
           WHERE o.placed_at > :since60 AND o.placed_at <= :now
             AND json_extract(i.value, '$.category') = 'shoes'
           GROUP BY o.contact_id
           HAVING sum(coalesce(json_extract(i.value, '$.quantity'), 1)) >= 2)""",
    ),
    (
        "country ES",
        {"kind": "attribute", "name": "country", "op": "equals", "value": "ES"},
        "SELECT count(*) FROM contacts WHERE json_extract(attributes, '$.country') = 'ES'",
    ),
]


def build(path: Path, contacts: int) -> None:
    """The store: schema by the migrations, rows by recursive SQL (fast to generate)."""
    upgrade(f"sqlite:///{path}")
    db = sqlite3.connect(path)
    db.executescript(
        f"""
        PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-400000;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {contacts})
        INSERT INTO contacts (id, created_at, updated_at, attributes, score, score_state)
        SELECT printf('%032x', i), '2025-01-01 00:00:00.000000', '2025-01-01 00:00:00.000000',
               json_object('country', CASE i % 4 WHEN 0 THEN 'ES' WHEN 1 THEN 'FR'
                                      WHEN 2 THEN 'IT' ELSE 'DE' END), i % 100, '{{}}'
        FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {contacts * 10})
        INSERT INTO events (message_id, contact_id, type, name, properties, context, occurred_at,
                            received_at)
        SELECT 'm' || i, printf('%032x', (i * 7919) % {contacts} + 1), 'track',
               CASE WHEN i % 10 = 0 THEN 'Email Opened' ELSE 'Product Viewed' END,
               CASE WHEN i % 10 = 0 THEN json_object('template', CASE WHEN i % 20 = 0
                    THEN 'welcome' ELSE 'news' END)
                    ELSE json_object('category', {_case("(i / 3) % 6", CATEGORIES)}) END,
               '{{}}',
               strftime('%Y-%m-%d %H:%M:%f000', '2026-03-01', '-' || (i % 90) || ' days',
                        '-' || (i % 86400) || ' seconds'),
               '2026-03-01 00:00:00.000000'
        FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {contacts * 2})
        INSERT INTO orders (external_id, contact_id, placed_at, amount, currency, items, created_at)
        SELECT 'o' || i, printf('%032x', (i * 104729) % {contacts} + 1),
               strftime('%Y-%m-%d %H:%M:%f000', '2026-03-01', '-' || (i * 37 % 730) || ' days'),
               20 + i % 80, 'EUR',
               json_array(json_object('product_id', 'p' || (i % 50), 'category',
                                      {_case("(i / 7) % 6", CATEGORIES)},
                                      'quantity', 1 + (i / 5) % 3,
                                      'price', '9.90')),
               '2026-03-01 00:00:00.000000'
        FROM n;
        INSERT INTO contact_tags (contact_id, tag, created_at)
        SELECT id, 'vip', '2025-01-01 00:00:00.000000' FROM contacts WHERE rowid % 10 = 0;
        ANALYZE;
        """
    )
    db.close()


def _case(expression: str, values: list[str]) -> str:
    whens = " ".join(f"WHEN {n} THEN '{value}'" for n, value in enumerate(values))
    return f"CASE {expression} {whens} END"


def _timed(run: Any, repeat: int) -> tuple[float, Any]:
    """The least CPU time of ``repeat`` runs (SQLite runs in this process: the figure the
    shared machine's load distorts least), and the answer."""
    best, answer = float("inf"), None
    for _ in range(repeat):
        started = time.process_time()
        answer = run()
        best = min(best, time.process_time() - started)
    return best, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("contacts", type=lambda s: int(float(s.replace("_", "").replace(",", ""))))
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "lealta-bench"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    repeat = 1 if options.quick else options.repeat
    options.data_dir.mkdir(parents=True, exist_ok=True)
    path = options.data_dir / f"conditions-{options.contacts}.db"
    if not path.exists():
        started = time.perf_counter()
        build(path, options.contacts)
        print(f"built {path} in {time.perf_counter() - started:.0f} s (not counted)")
    engine = make_engine(f"sqlite:///{path}")
    days = {f"since{d}": NOW - dt.timedelta(days=d) for d in (30, 60, 90)}
    binds = {"now": NOW, "since": NOW - dt.timedelta(days=14), **days}
    binds = {k: v.strftime("%Y-%m-%d %H:%M:%S.%f") for k, v in binds.items()}
    print(f"{'rule (CPU seconds)':40} {'lealta':>9} {'floor':>8} {'ratio':>6}", end="")
    print(f" {'members':>9} {'floor':>9}")
    with engine.connect() as connection:
        for label, rule, floor in RULES:
            query = members_query(parse(rule), now=NOW, setwise=True)
            counted = select(func.count()).select_from(query.subquery())
            ours, found = _timed(lambda q=counted: connection.scalar(q), repeat)
            bare, expected = _timed(lambda f=floor: connection.scalar(text(f), binds), repeat)
            ratio = ours / bare if bare else float("nan")
            print(f"{label:40} {ours:9.2f} {bare:8.2f} {ratio:6.2f} {found:9,} {expected:9,}")


if __name__ == "__main__":
    main()
