"""Outbox rows: a message enqueued as a workflow step writes it, one as the dispatcher leaves
it after sending; rows and interactions read back detached."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.channels.outbox import enqueue
from lealta.channels.tables import MessageInteraction, OutboxMessage


def _key() -> str:
    return f"test:{uuid.uuid4().hex}"


def message(
    session: Session,
    contact_id: str,
    *,
    at: dt.datetime,
    key: str | None = None,
    channel: str = "email",
    template: str = "welcome",
    payload: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    not_before: dt.datetime | None = None,
) -> OutboxMessage | None:
    """A message for ``contact_id`` waiting in the outbox, decided ``at`` and due from
    ``not_before`` (``at`` when omitted); ``None`` when ``key`` is already there."""
    return enqueue(
        session,
        key=key or _key(),
        contact_id=contact_id,
        channel=channel,
        template=template,
        payload=payload,
        run_id=run_id,
        not_before=not_before or at,
        now=at,
    )


def sent(
    session: Session,
    contact_id: str,
    *,
    at: dt.datetime,
    status: str = "sent",
    error: str | None = None,
    template: str = "welcome",
    channel: str = "email",
    step: str | None = None,
    run_id: str | None = None,
    provider_id: str | None = None,
    key: str | None = None,
) -> OutboxMessage:
    """An outbox row as the dispatcher leaves it after one attempt (``status``: ``sent``,
    ``failed`` with ``error`` …), all ``at``; ``step`` is the workflow step named in the
    payload."""
    row = OutboxMessage(
        idempotency_key=key or _key(),
        contact_id=contact_id,
        run_id=run_id,
        channel=channel,
        template=template,
        payload={"step": step} if step else {},
        status=status,
        provider_id=provider_id,
        error=error,
        attempts=1,
        not_before=at,
        created_at=at,
        sent_at=at if status == "sent" else None,
    )
    session.add(row)
    session.flush()
    return row


def by_key(session: Session, key: str) -> OutboxMessage:
    """The outbox row with idempotency key ``key``, detached."""
    found = session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
    message = found.one()
    session.expunge(message)
    return message


def interactions(
    session: Session, kind: str, *, outbox_id: int | None = None
) -> list[MessageInteraction]:
    """The recorded interactions of ``kind`` (of one message when ``outbox_id`` is given),
    oldest first, detached."""
    query = select(MessageInteraction).where(MessageInteraction.kind == kind)
    if outbox_id is not None:
        query = query.where(MessageInteraction.outbox_id == outbox_id)
    rows = list(session.scalars(query.order_by(MessageInteraction.id)))
    for found in rows:
        session.expunge(found)
    return rows
