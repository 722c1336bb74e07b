"""Setup shared by the benchmarks: rows written in chunks, and people who may be e-mailed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import insert

from lealta.contacts.tables import Consent, Identifier
from lealta.storage.unit_of_work import UnitOfWork

CHUNK = 10_000


def insert_chunked(uow: UnitOfWork, table: Any, rows: Iterator[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table``, one transaction per :data:`CHUNK` rows."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            with uow.transaction() as session:
                session.execute(insert(table), batch)
            batch = []
    if batch:
        with uow.transaction() as session:
            session.execute(insert(table), batch)


def reachable_by_email(uow: UnitOfWork, ids: Sequence[str], *, at: dt.datetime) -> None:
    """Give contact ``ids[i]`` the address ``person{i}@example.com`` and e-mail consent."""
    insert_chunked(
        uow,
        Identifier.__table__,
        (
            {
                "contact_id": cid,
                "kind": "email",
                "value": f"person{i}@example.com",
                "created_at": at,
            }
            for i, cid in enumerate(ids)
        ),
    )
    insert_chunked(
        uow,
        Consent.__table__,
        (
            {
                "contact_id": cid,
                "channel": "email",
                "status": "granted",
                "source": "benchmark",
                "proof": {},
                "recorded_at": at,
            }
            for cid in ids
        ),
    )
