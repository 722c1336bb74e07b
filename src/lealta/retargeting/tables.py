"""The retargeting tables: the signed webhook syncs of audiences to an ad platform connector."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, utcnow


class AdSync(Base):
    """One audience kept current at a connector's URL: each addition and removal is a signed
    webhook (see :mod:`lealta.retargeting.sync`).

    ``events_after`` and ``consents_after`` are how far the ``Audience Entered``/``Exited``
    events and the ``ads`` consent decisions have been read (row ids): a pass reads what came
    after them and moves them on in the transaction that queues the webhooks.
    """

    __tablename__ = "ad_syncs"

    id: Mapped[int] = mapped_column(primary_key=True)
    audience_id: Mapped[int] = mapped_column(ForeignKey("audiences.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(16))
    events_after: Mapped[int] = mapped_column(BigInteger, default=0)
    consents_after: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
