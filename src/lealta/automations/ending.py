"""Ending every run of a workflow at once (the console's "End all runs").

One statement, whatever the number of runs: every run still under way (``active`` or
``waiting``) becomes ``exited`` with ``exit_reason`` saying who ended it, and is never woken
again (``wake_at`` cleared). The runner reads runs by status, so an ended run takes no further
step; the run's stored state keeps the step it was at, which the contact's page shows.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lealta.automations.service import LIVE
from lealta.automations.tables import Run


def under_way(session: Session, workflow_id: str) -> int:
    """How many runs of ``workflow_id`` are under way (active or waiting)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Run)
            .where(Run.workflow_id == workflow_id, Run.status.in_(LIVE))
        )
        or 0
    )


def end_runs(session: Session, workflow_id: str, *, reason: str, now: dt.datetime) -> int:
    """End every run of ``workflow_id`` under way; returns how many were ended."""
    done = session.execute(
        update(Run)
        .where(Run.workflow_id == workflow_id, Run.status.in_(LIVE))
        .values(
            status="exited",
            exit_reason=reason[:100],
            wake_at=None,
            ended_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(done, "rowcount", 0) or 0)
