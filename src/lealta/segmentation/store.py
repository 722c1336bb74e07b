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
from collections.abc import Callable, Iterator, Mapping
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

# ``progress(fraction, step)``: how far the work is (0 to 1) and what it is doing, in words.
Progress = Callable[[float, str], None]
# The share of the whole run each phase takes (reading, scoring, clustering, saving).
READ, SCORE, CLUSTER, SAVE = (0.0, 0.35), (0.35, 0.65), (0.65, 0.8), (0.8, 1.0)


def _silent(_fraction: float, _step: str) -> None:
    """No one is following the progress."""


def _phase(progress: Progress, span: tuple[float, float]) -> Progress:
    """``progress`` for one phase: its 0..1 mapped onto ``span`` of the whole run."""
    start, end = span
    return lambda fraction, step: progress(start + (end - start) * fraction, step)


def export_orders(
    session: Session, path: Path, *, chunk: int = CHUNK, progress: Progress | None = None
) -> int:
    """Write every order to the Parquet file ``path``, ``chunk`` rows at a time (on
    PostgreSQL by ``COPY``, in blocks of about 100,000: :mod:`lealta.storage.copy_out`).

    Columns: ``customer_id`` (the contact), ``order_id``, ``placed_at`` (UTC, naive),
    ``amount``, ``payment_method``, ``due_date``, ``paid_date`` and ``email`` (the contact's
    first e-mail address, if any). Returns the number of orders written. ``progress`` hears
    the share written after each chunk (``"Reading 120,000 orders"``).
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
    total = 0
    if progress is not None:
        total = session.scalar(select(func.count()).select_from(Order)) or 0
        progress(0.0, f"Reading {total:,} orders")
    if session.get_bind().dialect.name == "postgresql":
        from lealta.storage.copy_out import record_batches

        # the server writes CSV and Arrow types it (lealta.storage.copy_out): the times in
        # UTC without their zone, as the file has them
        copied = query.with_only_columns(
            *query.selected_columns[:2],
            func.timezone("UTC", Order.placed_at),
            *query.selected_columns[3:],
        )
        with pq.ParquetWriter(str(path), schema) as writer:
            for batch in record_batches(session.connection(), copied, schema):
                writer.write_batch(batch)
                written += batch.num_rows
                if progress is not None:
                    total = max(total, written)
                    progress(written / max(total, 1), f"Reading {total:,} orders")
        return written
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
            if progress is not None:
                total = max(total, written)
                progress(written / max(total, 1), f"Reading {total:,} orders")
    return written


@contextlib.contextmanager
def orders_file(services: Services, *, progress: Progress | None = None) -> Iterator[Path]:
    """The store's orders as a temporary Parquet file, removed when the block ends.

    ``progress`` hears how much of the orders is written (see :func:`export_orders`).

    Raises
    ------
    InvalidInput
        When the store holds no order yet.
    """
    with tempfile.TemporaryDirectory(prefix="lealta-rfm-") as folder:
        path = Path(folder) / EXPORT_NAME
        with services.uow.transaction() as session:
            count = export_orders(session, path, progress=progress)
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
    progress: Progress | None = None,
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
    progress
        Called as ``progress(fraction, step)`` as the run moves on: reading the orders (to
        0.35), scoring (to 0.65), clustering (to 0.8) and saving (to 1), with words for a
        marketer (``"Reading 120,000 orders"``, ``"Saving 40,000 customers"``).
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
    tell = progress or _silent
    with orders_file(services, progress=_phase(tell, READ)) as path:
        tell(SCORE[0], "Scoring customers")
        frame = api.rfm(path, columns=STORE_COLUMNS, **options)
        tell(SCORE[1], f"Scored {len(frame):,} customers")
        if wanted:
            tell(CLUSTER[0], f"Clustering {len(frame):,} customers")
            frame = api.cluster(frame, k=k, k_range=cluster_range, seed=seed)
            tell(CLUSTER[1], f"Clustered {len(frame):,} customers")
        if write:
            as_of = dt.date.fromisoformat(frame.attrs["lealta"]["as_of"])
            with services.uow.transaction() as session:
                save_results(
                    session,
                    frame,
                    as_of=as_of,
                    computed_at=services.clock.now(),
                    progress=_phase(tell, SAVE),
                )
            from lealta.loyalty.service import after_rfm  # reviewed on the orders just read

            tell(1.0, "Reviewing loyalty tiers")
            frame.attrs["lealta"]["loyalty"] = after_rfm(
                services, as_of=as_of, options=options, orders=path
            )
            from lealta.audiences.schedule import after_rfm as refresh_audiences

            tell(1.0, "Refreshing the audiences that read RFM")
            refresh_audiences(services)
    tell(1.0, f"Scored {len(frame):,} customers")
    return frame


def save_results(
    session: Session,
    frame: Any,
    *,
    as_of: dt.date,
    computed_at: dt.datetime,
    progress: Progress | None = None,
) -> int:
    """Replace ``contact_rfm`` with the rows of ``frame`` (a per-customer RFM table).

    Every previous row goes: a contact without orders in this run has no RFM any more.
    Returns the number of rows written. ``progress`` hears the share written after each
    chunk (``"Saving 40,000 customers"``).
    """
    from lealta.automations.sweeps import segment_moves

    step = f"Saving {len(frame):,} customers"
    if progress is not None:  # before the first write: on SQLite others wait for the commit
        progress(0.0, step)
    before = {
        str(cid): str(segment)
        for cid, segment in session.execute(select(ContactRfm.contact_id, ContactRfm.segment))
    }
    session.execute(delete(ContactRfm))
    moment = dt.datetime.combine(as_of, dt.time(), tzinfo=dt.UTC)
    rows = [_result_row(record, moment, computed_at) for record in frame.to_dict("records")]
    for start in range(0, len(rows), WRITE_CHUNK):
        session.execute(insert(ContactRfm), rows[start : start + WRITE_CHUNK])
        if progress is not None:
            # the segment moves below take about a tenth of the saving
            progress(0.9 * min(1.0, (start + WRITE_CHUNK) / len(rows)), step)
    # Moves between segments are events, and start the workflows they trigger.
    if progress is not None:
        progress(0.9, "Recording who moved between segments")
    segment_moves(
        session, before, {row["contact_id"]: row["segment"] for row in rows}, now=computed_at
    )
    if progress is not None:
        progress(1.0, step)
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
