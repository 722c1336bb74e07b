"""On-site placements: which content a slot shows to whom."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, utcnow


class OnsitePlacement(Base):
    """Content for a slot on the shop's pages (a banner, an embedded block).

    ``audience`` says who sees it (segments, tags, lists, stages; empty = everyone);
    among the placements of a slot a visitor qualifies for, the highest ``priority`` wins.
    Messages a workflow sends on the ``onsite`` channel take precedence over placements.
    """

    __tablename__ = "onsite_placements"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    slot: Mapped[str] = mapped_column(String(100), index=True)
    template: Mapped[str] = mapped_column(String(200))
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    priority: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    starts_at: Mapped[dt.datetime | None]
    ends_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
