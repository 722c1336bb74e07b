"""Affinity on the platform's own orders, and each contact's next-best items kept on the profile.

The order lines (``orders.items``: ``product_id`` or ``sku``, ``name``, ``category``,
``price``, ``quantity``) are streamed out of the state store into a temporary Parquet file, one
row per item, so the very pipeline that reads order files reads them, on DuckDB or Spark; by
product, each product reads by its latest ``name`` (the figures stay keyed by id). The customer
is the contact, the basket the order (``external_id``), the time ``placed_at`` (UTC). A line's
amount is its ``price`` times ``quantity`` when the item has a price, else the order's amount
shared equally among its items (amounts only feed the cleaning: a line of amount 0 is left
out, as in ``lealta rfm``). Orders without items give no line.

:func:`next_best_from_store` computes every contact's next-best items and replaces the
``contact_next_best`` table with them in one transaction (set-wise: a contact with no
suggestion any more loses its rows). The table's shape is in :mod:`lealta.affinity`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from lealta.affinity.options import AffinityOptions
from lealta.affinity.tables import ITEM_LENGTH, ContactNextBest
from lealta.errors import InvalidInput
from lealta.orders.tables import Order

if TYPE_CHECKING:
    from lealta.affinity.lines import Lines
    from lealta.bootstrap import Services

# Role → column of the exported file.
STORE_COLUMNS: dict[str, str | None] = {
    "customer": "customer_id",
    "date": "placed_at",
    "order": "order_id",
    "amount": "amount",
}
ITEM_COLUMNS = {"product": "product_id", "category": "category"}
CHUNK = 20_000
WRITE_CHUNK = 5_000

Progress = Callable[[float, str], None]


def _silent(_fraction: float, _step: str) -> None:
    """No one is following the progress."""


@dataclass(frozen=True)
class NextBestRun:
    """What a next-best run from the store did."""

    kind: str
    as_of: dt.date
    lines: int
    rules: int
    contacts: int
    suggestions: int
    computed_at: dt.datetime


def export_lines(session: Session, path: Path, *, progress: Progress | None = None) -> int:
    """Write every order's items to the Parquet file ``path``; returns the lines written.

    Columns: ``customer_id``, ``order_id``, ``placed_at`` (UTC, naive), ``product_id``,
    ``category``, ``name`` (the product's name, when the shop sent one), ``quantity`` and
    ``amount`` (see the module's note on amounts).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("customer_id", pa.string()),
            ("order_id", pa.string()),
            ("placed_at", pa.timestamp("us")),
            ("product_id", pa.string()),
            ("category", pa.string()),
            ("name", pa.string()),
            ("quantity", pa.float64()),
            ("amount", pa.float64()),
        ]
    )
    query = (
        select(Order.contact_id, Order.external_id, Order.placed_at, Order.amount, Order.items)
        .order_by(Order.id)
        .execution_options(yield_per=CHUNK)
    )
    total = session.scalar(select(func.count()).select_from(Order)) or 0
    done = written = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        for part in session.execute(query).partitions():
            rows = [line for order in part for line in order_lines(*order)]
            if rows:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            done += len(part)
            written += len(rows)
            if progress is not None:
                progress(done / max(total, done, 1), f"Reading {total:,} orders")
    return written


def order_lines(
    contact_id: str, order_id: str, placed_at: dt.datetime, amount: Any, items: Any
) -> list[dict[str, Any]]:
    """The lines of one stored order (pure; see the module's note on amounts)."""
    items = [item for item in items or [] if isinstance(item, dict)]
    moment = placed_at.astimezone(dt.UTC).replace(tzinfo=None) if placed_at.tzinfo else placed_at
    share = float(amount) / len(items) if items else 0.0
    lines = []
    for item in items:
        quantity = _number(item.get("quantity"), 1.0)
        price = _number(item.get("price"), None)
        product = item.get("product_id") or item.get("sku")
        lines.append(
            {
                "customer_id": contact_id,
                "order_id": order_id,
                "placed_at": moment,
                "product_id": None if product is None else str(product),
                "category": None if item.get("category") is None else str(item["category"]),
                "name": None if item.get("name") is None else str(item["name"]),
                "quantity": quantity,
                "amount": share if price is None else price * (quantity or 0.0),
            }
        )
    return lines


def _number(value: Any, default: float | None) -> float | None:
    try:
        return default if value is None else float(value)
    except (TypeError, ValueError):
        return default


@contextlib.contextmanager
def lines_file(services: Services, *, progress: Progress | None = None) -> Iterator[Path]:
    """The store's order lines as a temporary Parquet file, removed when the block ends.

    Raises
    ------
    InvalidInput
        When the store holds no order line yet.
    """
    with tempfile.TemporaryDirectory(prefix="lealta-affinity-") as folder:
        path = Path(folder) / "order-lines.parquet"
        with services.uow.transaction() as session:
            count = export_lines(session, path, progress=progress)
        if count == 0:
            raise InvalidInput(
                "there are no order lines in the store yet: orders need items (products with "
                "a product_id or category) for affinity",
                field="orders",
            )
        yield path


def read_store_lines(path: Path, options: AffinityOptions, *, engine: str = "duckdb") -> Lines:
    """The *lines* table of an exported store file (:func:`lines_file`)."""
    from lealta.affinity.lines import read_lines
    from lealta.engines import connect

    return read_lines(
        connect(engine),
        path,
        options,
        columns=dict(STORE_COLUMNS),
        item=ITEM_COLUMNS[options.by],
        cancel_pattern="",
    )


def next_best_from_store(
    services: Services,
    options: AffinityOptions,
    *,
    engine: str = "duckdb",
    write: bool = True,
    progress: Progress | None = None,
) -> NextBestRun:
    """Every contact's next-best items from the store's orders, saved to ``contact_next_best``.

    ``progress(fraction, step)`` hears reading (to 0.4), computing (to 0.8) and saving.
    """
    from lealta.affinity.next_best import next_best
    from lealta.affinity.pairs import in_sequence

    tell = progress or _silent
    with lines_file(services, progress=lambda f, s: tell(0.4 * f, s)) as path:
        lines = read_store_lines(path, options, engine=engine)
        tell(0.4, f"Finding what {options.by} follows which")
        rules = lines.engine.materialize(in_sequence(lines.table, options))
        rule_count = int(lines.engine.scalar(rules.count()))
        tell(0.6, f"Ranking the next {options.by} of each customer")
        rows = lines.engine.rows(next_best(lines.table, rules, options))
    now = services.clock.now()
    if write:
        tell(0.8, f"Saving {len(rows):,} suggestions")
        with services.uow.transaction() as session:
            save_next_best(session, rows, kind=options.by, computed_at=now)
    tell(1.0, f"{len(rows):,} suggestions")
    return NextBestRun(
        kind=options.by,
        as_of=lines.as_of,
        lines=lines.rows_kept,
        rules=rule_count,
        contacts=len({row["customer_id"] for row in rows}),
        suggestions=len(rows),
        computed_at=now,
    )


def save_next_best(
    session: Session, rows: Iterable[dict[str, Any]], *, kind: str, computed_at: dt.datetime
) -> int:
    """Replace ``contact_next_best`` with ``rows`` (``customer_id``, ``rank``, ``item``,
    ``score``); returns the number written. Contacts no longer in the store are skipped."""
    from lealta.contacts.tables import Contact

    session.execute(delete(ContactNextBest))
    records = [
        {
            "contact_id": str(row["customer_id"]),
            "rank": int(row["rank"]),
            "item": str(row["item"])[:ITEM_LENGTH],
            "kind": kind,
            "score": float(row["score"]),
            "computed_at": computed_at,
        }
        for row in rows
    ]
    written = 0
    for start in range(0, len(records), WRITE_CHUNK):
        chunk = records[start : start + WRITE_CHUNK]
        wanted = {r["contact_id"] for r in chunk}
        live = set(
            session.scalars(
                select(Contact.id).where(Contact.id.in_(wanted), Contact.erased_at.is_(None))
            )
        )
        chunk = [r for r in chunk if r["contact_id"] in live]
        if chunk:
            session.execute(insert(ContactNextBest), chunk)
        written += len(chunk)
    return written


def list_for_contact(session: Session, contact_id: str) -> list[ContactNextBest]:
    """The contact's next-best items, best first (empty before the first run)."""
    query = (
        select(ContactNextBest)
        .where(ContactNextBest.contact_id == contact_id)
        .order_by(ContactNextBest.rank)
    )
    return list(session.scalars(query))


def next_best_of(session: Session, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Each contact's next-best items (``item``, ``kind``, ``score``, ``rank``), one query."""
    found: dict[str, list[dict[str, Any]]] = {}
    if not ids:
        return found
    query = (
        select(ContactNextBest)
        .where(ContactNextBest.contact_id.in_(list(ids)))
        .order_by(ContactNextBest.contact_id, ContactNextBest.rank)
    )
    for row in session.scalars(query):
        found.setdefault(row.contact_id, []).append(
            {"item": row.item, "kind": row.kind, "score": row.score, "rank": row.rank}
        )
    return found


def pairs_from_store(
    services: Services, options: AffinityOptions, *, sequence: bool = False, limit: int = 100
) -> tuple[Lines, list[dict[str, Any]]]:
    """The strongest pairs (together, or in sequence) of the store's order lines."""
    from lealta.affinity.pairs import in_sequence, together

    with lines_file(services) as path:
        lines = read_store_lines(path, options)
        pairs = (in_sequence if sequence else together)(lines.table, options)
        return lines, lines.engine.rows(pairs.limit(limit))
