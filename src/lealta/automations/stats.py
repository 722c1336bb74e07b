"""Workflow statistics: how many entered, are active or waiting, left, reached the goal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.automations.tables import Run, RunStep


def workflow_stats(session: Session, workflow_id: str) -> dict[str, Any]:
    """Totals per run status, the conversion rate, and per step: passes and runs waiting there."""
    by_status = dict(
        session.execute(
            select(Run.status, func.count())
            .where(Run.workflow_id == workflow_id)
            .group_by(Run.status)
        ).all()
    )
    entered = sum(by_status.values())
    goal = by_status.get("goal", 0)
    steps: dict[str, dict[str, Any]] = {}
    for step, outcome, count in session.execute(
        select(RunStep.step_id, RunStep.outcome, func.count())
        .where(RunStep.workflow_id == workflow_id)
        .group_by(RunStep.step_id, RunStep.outcome)
    ):
        steps.setdefault(str(step), {"outcomes": {}, "waiting": 0})["outcomes"][outcome] = count
    for step_id, count in session.execute(
        select(Run.step_id, func.count())
        .where(Run.workflow_id == workflow_id, Run.status == "waiting")
        .group_by(Run.step_id)
    ):
        if step_id is not None:
            steps.setdefault(step_id, {"outcomes": {}, "waiting": 0})["waiting"] = count
    return {
        "workflow": workflow_id,
        "entered": entered,
        "active": by_status.get("active", 0) + by_status.get("waiting", 0),
        "waiting": by_status.get("waiting", 0),
        "done": by_status.get("done", 0),
        "exited": by_status.get("exited", 0),
        "goal": goal,
        "conversion_rate": round(goal / entered, 4) if entered else 0.0,
        "steps": steps,
    }
