"""Events, for export, erasure and merges (see :mod:`lealta.persons.registry`)."""

from __future__ import annotations

from lealta.events.tables import Event
from lealta.persons.registry import PersonRows
from lealta.persons.rows import emptied, listed, moved

_COLUMNS = (
    "message_id",
    "type",
    "name",
    "anonymous_id",
    "user_id",
    "properties",
    "context",
    "occurred_at",
    "received_at",
)

ROWS = (
    PersonRows(
        table=Event.__tablename__,
        erase=emptied(
            Event,
            {"anonymous_id": None, "user_id": None, "properties": {}, "context": {}},
            counted=True,
        ),
        erased="anonymised, kept: only type, name, message id and times stay (anonymous id, "
        "user id, properties and context are emptied), so event counts over time stay right",
        merge=moved(Event),
        merged="moved to the survivor",
        sections=(("events", listed(Event, Event.occurred_at, _COLUMNS)),),
        reported_as="events_anonymised",
    ),
)
