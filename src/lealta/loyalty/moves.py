"""Recording tier moves: a ``loyalty_tier_changes`` row and a ``Loyalty Tier Upgraded`` /
``Loyalty Tier Downgraded`` event per move, and the workflows those events start and wake.

A full review records hundreds of thousands of moves at once, so they are written set-wise:
the moves are staged once, column by column, in a temporary table (on PostgreSQL by
``COPY``), and the database writes the history rows and the events from it with one
``INSERT … SELECT`` each (the event's id and properties are built in SQL, so no event passes
through Python). An event whose id is there already (a review repeated at the same moment)
is skipped (``ON CONFLICT DO NOTHING``) and starts nothing; only when the count written says
some were skipped are the new ones read back. On PostgreSQL a plain ``INSERT`` in a savepoint
comes first (cheaper), and only if an id was there is it undone for the skipping one. Their
contacts' waiting runs are woken, and only when an active workflow is triggered by a tier
event are the events made into Python objects for it
(:func:`lealta.automations.recording.start_and_wake`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    case,
    func,
    literal,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lealta.events.tables import Event
from lealta.loyalty.tables import TierChange

UPGRADED = "Loyalty Tier Upgraded"
DOWNGRADED = "Loyalty Tier Downgraded"
MAX_REASON = 500  # loyalty_tier_changes.reason
MAX_MESSAGE_ID = 128  # events.message_id
UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE
EVENTS = cast(Table, Event.__table__)
CHANGES = cast(Table, TierChange.__table__)

# The staging table: one row per move, dropped when the recording is done.
MOVES = Table(
    "loyalty_moves_staged",
    MetaData(),
    Column("contact_id", String(64)),
    Column("from_tier", String(64)),
    Column("to_tier", String(64)),
    Column("up", Boolean),
    Column("reason", Text),
    prefixes=["TEMPORARY"],
)


def message_id(contact_id: str, now: dt.datetime) -> str:
    """The id of the tier event of ``contact_id``'s move at the review of ``now``."""
    return f"loyalty:{contact_id}:{now.isoformat()}"[:MAX_MESSAGE_ID]


def record(session: Session, changes: Any, version: int, now: dt.datetime) -> int:
    """Record ``changes`` (a pandas DataFrame of
    :data:`lealta.loyalty.status.CHANGE_COLUMNS`) made by programme ``version`` at ``now``:
    history rows, events, and the workflows the new events start and wake. The number of
    new events."""
    from lealta.storage import bulk

    if changes.empty:
        return 0
    connection = session.connection()
    MOVES.drop(connection, checkfirst=True)  # a failed recording's, in this session
    MOVES.create(connection)
    try:
        bulk.insert_columns(connection, MOVES, _staged(changes))
        _history(connection, version, now)
        new = _events(connection, now, len(changes))
    finally:
        MOVES.drop(connection)
    _start_and_wake(session, changes, new, now)
    return len(changes) if new is None else len(new)


def _staged(changes: Any) -> dict[str, list[Any]]:
    from lealta.loyalty.service import _plain_values

    return {
        "contact_id": _plain_values(changes["contact_id"]),
        "from_tier": _plain_values(changes["from_tier"]),
        "to_tier": _plain_values(changes["to_tier"]),
        "up": (changes["direction"].to_numpy(dtype=object) == "up").tolist(),
        "reason": _plain_values(changes["reason"]),
    }


def _history(connection: Connection, version: int, now: dt.datetime) -> None:
    """One ``loyalty_tier_changes`` row per staged move."""
    source = select(
        MOVES.c.contact_id,
        MOVES.c.from_tier,
        MOVES.c.to_tier,
        func.substr(MOVES.c.reason, 1, MAX_REASON),
        bindparam("changed_at", now, type_=CHANGES.c.changed_at.type),
        bindparam("program_version", version, type_=CHANGES.c.program_version.type),
    )
    names = ["contact_id", "from_tier", "to_tier", "reason", "changed_at", "program_version"]
    connection.execute(CHANGES.insert().from_select(names, source))


def _events(connection: Connection, now: dt.datetime, staged: int) -> set[str] | None:
    """One event per staged move (``staged`` of them), unless its id is there already; the
    contacts of the new ones, or None when all are new (the usual case: nothing is read
    back)."""
    postgres = connection.dialect.name == "postgresql"
    stamp = now.isoformat()
    ident = func.substr(
        literal("loyalty:") + MOVES.c.contact_id + literal(f":{stamp}"), 1, MAX_MESSAGE_ID
    )
    build = func.jsonb_build_object if postgres else func.json_object
    properties: Any = build(
        "from", MOVES.c.from_tier, "to", MOVES.c.to_tier, "reason", MOVES.c.reason
    )
    if postgres:
        properties = type_coerce(properties, postgresql.JSONB)
    moment = EVENTS.c.occurred_at.type
    source = select(
        ident,
        MOVES.c.contact_id,
        literal("track"),
        case((MOVES.c.up, UPGRADED), else_=DOWNGRADED),
        properties,
        bindparam("context", {"source": "lealta"}, type_=EVENTS.c.context.type),
        bindparam("occurred_at", now, type_=moment),
        bindparam("received_at", now, type_=moment),
    ).where(true())  # SQLite: ON CONFLICT after a SELECT needs its WHERE
    names = [
        "message_id", "contact_id", "type", "name", "properties", "context", "occurred_at",
        "received_at",
    ]  # fmt: skip
    module: Any = postgresql if postgres else sqlite
    insert = module.insert(EVENTS).from_select(names, source)
    before = connection.scalar(select(func.max(EVENTS.c.id))) or 0
    if postgres and _all_new(connection, insert):
        return None
    statement = insert.on_conflict_do_nothing(index_elements=["message_id"])
    # the count written (SQLAlchemy keeps an INSERT's count only when asked)
    if connection.execute(statement.execution_options(preserve_rowcount=True)).rowcount == staged:
        return None
    # some were there (a review repeated at the same moment): the new ones are those above
    # ``before`` (reviews hold a lock, so no other writer adds events with these ids)
    return set(
        connection.scalars(
            select(MOVES.c.contact_id).join(
                EVENTS, (EVENTS.c.message_id == ident) & (EVENTS.c.id > before)
            )
        )
    )


def _all_new(connection: Connection, insert: Any) -> bool:
    """Run the events' plain ``insert`` in a savepoint (PostgreSQL): True when it wrote them
    all; False, undone, when an id was there already. ``ON CONFLICT DO NOTHING`` costs the
    server about a sixth more per event (1.9 of 12.3 CPU s for 708,211 events), so it is kept
    for a review repeated at the same moment."""
    try:
        with connection.begin_nested():
            connection.execute(insert)
    except IntegrityError as error:
        if getattr(error.orig, "sqlstate", None) != UNIQUE_VIOLATION:
            raise
        return False
    return True


def _start_and_wake(session: Session, changes: Any, new: set[str] | None, now: dt.datetime) -> None:
    """What the new events (those of the contacts in ``new``; None: all) do to workflows:
    the contacts' waiting runs are woken; the events are built in Python only when an
    active workflow is triggered by one of them."""
    from lealta.automations.definition import EventTrigger
    from lealta.automations.recording import start_and_wake, wake
    from lealta.automations.triggers import load_live

    if new is not None:
        changes = changes[changes["contact_id"].isin(list(new))]
    if changes.empty:
        return
    names = {UPGRADED.casefold(), DOWNGRADED.casefold()}
    wanted = any(
        isinstance(live.rules.trigger, EventTrigger)
        and live.rules.trigger.event.casefold() in names
        for live in load_live(session)
    )
    entry_key = f"loyalty:{now.isoformat()}"
    if not wanted:
        wake(session, changes["contact_id"].to_numpy(dtype=object).tolist(), now=now)
        return
    from lealta.loyalty.service import _records

    events = [
        {
            "message_id": message_id(r["contact_id"], now),
            "contact_id": r["contact_id"],
            "name": UPGRADED if r["direction"] == "up" else DOWNGRADED,
            "properties": {"from": r["from_tier"], "to": r["to_tier"], "reason": r["reason"]},
        }
        for r in _records(changes)
    ]
    start_and_wake(session, events, entry_key=entry_key, now=now)
