"""When the programme's tiers were last reviewed: ``loyalty_programs.reviewed_at``.

A full tier review (:func:`lealta.loyalty.service.apply_program`: after an RFM run, the
worker's daily review, a console job or ``lealta loyalty apply``) sets it on the version it
applied, so "tiers last reviewed" is one column, whoever ran the review, instead of the
latest of the tier rows written (a review that changes nothing writes none) and the jobs'
marks (a review from the command line leaves none). Null: never reviewed.

The upgrade fills it in, for the version in force, from what told before: the latest
``contact_tiers.computed_at`` and the end of the worker's daily review or of a console review
job.

``ix_events_name`` (``events.name``) stays, though ``ix_events_name_time`` (lower(name),
occurred_at; 0023) covers the condition language: the segment-move matrix
(:mod:`lealta.segmentation.movements`) and the points sweeps
(:mod:`lealta.loyalty.points_sweeps`) look events up by their exact name over everyone,
which only this index serves.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 22:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the marks of lealta.loyalty.schedule (FULL_MARK) and the console's review jobs, as of 0024
BACKFILL = """
UPDATE loyalty_programs SET reviewed_at = (
    SELECT max(moment) FROM (
        SELECT max(computed_at) AS moment FROM contact_tiers
        UNION ALL
        SELECT max(finished_at) FROM jobs
        WHERE (id = 'loyalty-review-daily' OR kind = 'loyalty_tiers') AND status = 'done'
    ) AS known
)
WHERE version = (SELECT max(version) FROM loyalty_programs)
"""


def upgrade() -> None:
    with op.batch_alter_table("loyalty_programs") as batch_op:
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("loyalty_programs") as batch_op:
        batch_op.drop_column("reviewed_at")
