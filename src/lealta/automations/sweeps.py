"""Set-based enrolment: segment moves after an RFM recomputation, for many people at once.

Entering or leaving an RFM segment is found by comparing the segments before and after a
recomputation; each move becomes an event (``Segment Entered`` / ``Segment Left``) on the
person's history, and every active workflow triggered by it enrols the movers with a few bulk
statements, not one transaction per person.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from lealta.automations import admission, service
from lealta.automations.tables import Run, RunStep
from lealta.automations.triggers import load_live
from lealta.automations.uniform import Start, uniform_start
from lealta.events.tables import Event
from lealta.storage import bulk

ENTERED = "Segment Entered"
LEFT = "Segment Left"
CHUNK = 5000
ANALYZE_AFTER = 10_000
EVENTS = cast(Table, Event.__table__)
RUNS = cast(Table, Run.__table__)
STEPS = cast(Table, RunStep.__table__)
log = logging.getLogger(__name__)


def segment_moves(
    session: Session,
    before: Mapping[str, str],
    after: Mapping[str, str],
    *,
    now: dt.datetime,
) -> dict[str, int]:
    """Record the moves between two segment assignments and enrol triggered workflows.

    Returns counts: ``moves`` and, per workflow id, the runs started.
    """
    stamp = now.date().isoformat()
    entered = [(cid, seg, before.get(cid)) for cid, seg in after.items() if before.get(cid) != seg]
    left = [(cid, seg, after.get(cid)) for cid, seg in before.items() if after.get(cid) != seg]
    events = [
        _event(cid, ENTERED, {"segment": seg, "from": old}, f"{stamp}:{seg}:in")
        for cid, seg, old in entered
    ] + [
        _event(cid, LEFT, {"segment": seg, "to": new}, f"{stamp}:{seg}:out")
        for cid, seg, new in left
    ]
    connection = session.connection()
    shared = {
        "type": "track",
        "context": {"source": "lealta"},
        "occurred_at": now,
        "received_at": now,
    }
    for start in range(0, len(events), CHUNK):
        bulk.insert_rows(
            connection,
            EVENTS,
            events[start : start + CHUNK],
            shared=shared,
            skip_conflicts_on=["message_id"],
        )
    report = {"moves": len(entered) + len(left)}
    for live in load_live(session):
        trigger: Any = live.rules.trigger
        if trigger.type == "segment_entered":
            movers = [
                cid
                for cid, seg, old in entered
                if seg == trigger.segment
                and (not trigger.from_segments or old in trigger.from_segments)
            ]
        elif trigger.type == "segment_left":
            movers = [cid for cid, seg, _new in left if seg == trigger.segment]
        else:
            continue
        report[live.workflow.id] = enroll_many(
            session, live, movers, entry_key=f"segment:{stamp}:{trigger.segment}", now=now
        )
    return report


def enroll_many(
    session: Session, live: Any, contact_ids: Sequence[str], *, entry_key: str, now: dt.datetime
) -> int:
    """Enrol many contacts in one workflow with bulk statements; returns how many were new
    (see :func:`enrol_set`, which also says who was refused and why)."""
    return enrol_set(session, live, contact_ids, entry_key=entry_key, now=now).started


@dataclass(frozen=True)
class Enrolled:
    """What a bulk enrolment did: runs started, and contacts refused per reason (the entry
    rule that kept them out: see :mod:`lealta.automations.admission`)."""

    started: int
    refused: dict[str, int]
    admitted: list[str]


def enrol_set(
    session: Session, live: Any, contact_ids: Sequence[str], *, entry_key: str, now: dt.datetime
) -> Enrolled:
    """Enrol many contacts in one workflow with bulk statements.

    The entry rules are those of one enrolment (:func:`lealta.automations.service.may_enter`:
    contact gone, ``max_active``, ``reenter``, ``reenter_after_days``, suppressing tags and
    segments), applied set-wise by :func:`lealta.automations.admission.admit`. The refusals
    are counted per reason in the result and logged (``lealta.automations.sweeps``, info).
    """
    workflow, rules = live.workflow, live.rules
    if workflow.status != "active" or not contact_ids:
        return Enrolled(0, {}, [])
    found = admission.admit(session, workflow.id, rules.entry, contact_ids, now=now)
    refused = found.reasons()
    if refused:
        log.info(
            "workflow %s: %d refused entry (%s)",
            workflow.id,
            len(found.refused),
            ", ".join(f"{reason}: {count}" for reason, count in sorted(refused.items())),
        )
    # In run id order: the runs table, its key and, later, the step log grow at one end
    # instead of all over their indexes, and the runner (which takes runs due at the same
    # moment in table order) writes each batch's step log into one stretch of its index.
    chosen = sorted((service.run_id(workflow.id, cid, entry_key), cid) for cid in found.admitted)
    connection = session.connection()
    shared = {
        "workflow_id": workflow.id,
        "version": workflow.current_version,
        "entry_key": entry_key[:200],
        "entered_at": now,
        "updated_at": now,
    }
    begun = uniform_start(rules, now)
    if begun is None:  # the runner starts each run
        shared |= {"status": "active", "step_id": None, "state": {}, "wake_at": now}
    else:  # every run starts alike: written started, with the engine's log
        shared |= {
            "status": begun.status,
            "step_id": begun.step_id,
            "wake_at": begun.wake_at,
            "ended_at": begun.ended_at,
            "exit_reason": begun.exit_reason,
        }
    for start in range(0, len(chosen), CHUNK):
        part = chosen[start : start + CHUNK]
        rows: list[dict[str, Any]]
        if begun is None:
            rows = [{"id": run, "contact_id": cid} for run, cid in part]
        else:
            rows = [
                {"id": run, "contact_id": cid, "state": begun.state_of(run)} for run, cid in part
            ]
        bulk.insert_rows(connection, RUNS, rows, shared=shared, skip_conflicts_on=["id"])
        if begun is not None:
            _log_starts(connection, workflow.id, [run for run, _ in part], begun, now)
    if len(chosen) >= ANALYZE_AFTER and connection.dialect.name == "postgresql":
        # The runner claims along the (status, wake_at) index; planner statistics that do not
        # know these rows yet would have it sort every due run on each claim instead.
        connection.exec_driver_sql("ANALYZE workflow_runs")
    return Enrolled(len(chosen), refused, found.admitted)


def _log_starts(
    connection: Any, workflow_id: str, runs: Sequence[str], begun: Start, now: dt.datetime
) -> None:
    """The step log of runs written started: the engine's log of the probe, for each."""
    shared = {"workflow_id": workflow_id, "at": now, "note": None}
    for step_id, outcome, detail in begun.log:
        bulk.insert_rows(
            connection,
            STEPS,
            [{"run_id": run} for run in runs],
            shared={**shared, "step_id": step_id, "outcome": outcome, "detail": detail},
        )


def _event(contact_id: str, name: str, properties: dict[str, Any], suffix: str) -> dict[str, Any]:
    return {
        "message_id": f"segment:{contact_id}:{suffix}"[:128],
        "contact_id": contact_id,
        "name": name,
        "properties": properties,
    }
