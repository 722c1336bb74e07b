"""Workflow statistics: how many entered, are active or waiting, left, reached the goal, and
what became of the messages they decided.

Definitions:

* Run counts (``entered``, ``active``, ``waiting``, ``done``, ``exited``, ``goal``) are runs
  by status; ``conversion_rate = goal / entered``.
* ``messages`` counts the workflow's outbox rows (messages its runs decided, joined through
  ``outbox.run_id``) by what became of them: ``sent`` (handed to the provider), ``suppressed``
  (never sent: no consent, address on the suppression list, frequency cap, erased or merged
  contact; ``suppressed_by_reason`` splits them), ``failed``, ``held`` (waiting for the end
  of the contact's quiet hours) and ``waiting`` (due, being sent, or retrying later).
  ``queued`` is their total.
* Per step: ``outcomes`` counts the step log; a send step's decision is logged as ``queued``
  (what became of the message is under the step's ``messages``, found by the step id the
  message's payload keeps), and ``waiting`` counts runs waiting at the step.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.automations.tables import Run, RunStep
from lealta.channels.outbox import WAITING, suppression_reason
from lealta.channels.tables import OutboxMessage

# The step log says ``sent`` when a send step queues its message; shown as what it is.
_OUTCOME_SHOWN = {"sent": "queued"}


def workflow_stats(session: Session, workflow_id: str) -> dict[str, Any]:
    """Totals per run status, the conversion rate, what became of the messages, and per step:
    its outcomes, its messages and the runs waiting there (see the module docstring)."""
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
        shown = _OUTCOME_SHOWN.get(outcome, outcome)
        outcomes = _step(steps, str(step))["outcomes"]
        outcomes[shown] = outcomes.get(shown, 0) + count
    for step_id, count in session.execute(
        select(Run.step_id, func.count())
        .where(Run.workflow_id == workflow_id, Run.status == "waiting")
        .group_by(Run.step_id)
    ):
        if step_id is not None:
            _step(steps, step_id)["waiting"] = count
    messages = _messages(session, workflow_id, steps)
    return {
        "workflow": workflow_id,
        "entered": entered,
        "active": by_status.get("active", 0) + by_status.get("waiting", 0),
        "waiting": by_status.get("waiting", 0),
        "done": by_status.get("done", 0),
        "exited": by_status.get("exited", 0),
        "goal": goal,
        "conversion_rate": round(goal / entered, 4) if entered else 0.0,
        "messages": messages,
        "steps": steps,
    }


def message_counts() -> dict[str, Any]:
    """Zero messages: the shape of ``messages`` (see the module docstring)."""
    return {
        "queued": 0,
        "sent": 0,
        "suppressed": 0,
        "suppressed_by_reason": {},
        "failed": 0,
        "held": 0,
        "waiting": 0,
    }


def _step(steps: dict[str, dict[str, Any]], step_id: str) -> dict[str, Any]:
    return steps.setdefault(step_id, {"outcomes": {}, "waiting": 0})


def _messages(
    session: Session, workflow_id: str, steps: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The workflow's messages by fate, in total and per step (added to ``steps``)."""
    total = message_counts()
    step = OutboxMessage.payload["step"].as_string()
    # Suppressed ones are grouped by their reason too; the others' errors vary too much.
    reason = func.coalesce(OutboxMessage.error, "")
    mine = (Run.workflow_id == workflow_id,)
    suppressed = session.execute(
        select(step, OutboxMessage.status, reason, func.count())
        .join(Run, Run.id == OutboxMessage.run_id)
        .where(*mine, OutboxMessage.status == "suppressed")
        .group_by(step, OutboxMessage.status, reason)
    ).all()
    others = session.execute(
        select(step, OutboxMessage.status, func.count())
        .join(Run, Run.id == OutboxMessage.run_id)
        .where(*mine, OutboxMessage.status != "suppressed")
        .group_by(step, OutboxMessage.status)
    ).all()
    found = [*suppressed, *((step_id, status, "", count) for step_id, status, count in others)]
    for step_id, status, error, count in found:
        counts = [total]
        if step_id:
            counts.append(_step(steps, str(step_id)).setdefault("messages", message_counts()))
        for tally in counts:
            _count(tally, status, error, int(count))
    return total


def _count(tally: dict[str, Any], status: str, error: str, count: int) -> None:
    tally["queued"] += count
    if status == "suppressed":
        tally["suppressed"] += count
        by_reason = tally["suppressed_by_reason"]
        kind = suppression_reason(error)
        by_reason[kind] = by_reason.get(kind, 0) + count
    elif status in WAITING:
        tally["waiting"] += count
    elif status in ("sent", "failed", "held"):
        tally[status] += count
