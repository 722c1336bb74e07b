"""The ``rule_sets`` table: one versioned JSON document per kind of rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, utcnow


class RuleSet(Base):
    """The current version of a rule set (``scoring`` or ``lifecycle``)."""

    __tablename__ = "rule_sets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
