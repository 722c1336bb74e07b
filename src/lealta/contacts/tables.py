"""Tables of the contacts concept."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, validates

from lealta.contacts.names import NAME_LENGTH, search_name
from lealta.storage.base import Base, RowId, utcnow

IDENTIFIER_KINDS = ("anonymous_id", "user_id", "email", "phone", "external_id")
# Consent channels. ``ads`` is not a way of sending: it is the permission to use the person's
# e-mail and phone, hashed, in advertising audiences (lealta.retargeting); nothing is sent on it.
CHANNELS = ("email", "sms", "push", "web_push", "ads")
CONSENT_STATUSES = ("granted", "denied", "pending")
MEMBERSHIP_STATUSES = ("subscribed", "pending", "unsubscribed")


def new_contact_id() -> str:
    """A random, unguessable contact id (32 hex characters)."""
    return uuid.uuid4().hex


class Contact(Base):
    """One person. ``merged_into`` points to the surviving profile after a merge."""

    __tablename__ = "contacts"
    __table_args__ = (
        # The contact list's order and keyset cursor: a page is an index range, not a sort.
        Index("ix_contacts_created_id", "created_at", "id"),
        # The search box reads names from this index (a part of a name matches anywhere in it,
        # so every entry is read, but an index of short names is far smaller than the table).
        Index("ix_contacts_search_name", "search_name", "id"),
        # Only merged contacts: nearly every row is NULL, and a full index on it makes
        # SQLite's statistics say "a million rows per value", so lookups of who was merged
        # into a person (every profile page) scanned the table.
        Index(
            "ix_contacts_merged_into",
            "merged_into",
            sqlite_where=text("merged_into IS NOT NULL"),
            postgresql_where=text("merged_into IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_contact_id)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lifecycle_stage: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(default=0.0)
    score_state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    first_seen_at: Mapped[dt.datetime | None]
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("contacts.id"))
    erased_at: Mapped[dt.datetime | None]
    # First and last name folded for search (see lealta.contacts.names), kept in step with
    # ``attributes`` by the validator below: every write of attributes goes through it.
    search_name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))

    @validates("attributes")
    def _keep_search_name(self, _key: str, value: dict[str, Any]) -> dict[str, Any]:
        self.search_name = search_name(value)
        return value


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


class Consent(Base):
    """One consent decision for one channel; the newest row per channel is in force.

    Rows are never updated: the history of grants, withdrawals and pending double opt-ins, with
    their source and proof (IP address, form, user agent), is the audit trail.
    """

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_contact_channel", "contact_id", "channel", "id"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(200), default="")
    proof: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ContactTag(Base):
    """A free-form tag on a contact."""

    __tablename__ = "contact_tags"

    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ContactList(Base):
    """A static list people subscribe to (a newsletter, a waiting list …)."""

    __tablename__ = "lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    double_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ListMembership(Base):
    """A contact's place on a list: subscribed, pending confirmation, or unsubscribed."""

    __tablename__ = "list_memberships"

    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id"), primary_key=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AttributeDefinition(Base):
    """The declared type of a custom attribute (``birthday`` is a date, ``city`` a string …)."""

    __tablename__ = "attribute_definitions"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
