"""Workflow runs, for export, erasure and merges (see :mod:`lealta.persons.registry`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.orm import Session

from lealta.automations.tables import Run
from lealta.persons.registry import PersonRows
from lealta.persons.rows import listed, moved

_COLUMNS = (
    "workflow_id",
    "version",
    "status",
    "step_id",
    "entered_at",
    "ended_at",
    "exit_reason",
)


def _end_runs(session: Session, ids: Sequence[str], now: dt.datetime) -> None:
    session.execute(
        update(Run)
        .where(Run.contact_id.in_(ids), Run.status.in_(("active", "waiting")))
        .values(status="exited", exit_reason="erased", ended_at=now, wake_at=None, state={})
        .execution_options(synchronize_session=False)
    )
    session.execute(  # what triggered any run of theirs may name them (an order, a form)
        update(Run)
        .where(Run.contact_id.in_(ids))
        .values(trigger=None)
        .execution_options(synchronize_session=False)
    )


ROWS = (
    PersonRows(
        table=Run.__tablename__,
        erase=_end_runs,
        erased="kept for the record: runs under way end (exited: erased, their state "
        "emptied), and what triggered any run (an order, a form) is dropped",
        merge=moved(Run),
        merged="moved to the survivor",
        sections=(("workflow_runs", listed(Run, Run.entered_at, _COLUMNS)),),
    ),
)
