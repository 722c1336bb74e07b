"""The event rows of a processor batch's messages, kept column by column until written.

Every message adds one row of the same columns: kept as a tuple each and turned into columns
at once when written (:func:`lealta.storage.bulk.insert_columns`), they cost less than a
dictionary per row that is taken apart again by name (about a tenth of the processor's CPU
time went there). :class:`BatchRows` is the batch's
:class:`lealta.storage.pending.PendingRows` (stage changes, threshold crossings, score
changes) with those rows written first: whatever writes the pending rows before reading
events back (a late event's refold) writes the messages' events too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from lealta.events.tables import Event
from lealta.storage.bulk import insert_columns
from lealta.storage.pending import PendingRows

COLUMNS = (
    "message_id",
    "contact_id",
    "anonymous_id",
    "user_id",
    "type",
    "name",
    "properties",
    "context",
    "occurred_at",
    "received_at",
)
EVENTS = cast(Table, Event.__table__)


class EventRows:
    """Rows for the ``events`` table, in :data:`COLUMNS` order."""

    def __init__(self) -> None:
        self._rows: list[tuple[Any, ...]] = []

    def add(
        self,
        message_id: str,
        contact_id: str,
        anonymous_id: str | None,
        user_id: str | None,
        type_: str,
        name: str | None,
        properties: dict[str, Any],
        context: dict[str, Any],
        occurred_at: dt.datetime,
        received_at: dt.datetime,
    ) -> None:
        """Keep one event row."""
        self._rows.append(
            (
                message_id,
                contact_id,
                anonymous_id,
                user_id,
                type_,
                name,
                properties,
                context,
                occurred_at,
                received_at,
            )
        )

    def __len__(self) -> int:
        return len(self._rows)

    def write(self, session: Session) -> None:
        """Insert the kept rows (one statement, many rows) and forget them."""
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        columns = dict(zip(COLUMNS, map(list, zip(*rows, strict=True)), strict=True))
        insert_columns(session.connection(), EVENTS, columns)


class BatchRows(PendingRows):
    """A batch's pending rows, the messages' own event rows (:attr:`events`) first."""

    def __init__(self) -> None:
        super().__init__()
        self.events = EventRows()

    def __len__(self) -> int:
        return super().__len__() + len(self.events)

    def write(self, session: Session) -> None:
        """Insert the messages' events, then every other kept row."""
        if len(self.events):
            session.flush()  # the rows may refer to the session's objects
            self.events.write(session)
        super().write(session)
