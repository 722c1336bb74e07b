"""Advancing due runs: claim a batch, build what the engine sees, step, write it all back.

A batch of due runs is claimed, the contacts they concern are loaded in a fixed number of
queries, the pure engine decides for each run, and its commands are carried out in the same
transaction as the runs' new states (:mod:`lealta.automations.commands`): an outbox row for a
send, tags, lists, attributes, stages, vouchers, other workflows. Every command carries an
idempotency key derived from (run, step, visit), so a batch replayed after a crash repeats no
side effect: outbox rows and vouchers are unique on their key.

**Claiming.** On PostgreSQL the due rows are locked ``FOR UPDATE SKIP LOCKED``, so several
workers share the load, each advancing different runs. On SQLite the batch's transaction
starts with ``BEGIN IMMEDIATE``: SQLite has no row locks, so runners (threads or processes)
take turns, and each reads the runs the previous one left. Due runs are taken oldest
``wake_at`` first; ``active`` and ``waiting`` runs are each read along the ``(status,
wake_at)`` index, so claiming costs the batch's size, not the backlog's.

**Reading.** Each run needs only some of its contact (:mod:`lealta.automations.needs`): a run
entering a ``wait`` reads nothing but consent, a branch on a tag reads the tags. The batch
loads each part for the contacts that need it (:mod:`lealta.conditions.views`); a part
nobody needs costs no query.

**Writing.** The batch ends with one bulk insert of the step log, one of the outbox rows
(``ON CONFLICT DO NOTHING`` on the idempotency key) and one bulk update of the runs by id
(:mod:`lealta.storage.bulk`).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from sqlalchemy import Engine, Select, Table, bindparam, select
from sqlalchemy.orm import Session

from lealta.automations import commands, engine
from lealta.automations.definition import WorkflowDefinition, load_definition
from lealta.automations.needs import first_waits, needs
from lealta.automations.tables import Run, RunStep, Workflow, WorkflowVersion
from lealta.bootstrap import Services
from lealta.channels.tables import OutboxMessage
from lealta.conditions import ContactView
from lealta.conditions.views import contact_views, from_json, json_column, views
from lealta.storage import bulk
from lealta.storage.retry import in_transaction

__all__ = ["BATCH", "advance_all", "advance_due", "contact_views"]

log = logging.getLogger(__name__)
BATCH = 2000
TERMINAL = ("done", "goal", "exited")
DUE = ("active", "waiting")
RUNS = cast(Table, Run.__table__)
STEPS = cast(Table, RunStep.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)


def advance_due(services: Services, *, limit: int = BATCH) -> int:
    """Advance up to ``limit`` due runs in one transaction; returns how many were taken.

    A look through a plain connection comes first: when no run is due (a worker looks after
    every drain of the inbox, and several times a second when idle), the write lock, the
    session and the read of active workflows are skipped (about 0.5 ms of CPU a look)."""
    if not _any_due(services.uow.engine, services.clock.now()):
        return 0
    return in_transaction(services.uow, lambda session: _advance(services, session, limit))


def _any_due(engine: Engine, now: dt.datetime) -> bool:
    with engine.connect() as connection:
        return connection.execute(_any_due_query(), {"now": now}).first() is not None


@functools.cache
def _any_due_query() -> Select[str]:
    """Any run due (whatever its workflow's status), built once; ``ix_workflow_runs_due``."""
    return (
        select(RUNS.c.id).where(RUNS.c.status.in_(DUE), RUNS.c.wake_at <= bindparam("now")).limit(1)
    )


def advance_all(services: Services) -> int:
    """Advance due runs until none is due now; returns how many steps of runs were taken."""
    total = 0
    while taken := advance_due(services):
        total += taken
    return total


class _Due(NamedTuple):
    """A claimed run: what stepping it reads."""

    id: str
    workflow_id: str
    version: int
    contact_id: str
    state: dict[str, Any]
    entered_at: dt.datetime
    wake_at: dt.datetime
    trigger: dict[str, Any] | None


@dataclass
class _Writes:
    """What a batch writes in bulk at its end."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)

    def flush(self, session: Session, now: dt.datetime) -> None:
        connection = session.connection()
        bulk.insert_rows(
            connection,
            OUTBOX,
            self.outbox,
            shared={
                "status": "pending",
                "priority": 0,
                "attempts": 0,
                "not_before": now,
                "created_at": now,
            },
            skip_conflicts_on=["idempotency_key"],
        )
        bulk.insert_rows(connection, STEPS, self.steps, shared={"at": now, "note": None})
        bulk.update_rows(connection, RUNS, self.runs, key="id", shared={"updated_at": now})


def _advance(services: Services, session: Session, limit: int) -> int:
    _lock_for_writing(session)
    now = services.clock.now()
    active = list(session.scalars(select(Workflow.id).where(Workflow.status == "active")))
    if not active:
        return 0
    runs = _claim(session, active, now, limit)
    if not runs:
        return 0
    definitions = _definitions(session, {(run.workflow_id, run.version) for run in runs})
    seen = views(session, _needs(runs, definitions, now), now=now)
    writes = _Writes()
    for run in runs:
        rules = definitions[run.workflow_id, run.version]
        _step(session, writes, run, rules, seen.get(run.contact_id), now)
    writes.flush(session, now)
    return len(runs)


def _lock_for_writing(session: Session) -> None:
    """On SQLite, take the write lock before reading the batch (other writers wait for it).

    SQLite has no row locks: two runners reading the same due runs would both advance them.
    ``BEGIN IMMEDIATE`` makes the batch's transaction a writer from its first statement.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _claim(session: Session, workflows: Sequence[str], now: dt.datetime, limit: int) -> list[_Due]:
    """Up to ``limit`` due runs of active workflows, oldest ``wake_at`` first.

    Each status is read in ``(status, wake_at)`` index order, so a claim stops after
    ``limit`` rows however many are due; the two lists are then merged. On PostgreSQL the
    rows are locked, and rows another worker holds are skipped.
    """
    connection = session.connection()
    found: list[_Due] = []
    for status in DUE:
        rows = connection.execute(
            select(
                RUNS.c.id,
                RUNS.c.workflow_id,
                RUNS.c.version,
                RUNS.c.contact_id,
                json_column(RUNS.c.state),
                RUNS.c.entered_at,
                RUNS.c.wake_at,
                json_column(RUNS.c.trigger),
            )
            .where(
                RUNS.c.status == status,
                RUNS.c.wake_at <= now,
                RUNS.c.workflow_id.in_(workflows),
            )
            .order_by(RUNS.c.wake_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        found.extend(
            _Due(*row[:4], from_json(row[4]) or {}, row[5], row[6], from_json(row[7]))
            for row in rows
        )
    found.sort(key=lambda run: run.wake_at)
    return found[:limit]


def _definitions(
    session: Session, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], WorkflowDefinition]:
    """The definitions of the batch's workflow versions, one query."""
    wanted = set(keys)
    rows = session.execute(
        select(
            WorkflowVersion.workflow_id, WorkflowVersion.version, WorkflowVersion.definition
        ).where(WorkflowVersion.workflow_id.in_(sorted({workflow for workflow, _ in wanted})))
    )
    return {
        (workflow, version): load_definition(document)
        for workflow, version, document in rows
        if (workflow, version) in wanted
    }


def _needs(
    runs: Sequence[_Due],
    definitions: Mapping[tuple[str, int], WorkflowDefinition],
    now: dt.datetime,
) -> dict[str, set[str]]:
    """Contact id → the parts of it the batch's engine calls may read (see ``needs``)."""
    known: dict[tuple[Any, ...], frozenset[str]] = {}
    waits = {key: first_waits(rules) for key, rules in definitions.items()}
    wanted: dict[str, set[str]] = defaultdict(set)
    for run in runs:
        key = (run.workflow_id, run.version)
        if run.state:
            step_id, waiting = run.state.get("step_id"), run.state.get("status") == "waiting"
            positions: tuple[tuple[str | None, bool], ...] = ((step_id, waiting),)
            if "unsubscribed" in definitions[key].exit_on:
                wanted[run.contact_id].add("consent")  # for _exit_reason
        else:  # a new run; taken late, its first call may also resume the waits that passed
            late = now - _aware(run.entered_at)
            passed = tuple(
                (wait, True) for wait, lasts in waits[key] if lasts is None or lasts <= late
            )
            positions = ((None, False), *passed)
        if (key, positions) not in known:
            rules = definitions[key]
            known[key, positions] = frozenset().union(
                *(needs(rules, step_id, waiting=waiting) for step_id, waiting in positions)
            )
        wanted[run.contact_id] |= known[key, positions]
    return wanted


def _step(
    session: Session,
    writes: _Writes,
    run: _Due,
    rules: WorkflowDefinition,
    view: ContactView | None,
    now: dt.datetime,
) -> None:
    if view is None:  # erased, merged or gone
        writes.runs.append(_gone(run, now))
        return
    if run.state:
        state = engine.RunState.from_dict(run.state)
        reason = _exit_reason(rules, view)
        outcome = (
            engine.Outcome(engine.exit_run(state, reason, now), [], [])
            if reason
            else engine.advance(rules, state, contact=view, now=now)
        )
    else:
        outcome = engine.start(
            rules, run_id=run.id, contact=view, now=now, entered_at=_aware(run.entered_at)
        )
    saved = commands.apply(session, writes.outbox, run, outcome.commands, now)
    new = outcome.state
    document = new.to_dict()
    if saved:
        document["data"] = {**document["data"], **saved}
    writes.steps.extend(
        {
            "run_id": run.id,
            "workflow_id": run.workflow_id,
            "step_id": entry.step_id,
            "outcome": entry.outcome,
            "detail": dict(entry.detail),
        }
        for entry in outcome.log
    )
    ended = new.status in TERMINAL
    writes.runs.append(
        {
            "id": run.id,
            "status": new.status,
            "step_id": new.step_id,
            "state": document,
            "wake_at": None if ended else new.wake_at,
            "ended_at": now if ended else None,
            "exit_reason": new.exit_reason if ended else None,
        }
    )


def _gone(run: _Due, now: dt.datetime) -> dict[str, Any]:
    """The run of a contact erased, merged or deleted: exited, its state saying so too."""
    state = engine.RunState.from_dict(run.state) if run.state else None
    return {
        "id": run.id,
        "status": "exited",
        "step_id": state.step_id if state else None,
        "state": engine.exit_run(state, "contact gone", now).to_dict() if state else {},
        "wake_at": None,
        "ended_at": now,
        "exit_reason": "contact gone",
    }


def _exit_reason(rules: WorkflowDefinition, view: ContactView) -> str | None:
    if "unsubscribed" in rules.exit_on and view.consent.get("email") == "denied":
        return "unsubscribed"
    return None


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
