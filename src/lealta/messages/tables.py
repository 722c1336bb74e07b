"""Stored message templates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, utcnow


class MessageTemplate(Base):
    """A message template; ``id`` is the name outbox rows and workflow steps refer to.

    ``body`` holds the parts for ``channel`` (e-mail: ``subject``, ``html``, ``text``,
    ``mjml``; SMS: ``text``; push: ``title``, ``body``, ``url`` …) and per-language variants.
    ``version`` counts saves, so a report can tell which wording a message was sent with.
    """

    __tablename__ = "message_templates"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(500), default="")
    version: Mapped[int] = mapped_column(default=1)
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
