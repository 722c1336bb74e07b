"""Outbox messages, push devices and what people did with messages, for export, erasure and
merges (see :mod:`lealta.persons.registry`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.orm import Session

from lealta.channels.tables import MessageInteraction, OutboxMessage, PushDevice
from lealta.persons.registry import PersonRows
from lealta.persons.rows import deleted, emptied, listed, moved


def _drop_unsent(session: Session, ids: Sequence[str], now: dt.datetime) -> None:
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.contact_id.in_(ids),
            OutboxMessage.status.in_(("pending", "held", "claimed")),
        )
        .values(status="suppressed", error="contact erased")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.contact_id.in_(ids))
        .values(payload={})
        .execution_options(synchronize_session=False)
    )


ROWS = (
    PersonRows(
        table=OutboxMessage.__tablename__,
        erase=_drop_unsent,
        erased="kept for the record, emptied of their content: unsent ones are suppressed "
        "(contact erased); an address on the suppression list stays there, or the next "
        "import would mail someone who asked not to be",
        merge=moved(OutboxMessage),
        merged="moved to the survivor",
        sections=(
            (
                "messages",
                listed(
                    OutboxMessage,
                    OutboxMessage.id,
                    ("channel", "template", "status", "created_at", "sent_at", "payload"),
                ),
            ),
        ),
    ),
    PersonRows(
        table=PushDevice.__tablename__,
        erase=deleted(PushDevice),
        erased="deleted: a device reaches the person",
        merge=moved(PushDevice),
        merged="moved to the survivor",
    ),
    PersonRows(
        table=MessageInteraction.__tablename__,
        erase=emptied(MessageInteraction, {"url": None, "details": {}}),
        erased="kept, counted, without their links and details",
        merge=moved(MessageInteraction),
        merged="moved to the survivor",
    ),
)
