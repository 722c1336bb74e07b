"""Reading runs: a workflow's runs page by page, and the runs of one person.

Pages are newest first, ordered by ``(entered_at, id)`` and cut with a keyset cursor (as
contact searches are), so a page never repeats or skips a run while new ones start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from lealta.automations.tables import Run, Workflow
from lealta.errors import InvalidInput
from lealta.storage.paging import decode_cursor, encode_cursor

STATUSES = ("active", "waiting", "done", "goal", "exited")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def list_(
    session: Session,
    workflow_id: str,
    *,
    contact_id: str | None = None,
    status: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> tuple[list[Run], str | None]:
    """One page of ``workflow_id``'s runs, newest first, and the next page's cursor (None at
    the end); optionally only one contact's, or only those in one status."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(
            f"unknown status {status!r}; choose from {', '.join(STATUSES)}", field="status"
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    query = select(Run).where(Run.workflow_id == workflow_id)
    if contact_id is not None:
        query = query.where(Run.contact_id == contact_id)
    if status is not None:
        query = query.where(Run.status == status)
    if cursor:
        before, before_id = decode_cursor(cursor)
        query = query.where(
            or_(Run.entered_at < before, and_(Run.entered_at == before, Run.id < before_id))
        )
    rows = list(
        session.scalars(query.order_by(Run.entered_at.desc(), Run.id.desc()).limit(limit + 1))
    )
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    return page, encode_cursor(page[-1].entered_at, page[-1].id)


def of_contacts(
    session: Session, contact_ids: Sequence[str], *, limit: int = 20
) -> list[tuple[Run, str | None]]:
    """The newest ``limit`` runs of these contacts (a person and the profiles merged into
    it), each with its workflow's name."""
    found = session.execute(
        select(Run, Workflow.name)
        .outerjoin(Workflow, Workflow.id == Run.workflow_id)
        .where(Run.contact_id.in_(contact_ids))
        .order_by(Run.entered_at.desc(), Run.id.desc())
        .limit(limit)
    )
    return [(run, name) for run, name in found]


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
