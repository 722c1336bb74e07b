"""Writing and reading the outbox. Services take a session and never commit.

A step that decides to send calls :func:`enqueue` in its own transaction, so the decision and
the message commit together. The idempotency key makes a replayed decision harmless: the
second insert is skipped and the message is delivered once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.channels.tables import OutboxMessage
from lealta.errors import InvalidInput
from lealta.storage.base import utcnow
from lealta.storage.upsert import insert_ignoring

STATUSES = ("pending", "held", "claimed", "sending", "sent", "failed", "suppressed")
# Messages on their way: not sent, not given up on (``held`` ones wait for quiet hours to end).
WAITING = ("pending", "claimed", "sending")
MAX_LIST = 1000


# Why a message was suppressed, from the dispatcher's reason (its ``error``), for statistics.
SUPPRESSION_REASONS = (
    ("no consent for ", "no_consent"),
    ("frequency cap reached", "frequency_cap"),
    ("contact erased", "erased"),
    ("contact merged into ", "merged"),
)


def suppression_reason(error: str | None) -> str:
    """The kind of a suppression: ``no_consent``, ``suppression_list`` (the address is on
    it), ``frequency_cap``, ``erased``, ``merged``, or ``other``."""
    text = error or ""
    if text.endswith(" is on the suppression list"):
        return "suppression_list"
    for start, reason in SUPPRESSION_REASONS:
        if text.startswith(start):
            return reason
    return "other"


def enqueue(
    session: Session,
    *,
    key: str,
    contact_id: str,
    channel: str,
    template: str,
    payload: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    not_before: dt.datetime,
    now: dt.datetime | None = None,
) -> OutboxMessage | None:
    """Add a message to deliver from ``not_before`` on; ``None`` when ``key`` is already there.

    ``now`` (the decision's time) is kept as ``created_at``; the system clock when omitted.

    Two transactions enqueuing the same key at the same moment both succeed and one row is
    kept; each may then get that row back.
    """
    _check(key, 200, "key")
    _check(channel, 32, "channel")
    _check(template, 200, "template")
    if get_by_key(session, key) is not None:
        return None
    row = {
        "idempotency_key": key,
        "contact_id": contact_id,
        "run_id": run_id,
        "channel": channel,
        "template": template,
        "payload": dict(payload or {}),
        "status": "pending",
        "attempts": 0,
        "not_before": _utc(not_before),
        "created_at": _utc(now) if now is not None else utcnow(),
    }
    insert_ignoring(session, OutboxMessage.__table__, [row], conflict=["idempotency_key"])
    return get_by_key(session, key)


def get_by_key(session: Session, key: str) -> OutboxMessage | None:
    """The message with idempotency key ``key``, if any."""
    return session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))


def list_(
    session: Session,
    *,
    status: str | None = None,
    contact_id: str | None = None,
    run_id: str | None = None,
    limit: int = 100,
) -> list[OutboxMessage]:
    """Messages, newest first, optionally of one status, contact or run."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(
            f"unknown status {status!r}; choose from {', '.join(STATUSES)}", field="status"
        )
    if not 1 <= limit <= MAX_LIST:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIST}", field="limit")
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    if contact_id is not None:
        query = query.where(OutboxMessage.contact_id == contact_id)
    if run_id is not None:
        query = query.where(OutboxMessage.run_id == run_id)
    return list(session.scalars(query))


def _check(value: str, longest: int, field: str) -> None:
    if not value or len(value) > longest:
        raise InvalidInput(f"{field} must be 1 to {longest} characters", field=field)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
