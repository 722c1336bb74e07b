"""The latest RFM row, for export, erasure and merges (see :mod:`lealta.persons.registry`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lealta.contacts.profiles import rfm_of
from lealta.persons.registry import PersonRows
from lealta.persons.rows import columns_of, deleted, dropped
from lealta.segmentation.tables import ContactRfm

_COLUMNS = (
    "recency_days",
    "frequency",
    "monetary",
    "payment",
    "r",
    "f",
    "m",
    "p",
    "code",
    "segment",
    "cluster",
    "cluster_name",
    "as_of",
    "computed_at",
)


def _rfm(session: Session, ids: list[str]) -> dict[str, Any] | None:
    rows = rfm_of(session, ids)
    return columns_of(rows[0], _COLUMNS) if rows else None


ROWS = (
    PersonRows(
        table=ContactRfm.__tablename__,
        erase=deleted(ContactRfm),
        erased="deleted",
        merge=dropped(ContactRfm),
        merged="the merged profile's is dropped: the next RFM run judges the survivor on the "
        "united orders",
        sections=(("rfm", _rfm),),
    ),
)
