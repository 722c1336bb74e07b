"""Accepting tracking messages: check each one, store the good ones durably in the inbox.

Acceptance is one INSERT of the checked messages into ``inbox``, ignoring message ids already
there, in one transaction: once it commits, the sender gets its 2xx and the messages survive a
crash. Applying them to profiles happens after, in :mod:`lealta.tracking.processor`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from lealta.errors import InvalidInput
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


def enqueue(inbox: Engine, messages: Sequence[Normalized], *, received_at: dt.datetime) -> None:
    """Write checked messages to the inbox in a transaction of their own (the hot path).

    On SQLite this is one driver-level ``executemany`` of a constant statement; elsewhere the
    same insert as :func:`store`.
    """
    if not messages:
        return
    with inbox.begin() as connection:
        if inbox.dialect.name == "sqlite":
            stamp = received_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            connection.exec_driver_sql(
                "INSERT INTO inbox (message_id, payload, received_at) VALUES (?, ?, ?) "
                "ON CONFLICT (message_id) DO NOTHING",
                [(m.message_id, m.payload.decode(), stamp) for m in messages],
            )
            return
        connection.execute(
            postgresql.insert(InboxMessage).on_conflict_do_nothing(index_elements=["message_id"]),
            [
                {
                    "message_id": m.message_id,
                    "payload": m.payload.decode(),
                    "received_at": received_at,
                }
                for m in messages
            ],
        )


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
