"""The declarative base every table derives from, with stable constraint names."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

# Named constraints make migrations reproducible across SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON documents: JSONB on PostgreSQL (indexable), JSON text elsewhere.
Document = JSON().with_variant(JSONB(), "postgresql")
Moment = DateTime(timezone=True)
# 64-bit ids for big tables; SQLite only auto-increments an INTEGER primary key.
RowId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Base of all Lealta tables."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012 - SQLAlchemy's own hook
        dict[str, Any]: Document,
        list[dict[str, Any]]: Document,
        dt.datetime: Moment,
    }


def utcnow() -> dt.datetime:
    """The current time in UTC (the default of ``created_at`` columns)."""
    return dt.datetime.now(dt.UTC)
