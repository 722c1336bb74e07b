"""Tables of the contacts concept."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, utcnow

IDENTIFIER_KINDS = ("anonymous_id", "user_id", "email", "phone", "external_id")


def new_contact_id() -> str:
    """A random, unguessable contact id (32 hex characters)."""
    return uuid.uuid4().hex


class Contact(Base):
    """One person. ``merged_into`` points to the surviving profile after a merge."""

    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_contact_id)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lifecycle_stage: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(default=0.0)
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    erased_at: Mapped[dt.datetime | None]


class Identifier(Base):
    """A way to recognise a contact: an anonymous id, user id, e-mail, phone or external id.

    A (kind, value) pair belongs to exactly one contact.
    """

    __tablename__ = "identifiers"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
