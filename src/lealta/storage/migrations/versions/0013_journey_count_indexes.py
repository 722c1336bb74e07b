"""Indexes for the Journeys pages at a million runs: a step's runs by status and entry (who
waits there, keyset-paged; runs per step counted from the index), the step log per workflow,
step and outcome (replacing the index on the workflow alone), and the goal rows alone.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 08:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GOAL = sa.text("outcome = 'goal'")


def upgrade() -> None:
    op.create_index(
        "ix_workflow_runs_step",
        "workflow_runs",
        ["workflow_id", "step_id", "status", "entered_at", "id"],
    )
    op.drop_index("ix_workflow_run_steps_workflow_id", table_name="workflow_run_steps")
    op.create_index(
        "ix_workflow_run_steps_counts", "workflow_run_steps", ["workflow_id", "step_id", "outcome"]
    )
    op.create_index(
        "ix_workflow_run_steps_goal",
        "workflow_run_steps",
        ["workflow_id", "run_id", "at"],
        sqlite_where=GOAL,
        postgresql_where=GOAL,
    )


def downgrade() -> None:
    op.drop_index("ix_workflow_run_steps_goal", table_name="workflow_run_steps")
    op.drop_index("ix_workflow_run_steps_counts", table_name="workflow_run_steps")
    op.create_index("ix_workflow_run_steps_workflow_id", "workflow_run_steps", ["workflow_id"])
    op.drop_index("ix_workflow_runs_step", table_name="workflow_runs")
