"""Stage history and the contact's stage, for export, erasure and merges (see
:mod:`lealta.persons.registry`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from lealta.contacts.tables import Contact
from lealta.lifecycle.rules import LifecycleModel
from lealta.lifecycle.tables import StageChange
from lealta.persons.registry import PersonRows
from lealta.persons.rows import emptied, listed, moved


def _merge(session: Session, source_id: str, into_id: str, now: dt.datetime) -> None:
    """The history moves; the survivor's stage is the later of the two in the lifecycle."""
    from lealta.rulesets.service import lifecycle_model

    moved(StageChange)(session, source_id, into_id, now)
    source, into = session.get_one(Contact, source_id), session.get_one(Contact, into_id)
    into.lifecycle_stage = later_stage(
        lifecycle_model(session), into.lifecycle_stage, source.lifecycle_stage
    )


def later_stage(model: LifecycleModel, first: str | None, second: str | None) -> str | None:
    """The later of two stages in ``model``'s order (stages it lacks count for nothing)."""
    known = [s for s in (first, second) if s is not None and model.has_stage(s)]
    if not known:
        return first or second
    return max(known, key=model.index)


ROWS = (
    PersonRows(
        table=StageChange.__tablename__,
        erase=emptied(StageChange, {"cause": None}),
        erased="kept with from/to/rule/time for funnel reports; their causing event is dropped",
        merge=_merge,
        merged="moved to the survivor, whose stage becomes the later of the two",
        sections=(
            (
                "stage_history",
                listed(
                    StageChange,
                    StageChange.changed_at,
                    ("from_stage", "to_stage", "rule_id", "cause", "changed_at"),
                ),
            ),
        ),
    ),
)
