"""The score ledger, for export, erasure and merges (see :mod:`lealta.persons.registry`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from lealta.contacts.tables import Contact
from lealta.persons.registry import PersonRows
from lealta.persons.rows import deleted, dropped, listed
from lealta.scoring.tables import ScoreChange


def _merge(session: Session, source_id: str, into_id: str, now: dt.datetime) -> None:
    dropped(ScoreChange)(session, source_id, into_id, now)
    source = session.get_one(Contact, source_id)
    source.score = 0.0
    source.score_state = {}


def _recompute(session: Session, into_id: str, now: dt.datetime) -> None:
    """The survivor's score, recomputed from the united history."""
    from lealta.rulesets.service import scoring_model
    from lealta.scoring.service import recompute_contact

    recompute_contact(session, session.get_one(Contact, into_id), scoring_model(session))


ROWS = (
    PersonRows(
        table=ScoreChange.__tablename__,
        erase=deleted(ScoreChange, counted=True),
        erased="deleted; the score on the contact row is cleared",
        merge=_merge,
        merged="the merged profile's are dropped and its score zeroed: the survivor's score "
        "is recomputed from the united history once the merge is recorded",
        sections=(
            (
                "score_history",
                listed(
                    ScoreChange,
                    ScoreChange.occurred_at,
                    ("rule_id", "points", "score_after", "event_key", "occurred_at"),
                ),
            ),
        ),
        reported_as="score_changes",
    ),
)
AFTER_MERGE = (_recompute,)
