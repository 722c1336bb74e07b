"""The scored contacts of a segment (or of any condition), a page at a time.

Pages follow the contact id (keyset: ``contact_id > last``), so a million-row export never
holds more than one page, and never re-reads the rows before it. Merged and erased contacts
are left out, as from every contact list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from lealta.contacts.tables import Contact, Identifier
from lealta.segmentation.tables import ContactRfm

PAGE = 1000
COLUMNS = (
    "id",
    "email",
    "name",
    "r",
    "f",
    "m",
    "p",
    "code",
    "segment",
    "cluster",
    "recency_days",
    "orders",
    "revenue",
)


@dataclass(frozen=True)
class Member:
    """One contact as a segment's list and CSV show them (scores empty when not scored now,
    e.g. a contact who left scoring)."""

    id: str
    email: str
    name: str
    r: int | None
    f: int | None
    m: int | None
    p: int | None
    code: str
    segment: str
    cluster: str
    recency_days: int | None
    orders: int | None
    revenue: float | None

    def values(self) -> list[Any]:
        """The CSV row, in the order of :data:`COLUMNS`."""
        return [getattr(self, column) for column in COLUMNS]


def _name(attributes: dict[str, Any] | None) -> str:
    attributes = attributes or {}
    return " ".join(str(attributes[k]) for k in ("first_name", "last_name") if attributes.get(k))


def _member(contact_id: str, attributes: Any, rfm: ContactRfm | None, email: Any) -> Member:
    cluster = "" if rfm is None or rfm.cluster is None else rfm.cluster_name or str(rfm.cluster)
    return Member(
        id=contact_id,
        email=str(email or ""),
        name=_name(attributes),
        r=rfm.r if rfm else None,
        f=rfm.f if rfm else None,
        m=rfm.m if rfm else None,
        p=rfm.p if rfm else None,
        code=rfm.code if rfm else "",
        segment=rfm.segment if rfm else "",
        cluster=cluster,
        recency_days=rfm.recency_days if rfm else None,
        orders=rfm.frequency if rfm else None,
        revenue=round(rfm.monetary, 2) if rfm else None,
    )


def members_page(
    session: Session, where: ColumnElement[bool], *, after: str = "", limit: int = PAGE
) -> list[Member]:
    """Up to ``limit`` live contacts matching ``where`` (a condition on ``Contact`` or
    ``ContactRfm``) whose id follows ``after``, with their scores when they have any."""
    email = (
        select(func.min(Identifier.value))
        .where(Identifier.contact_id == Contact.id, Identifier.kind == "email")
        .scalar_subquery()
    )
    rows = session.execute(
        select(Contact.id, Contact.attributes, ContactRfm, email)
        .outerjoin(ContactRfm, ContactRfm.contact_id == Contact.id)
        .where(
            where,
            Contact.id > after,
            Contact.merged_into.is_(None),
            Contact.erased_at.is_(None),
        )
        .order_by(Contact.id)
        .limit(limit)
    ).all()
    return [_member(*row) for row in rows]


def in_segment(name: str) -> ColumnElement[bool]:
    """The condition of a segment's members (by the indexed ``segment`` column)."""
    return ContactRfm.segment == name


def csv_lines(pages: Iterator[list[Member]]) -> Iterator[str]:
    """The header, then one CSV chunk per page (spreadsheet formulas defused)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    yield buffer.getvalue()
    for page in pages:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_safe(v) for v in member.values()] for member in page)
        yield buffer.getvalue()


def _safe(value: Any) -> Any:
    """A text cell starting like a formula is prefixed with ``'`` (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
