"""Tables of automations: workflows, their versions, runs and the runs' step log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base, RowId, utcnow

# Queries for goal rows say ``outcome = 'goal'`` literally, so the partial index applies.
GOAL = text("outcome = 'goal'")


class Workflow(Base):
    """A workflow: its status and the version new runs start on."""

    __tablename__ = "workflows"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft, active, paused
    current_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WorkflowVersion(Base):
    """One immutable version of a workflow's definition (editing creates the next)."""

    __tablename__ = "workflow_versions"

    workflow_id: Mapped[str] = mapped_column(ForeignKey("workflows.id"), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Run(Base):
    """One contact's trip through one workflow version.

    ``id`` derives from (workflow, contact, entry key), so a trigger seen twice enrols once.
    ``status``: ``active`` (due now), ``waiting`` (until ``wake_at`` or a signal), ``done``
    (reached an exit), ``goal`` (reached the goal), ``exited`` (left early: unsubscribe,
    erasure, suppression, manual).
    """

    __tablename__ = "workflow_runs"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workflow_id", "version"],
            ["workflow_versions.workflow_id", "workflow_versions.version"],
        ),
        Index("ix_workflow_runs_due", "status", "wake_at"),
        Index("ix_workflow_runs_contact", "contact_id", "workflow_id"),
        # a workflow's runs, newest first (the runs API) and counted (statistics)
        Index("ix_workflow_runs_workflow", "workflow_id", "entered_at"),
        # who waits (or ended) at a step, newest first (a step's page, keyset-paged), and the
        # runs per step and status counted from the index alone (the diagram)
        Index("ix_workflow_runs_step", "workflow_id", "step_id", "status", "entered_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"))
    entry_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    step_id: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    wake_at: Mapped[dt.datetime | None]
    entered_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    # What started the run (an event's name, properties and time), for the messages it sends.
    trigger: Mapped[dict[str, Any] | None]
    exit_reason: Mapped[str | None] = mapped_column(String(100))


class RunStep(Base):
    """A step a run went through, with what it did (for statistics and the timeline)."""

    __tablename__ = "workflow_run_steps"
    __table_args__ = (
        Index("ix_workflow_run_steps_run", "run_id", "id"),
        # a workflow's step log counted per step and outcome from the index alone (the diagram)
        Index("ix_workflow_run_steps_counts", "workflow_id", "step_id", "outcome"),
        # the few runs that reached a goal, with when (conversions and their revenue)
        Index(
            "ix_workflow_run_steps_goal",
            "workflow_id",
            "run_id",
            "at",
            sqlite_where=GOAL,
            postgresql_where=GOAL,
        ),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("workflow_runs.id"))
    workflow_id: Mapped[str] = mapped_column(String(100))
    step_id: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
