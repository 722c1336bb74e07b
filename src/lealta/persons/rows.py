"""The usual ways a package's rows about a person are exported, erased and merged.

Each function builds the callable a :class:`~lealta.persons.registry.PersonRows` takes, for a
mapped table with a ``contact_id`` column. Packages with other needs write their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from lealta.contacts.schemas import as_utc
from lealta.persons.registry import Erase, Export, Merge


def plain(value: Any) -> Any:
    """``value`` with times, dates and decimals made JSON-friendly (recursively)."""
    if isinstance(value, dt.datetime):
        return as_utc(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def columns_of(row: Any, names: Sequence[str]) -> dict[str, Any]:
    """The columns ``names`` of ``row``, made plain."""
    return {name: plain(getattr(row, name)) for name in names}


def listed(table: Any, order: Any, names: Sequence[str]) -> Export:
    """An export section listing the person's rows of ``table`` by ``order``, with ``names``."""

    def export(session: Session, ids: list[str]) -> list[dict[str, Any]]:
        rows = session.scalars(select(table).where(table.contact_id.in_(ids)).order_by(order))
        return [columns_of(row, names) for row in rows]

    return export


def count(session: Session, table: Any, ids: Sequence[str]) -> int:
    """How many rows of ``table`` belong to ``ids``."""
    found = session.scalar(select(func.count()).select_from(table).where(table.contact_id.in_(ids)))
    return int(found or 0)


def deleted(table: Any, *, counted: bool = False) -> Erase:
    """Erasure deletes the rows (and, ``counted``, reports how many there were)."""

    def erase(session: Session, ids: Sequence[str], now: dt.datetime) -> int | None:
        before = count(session, table, ids) if counted else None
        session.execute(
            delete(table)
            .where(table.contact_id.in_(ids))
            .execution_options(synchronize_session=False)
        )
        return before

    return erase


def emptied(table: Any, values: Mapping[str, Any], *, counted: bool = False) -> Erase:
    """Erasure keeps the rows with the columns ``values`` names set to those values (and,
    ``counted``, reports how many are kept)."""

    def erase(session: Session, ids: Sequence[str], now: dt.datetime) -> int | None:
        session.execute(
            update(table)
            .where(table.contact_id.in_(ids))
            .values(dict(values))
            .execution_options(synchronize_session=False)
        )
        return count(session, table, ids) if counted else None

    return erase


def kept(table: Any) -> Erase:
    """Erasure leaves the rows as they are (and reports how many are kept)."""

    def erase(session: Session, ids: Sequence[str], now: dt.datetime) -> int:
        return count(session, table, ids)

    return erase


def moved(table: Any) -> Merge:
    """A merge re-points the merged profile's rows to the survivor."""

    def merge(session: Session, source: str, into: str, now: dt.datetime) -> None:
        session.execute(update(table).where(table.contact_id == source).values(contact_id=into))

    return merge


def united(table: Any, key: Any) -> Merge:
    """A merge gives the survivor the merged profile's rows it lacks (by ``key``) and drops
    the others: the survivor's own row wins."""

    def merge(session: Session, source: str, into: str, now: dt.datetime) -> None:
        have = select(key).where(table.contact_id == into)
        session.execute(
            update(table)
            .where(table.contact_id == source, key.not_in(have))
            .values(contact_id=into)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            delete(table)
            .where(table.contact_id == source)
            .execution_options(synchronize_session=False)
        )

    return merge


def dropped(table: Any) -> Merge:
    """A merge deletes the merged profile's rows (the survivor's are recomputed later)."""

    def merge(session: Session, source: str, into: str, now: dt.datetime) -> None:
        session.execute(delete(table).where(table.contact_id == source))

    return merge


def stays(session: Session, source: str, into: str, now: dt.datetime) -> None:
    """A merge leaves the rows on the merged profile (its reason says what becomes of them)."""
