"""Accepting tracking messages: check each one, store the good ones durably in the inbox.

Acceptance is one INSERT of the checked messages into ``inbox``, ignoring message ids already
there (or already applied: :func:`not_yet_applied`), in one transaction: once it commits, the
sender gets its 2xx, with how many messages were new and how many repeated earlier ones, and
the messages survive a crash. Applying them to profiles happens after, in
:mod:`lealta.tracking.processor`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from lealta.errors import InvalidInput
from lealta.events.tables import Event
from lealta.storage.upsert import insert_ignoring
from lealta.tracking.messages import Normalized, iso, normalize
from lealta.tracking.tables import InboxMessage

_BATCH_DEFAULTS = ("context", "integrations", "sentAt")


@dataclass(frozen=True)
class Rejection:
    """Why one message of a batch was refused."""

    index: int
    field: str
    reason: str
    message_id: str | None = None


@dataclass
class Checked:
    """The outcome of checking a batch: messages to store and messages refused."""

    received_at: dt.datetime
    good: list[Normalized] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def check_batch(body: Mapping[str, Any], *, received_at: dt.datetime) -> Checked:
    """Check every message of a ``/v1/batch`` body; bad ones are listed, good ones kept."""
    items = body.get("batch")
    if not isinstance(items, list):
        raise InvalidInput("the body needs a 'batch' array of messages", field="batch")
    defaults = {k: body[k] for k in _BATCH_DEFAULTS if body.get(k) is not None}
    if "context" in defaults and not isinstance(defaults["context"], dict):
        raise InvalidInput("context must be a JSON object", field="context")
    checked = Checked(received_at)
    text = iso(received_at)
    for index, item in enumerate(items):
        try:
            checked.good.append(
                normalize(item, received_at=received_at, defaults=defaults, received_text=text)
            )
        except InvalidInput as error:
            message_id = item.get("messageId") if isinstance(item, dict) else None
            where = f"batch[{index}].{error.field}" if error.field else f"batch[{index}]"
            checked.rejected.append(
                Rejection(
                    index, where, str(error), message_id if isinstance(message_id, str) else None
                )
            )
    return checked


def not_yet_applied(state: Engine, messages: Sequence[Normalized]) -> list[Normalized]:
    """``messages`` without those already applied to profiles (their event is stored): such
    a repeat would only be skipped by the processor, so it is a duplicate now."""
    if not messages:
        return []
    applied: set[str] = set()
    ids = [m.message_id for m in messages]
    with state.connect() as connection:
        for start in range(0, len(ids), _LOOKUP_CHUNK):
            chunk = ids[start : start + _LOOKUP_CHUNK]
            applied.update(
                connection.scalars(select(Event.message_id).where(Event.message_id.in_(chunk)))
            )
    return [m for m in messages if m.message_id not in applied] if applied else list(messages)


_LOOKUP_CHUNK = 500


def enqueue(inbox: Engine, messages: Sequence[Normalized], *, received_at: dt.datetime) -> int:
    """Write checked messages to the inbox in a transaction of their own (the hot path).

    Returns how many were new: a message whose id is already in the inbox (or earlier in
    ``messages``) is a duplicate and is not stored again. On SQLite this is one driver-level
    ``executemany`` of a constant statement (the driver sums the rows inserted); elsewhere one
    insert that returns the ids it stored.
    """
    if not messages:
        return 0
    with inbox.begin() as connection:
        if inbox.dialect.name == "sqlite":
            stamp = received_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            inserted = connection.exec_driver_sql(
                "INSERT INTO inbox (message_id, payload, received_at) VALUES (?, ?, ?) "
                "ON CONFLICT (message_id) DO NOTHING",
                [(m.message_id, m.payload.decode(), stamp) for m in messages],
            )
            return max(inserted.rowcount, 0)
        stored = connection.execute(
            postgresql.insert(InboxMessage)
            .on_conflict_do_nothing(index_elements=["message_id"])
            .returning(InboxMessage.message_id),
            [
                {
                    "message_id": m.message_id,
                    "payload": m.payload.decode(),
                    "received_at": received_at,
                }
                for m in messages
            ],
        )
        return len(stored.all())


def store(session: Session, messages: Sequence[Normalized], *, received_at: dt.datetime) -> None:
    """Write checked messages to the inbox; a message id already there is skipped."""
    if not messages:
        return
    insert_ignoring(
        session,
        InboxMessage.__table__,
        [
            {
                "message_id": m.message_id,
                "payload": m.payload.decode(),
                "received_at": received_at,
            }
            for m in messages
        ],
        conflict=("message_id",),
    )
