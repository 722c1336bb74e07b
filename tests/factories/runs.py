"""Workflows and runs written as the engine leaves them, for tests about what runs produced
(reports, exports) rather than about running them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from lealta.automations.tables import Run, Workflow, WorkflowVersion


def workflow(
    session: Session,
    workflow_id: str,
    *,
    name: str | None = None,
    status: str = "paused",
    definition: Mapping[str, Any] | None = None,
) -> Workflow:
    """Workflow ``workflow_id`` with version 1 holding ``definition``.

    Paused by default: an active workflow's definition is loaded by every processor batch,
    and a test's stand-in definition is not a valid one.
    """
    row = Workflow(id=workflow_id, name=name or workflow_id, status=status)
    session.add(row)
    session.flush()
    session.add(
        WorkflowVersion(workflow_id=workflow_id, version=1, definition=dict(definition or {}))
    )
    session.flush()
    return row


def run(
    session: Session,
    workflow_id: str,
    contact_id: str,
    *,
    at: dt.datetime,
    run_id: str | None = None,
    status: str = "waiting",
    step_id: str | None = None,
    entry_key: str | None = None,
) -> Run:
    """A run of version 1 of ``workflow_id`` for ``contact_id``, entered ``at``."""
    identifier = run_id or f"run-{contact_id}-{workflow_id}"
    row = Run(
        id=identifier,
        workflow_id=workflow_id,
        version=1,
        contact_id=contact_id,
        entry_key=entry_key or identifier,
        status=status,
        step_id=step_id,
        entered_at=at,
    )
    session.add(row)
    session.flush()
    return row
