"""RFM on the platform's own orders: read the ``orders`` table, score, write ``contact_rfm``.

The orders are streamed out of the state store (SQLAlchemy, in chunks) into a temporary
Parquet file, so the very same RFM pipeline that reads order files reads them, on DuckDB or
Spark, without holding the table in memory. Each contact's result then replaces the previous
run's in ``contact_rfm`` (one transaction: contacts absent from the new run are removed).

The customer is the contact (``contact_id``, merges already followed); the date is
``placed_at`` (UTC); payment method, due and paid dates feed RFMP. Orders in the store are
completed purchases, so no cancellation pattern is applied to their ids by default.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from lealta.contacts.tables import Identifier
from lealta.errors import InvalidInput
from lealta.orders.tables import Order
from lealta.segmentation.tables import ContactRfm

if TYPE_CHECKING:
    from lealta.bootstrap import Services

# Role → column of the exported file (the column mapping of every store run).
STORE_COLUMNS: dict[str, str] = {
    "customer": "customer_id",
    "date": "placed_at",
    "order": "order_id",
    "amount": "amount",
    "payment_method": "payment_method",
    "due_date": "due_date",
    "paid_date": "paid_date",
    "email": "email",
}
EXPORT_NAME = "orders-in-store.parquet"
CHUNK = 50_000
WRITE_CHUNK = 5_000


def export_orders(session: Session, path: Path, *, chunk: int = CHUNK) -> int:
    """Write every order to the Parquet file ``path``, ``chunk`` rows at a time.

    Columns: ``customer_id`` (the contact), ``order_id``, ``placed_at`` (UTC, naive),
    ``amount``, ``payment_method``, ``due_date``, ``paid_date`` and ``email`` (the contact's
    first e-mail address, if any). Returns the number of orders written.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    emails = (
        select(Identifier.contact_id, func.min(Identifier.value).label("email"))
        .where(Identifier.kind == "email")
        .group_by(Identifier.contact_id)
        .subquery()
    )
    query = (
        select(
            Order.contact_id,
            Order.external_id,
            Order.placed_at,
            Order.amount,
            Order.payment_method,
            Order.due_date,
            Order.paid_date,
            emails.c.email,
        )
        .outerjoin(emails, emails.c.contact_id == Order.contact_id)
        .order_by(Order.id)
        .execution_options(yield_per=chunk)
    )
    schema = pa.schema(
        [
            ("customer_id", pa.string()),
            ("order_id", pa.string()),
            ("placed_at", pa.timestamp("us")),
            ("amount", pa.float64()),
            ("payment_method", pa.string()),
            ("due_date", pa.date32()),
            ("paid_date", pa.date32()),
            ("email", pa.string()),
        ]
    )
    written = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        for part in session.execute(query).partitions():
            columns = list(zip(*part, strict=True))
            columns[2] = tuple(_naive_utc(moment) for moment in columns[2])
            columns[3] = tuple(float(amount) for amount in columns[3])
            writer.write_table(pa.Table.from_arrays(
                [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)],
                schema=schema,
            ))  # fmt: skip
            written += len(part)
    return written


@contextlib.contextmanager
def orders_file(services: Services) -> Iterator[Path]:
    """The store's orders as a temporary Parquet file, removed when the block ends.

    Raises
    ------
    InvalidInput
        When the store holds no order yet.
    """
    with tempfile.TemporaryDirectory(prefix="lealta-rfm-") as folder:
        path = Path(folder) / EXPORT_NAME
        with services.uow.transaction() as session:
            count = export_orders(session, path)
        if count == 0:
            raise InvalidInput(
                "there are no orders in the store yet: send them to POST /v1/orders, track "
                "'Order Completed' events or run `lealta import orders FILE`",
                field="orders",
            )
        yield path


def rfm_from_store(
    services: Services,
    *,
    clusters: int | str | None = None,
    cluster_range: tuple[int, int] = (2, 8),
    seed: int = 42,
    write: bool = True,
    **options: Any,
) -> Any:
    """RFM (RFMP, clusters) of every contact with orders; saved to ``contact_rfm``.

    Parameters
    ----------
    services
        The state store and clock (``lealta.bootstrap.build()``).
    clusters
        ``None`` for no clustering, ``"auto"`` to choose the number of clusters by silhouette,
        or a number of clusters (K-Means on the scores' features, as ``lealta cluster``).
    write
        Replace the ``contact_rfm`` rows with this run's results (default).
    **options
        The options of :func:`lealta.rfm` (``as_of``, ``window``, ``payment``, ``bins``,
        ``preset`` …); ``columns`` and ``group`` are fixed by the store and refused.

    Returns
    -------
    pandas.DataFrame
        One row per contact (``customer_id`` is the contact id), as :func:`lealta.rfm`, plus
        ``cluster`` and ``cluster_name`` when clustering.
    """
    import lealta.api as api

    for refused in ("columns", "group", "data"):
        if refused in options:
            raise InvalidInput(f"{refused} is fixed when reading the store", field=refused)
    wanted, k = _clusters(clusters)
    options.setdefault("cancel_pattern", "")
    with orders_file(services) as path:
        frame = api.rfm(path, columns=STORE_COLUMNS, **options)
    if wanted:
        frame = api.cluster(frame, k=k, k_range=cluster_range, seed=seed)
    if write:
        as_of = dt.date.fromisoformat(frame.attrs["lealta"]["as_of"])
        with services.uow.transaction() as session:
            save_results(session, frame, as_of=as_of, computed_at=services.clock.now())
    return frame


def save_results(session: Session, frame: Any, *, as_of: dt.date, computed_at: dt.datetime) -> int:
    """Replace ``contact_rfm`` with the rows of ``frame`` (a per-customer RFM table).

    Every previous row goes: a contact without orders in this run has no RFM any more.
    Returns the number of rows written.
    """
    from lealta.automations.sweeps import segment_moves

    before = {
        str(cid): str(segment)
        for cid, segment in session.execute(select(ContactRfm.contact_id, ContactRfm.segment))
    }
    session.execute(delete(ContactRfm))
    moment = dt.datetime.combine(as_of, dt.time(), tzinfo=dt.UTC)
    rows = [_result_row(record, moment, computed_at) for record in frame.to_dict("records")]
    for start in range(0, len(rows), WRITE_CHUNK):
        session.execute(insert(ContactRfm), rows[start : start + WRITE_CHUNK])
    # Moves between segments are events, and start the workflows they trigger.
    segment_moves(
        session, before, {row["contact_id"]: row["segment"] for row in rows}, now=computed_at
    )
    return len(rows)


def segment_counts(frame: Any) -> dict[str, int]:
    """Customers per segment, largest first."""
    counts = frame["segment"].value_counts()
    return {str(name): int(n) for name, n in counts.items()}


def _result_row(
    record: Mapping[str, Any], as_of: dt.datetime, computed_at: dt.datetime
) -> dict[str, Any]:
    return {
        "contact_id": str(record["customer_id"]),
        "recency_days": int(record["recency"]),
        "frequency": int(record["frequency"]),
        "monetary": float(record["monetary"]),
        "payment": _optional(record.get("payment"), float),
        "r": int(record["r_score"]),
        "f": int(record["f_score"]),
        "m": int(record["m_score"]),
        "p": _optional(record.get("p_score"), int),
        "code": str(record["rfm_code"]),
        "segment": str(record["segment"]),
        "cluster": _optional(record.get("cluster"), int),
        "cluster_name": _optional(record.get("cluster_name"), str),
        "as_of": as_of,
        "computed_at": computed_at,
    }


def _clusters(value: int | str | None) -> tuple[bool, int | None]:
    """Whether to cluster and with which k (``None``: chosen by silhouette)."""
    if value is None:
        return False, None
    if value == "auto":
        return True, None
    if str(value).isdigit() and int(value) >= 2:
        return True, int(value)
    raise InvalidInput(f"clusters takes 'auto' or a number from 2, not {value!r}", field="clusters")


def _optional(value: Any, kind: Any) -> Any:
    import pandas as pd

    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return None
    return kind(value)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment
