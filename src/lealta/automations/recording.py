"""Recording, many at once, the events Lealta itself derives (tier changes, points credited or
expiring) so that they do what a tracked event does to workflows: start the workflows they
trigger and wake the runs that wait for an event.

A tracked event goes through :meth:`lealta.automations.triggers.Triggers.on_event`, one
contact at a time: it enrols the contact where the event triggers a workflow, keeping the
event as the run's trigger, then wakes the contact's waiting runs (``wake_at = now``), so a
``wait_for_event`` run sees the event at once instead of at its timeout. A loyalty review
records hundreds of thousands of events at once; here the same happens set-wise: the events
are written with a few statements whatever their number, each event-triggered workflow enrols
its contacts with :func:`lealta.automations.sweeps.enrol_set` (the entry rules of one enrolment,
set-wise), and one ``UPDATE`` per chunk of contacts wakes their waiting runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from lealta.automations.definition import EventTrigger
from lealta.automations.service import run_id
from lealta.automations.tables import Run
from lealta.automations.triggers import load_live
from lealta.events.tables import Event
from lealta.scoring.rules import conditions_hold
from lealta.storage import bulk
from lealta.storage.keyed import one_of

CHUNK = 5000
EVENTS = cast(Table, Event.__table__)
RUNS = cast(Table, Run.__table__)


def record_events(
    session: Session, events: Sequence[dict[str, Any]], *, entry_key: str, now: dt.datetime
) -> list[dict[str, Any]]:
    """Write the ``events`` (``message_id``, ``contact_id``, ``name``, ``properties``) whose
    ``message_id`` is new, as ``track`` events that occurred ``now``, then start and wake the
    workflows they concern (:func:`start_and_wake`); the new ones (a replay writes none and
    starts nothing). Of events sharing a ``message_id``, the last is the one written.

    All are written at once (:func:`lealta.storage.bulk.insert_new`: on PostgreSQL one
    ``COPY`` and one ``INSERT … ON CONFLICT DO NOTHING RETURNING``), so a review's hundreds
    of thousands of events cost a few statements, not a few per chunk."""
    unique = list({e["message_id"]: e for e in events}.values())
    written = bulk.insert_new(
        session.connection(),
        EVENTS,
        {
            name: [e[name] for e in unique]
            for name in ("message_id", "contact_id", "name", "properties")
        },
        key="message_id",
        shared={
            "type": "track",
            "context": {"source": "lealta"},
            "occurred_at": now,
            "received_at": now,
        },
    )
    new = [e for e in unique if e["message_id"] in written]
    start_and_wake(session, new, entry_key=entry_key, now=now)
    return new


def start_and_wake(
    session: Session, events: Sequence[dict[str, Any]], *, entry_key: str, now: dt.datetime
) -> dict[str, int]:
    """Do to workflows what these (recorded) events do when tracked, set-wise; runs started
    per workflow id.

    Every active workflow an event triggers (its name and ``where``) enrols the event's
    contacts under ``entry_key`` with the entry rules applied (the refused are counted and
    logged by :func:`lealta.automations.sweeps.enrol_set`); each new run keeps its event as
    its trigger (templates read ``trigger.properties``). The runs already waiting of every
    contact with an event are made due now first, so a ``wait_for_event`` sees it at once.
    """
    from lealta.automations.sweeps import enrol_set

    if not events:
        return {}
    # Waking first leaves the runs this call starts alone: they are new, not waiting for
    # anything that came before them (a tracked event's new runs start active, likewise).
    wake(session, [e["contact_id"] for e in events], now=now)
    connection = session.connection()
    started: dict[str, int] = {}
    for live in load_live(session):
        trigger = live.rules.trigger
        if not isinstance(trigger, EventTrigger):
            continue
        wanted = trigger.event.casefold()
        movers: dict[str, dict[str, Any]] = {}
        for e in events:  # a contact's first matching event starts their run
            if (
                e["name"].casefold() == wanted
                and e["contact_id"] not in movers
                and conditions_hold(trigger.where, e["properties"])
            ):
                movers[e["contact_id"]] = e
        if not movers:
            continue
        done = enrol_set(session, live, list(movers), entry_key=entry_key, now=now)
        started[live.workflow.id] = done.started
        kept = [
            {
                "run": run_id(live.workflow.id, contact_id, entry_key),
                "kept": {
                    "event": movers[contact_id]["name"],
                    "type": "track",
                    "properties": movers[contact_id]["properties"],
                    "at": now.isoformat(),
                    "message_id": movers[contact_id]["message_id"],
                },
            }
            for contact_id in done.admitted
        ]
        statement = (
            update(RUNS)
            .where(RUNS.c.id == bindparam("run"), RUNS.c.trigger.is_(None))
            .values(trigger=bindparam("kept"))
        )
        for start in range(0, len(kept), CHUNK):
            connection.execute(statement, kept[start : start + CHUNK])
    return started


def wake(session: Session, contact_ids: Sequence[str], *, now: dt.datetime) -> int:
    """Make the waiting runs of ``contact_ids`` due ``now`` (what a tracked event does to its
    contact's runs); how many were woken. The runner then sees whether the event they wait
    for came (and whether a goal is reached). A run waiting for a time keeps its own wake-up
    time in its state, so waking it early changes nothing; runs already due are left alone.

    Up to :data:`CHUNK` contacts, one ``UPDATE`` by contact; beyond, the waiting runs are
    read once (along the ``(status, wake_at)`` index) and those of the contacts updated by
    id, instead of the database matching each chunk of contacts against every waiting run.
    """
    ids = list(dict.fromkeys(contact_ids))
    if not ids:
        return 0
    connection = session.connection()
    later = [RUNS.c.status == "waiting", or_(RUNS.c.wake_at.is_(None), RUNS.c.wake_at > now)]
    if len(ids) <= CHUNK:
        done = connection.execute(
            update(RUNS)
            .where(one_of(connection, RUNS.c.contact_id, ids), *later)
            .values(wake_at=now)
        )
        return int(done.rowcount or 0)
    wanted = set(ids)
    runs = [
        run
        for run, contact_id in connection.execute(
            select(RUNS.c.id, RUNS.c.contact_id).where(*later)
        )
        if contact_id in wanted
    ]
    for start in range(0, len(runs), CHUNK):
        connection.execute(
            update(RUNS)
            .where(one_of(connection, RUNS.c.id, runs[start : start + CHUNK]))
            .values(wake_at=now)
        )
    return len(runs)
