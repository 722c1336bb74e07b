"""The ``console_users`` and ``audit_log`` tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, RowId, utcnow


class ConsoleUser(Base):
    """A person who signs in to the console: ``email`` is unique (lower case), ``password_hash``
    an Argon2 hash; a disabled user cannot sign in and their sessions end."""

    __tablename__ = "console_users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Bumped when the password changes or the user is disabled: sessions carrying an older
    # value are refused, so a reset signs the user out everywhere.
    session_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None]
    disabled_at: Mapped[dt.datetime | None]


class AuditEntry(Base):
    """Who changed what, when: one row per change made through the console."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    user_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("console_users.id", ondelete="SET NULL")
    )
    user_email: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
