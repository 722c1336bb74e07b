"""The entry rules of a workflow applied to many contacts at once, with the reason for each
contact they keep out.

One enrolment (:func:`lealta.automations.service.may_enter`) reads a contact's runs, tags and
segment with a query each; a review or a sweep enrols hundreds of thousands of contacts, so
here the same rules are read with a few queries per chunk of contacts: the contacts still
there, their runs of the workflow counted (under way, in all, the last end), their
suppressing tags and their segment. The rules, in the order :func:`may_enter` checks them:

- ``contact gone``: no such contact, or erased, or merged into another;
- ``max_active``: the contact has ``max_active`` runs under way already;
- ``reenter never``: the contact has had a run (``reenter: never``);
- ``reenter_after_days``: the contact's last run ended fewer than that many days ago;
- ``suppress_tags``: the contact carries a suppressing tag;
- ``suppress_segments``: the contact is in a suppressing RFM segment.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.orm import Session

from lealta.automations.definition import EntryRules
from lealta.automations.service import LIVE
from lealta.automations.tables import Run
from lealta.automations.views import among
from lealta.contacts.tables import Contact, ContactTag
from lealta.segmentation.tables import ContactRfm

CHUNK = 5000
GONE = "contact gone"
MAX_ACTIVE = "max_active"
NEVER = "reenter never"
AFTER_DAYS = "reenter_after_days"
TAGS = "suppress_tags"
SEGMENTS = "suppress_segments"


@dataclass(frozen=True)
class History:
    """A contact's runs of one workflow: under way, in all, and when the last one ended."""

    live: int = 0
    total: int = 0
    last_end: dt.datetime | None = None


@dataclass
class Admission:
    """Who of the contacts asked for may start a run, and why the others may not."""

    admitted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # contact id → reason

    def reasons(self) -> dict[str, int]:
        """How many contacts were refused, per reason."""
        return dict(Counter(self.refused.values()))


def refusal(
    entry: EntryRules,
    history: History,
    *,
    tagged: bool,
    segment_suppressed: bool,
    now: dt.datetime,
) -> str | None:
    """Why the entry rules keep a (present) contact out, or None: the checks of ``may_enter``
    in its order."""
    if history.live >= entry.max_active:
        return MAX_ACTIVE
    if history.total and entry.reenter == "never":
        return NEVER
    if history.total and entry.reenter_after_days is not None and history.last_end is not None:
        ended = _aware(history.last_end)
        if now - ended < dt.timedelta(days=entry.reenter_after_days):
            return AFTER_DAYS
    if tagged:
        return TAGS
    if segment_suppressed:
        return SEGMENTS
    return None


def admit(
    session: Session,
    workflow_id: str,
    entry: EntryRules,
    contact_ids: Sequence[str],
    *,
    now: dt.datetime,
) -> Admission:
    """Apply ``entry`` to ``contact_ids`` (duplicates count once), a few queries per
    :data:`CHUNK` contacts; the admitted come back in the order asked."""
    wanted = list(dict.fromkeys(contact_ids))
    found = Admission()
    connection = session.connection()
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        present = set(
            session.scalars(
                select(Contact.id).where(
                    among(connection, Contact.id, part),
                    Contact.erased_at.is_(None),
                    Contact.merged_into.is_(None),
                )
            )
        )
        histories = _histories(session, workflow_id, part)
        tagged: set[str] = set()
        if entry.suppress_tags:
            tagged = set(
                session.scalars(
                    select(ContactTag.contact_id).where(
                        among(connection, ContactTag.contact_id, part),
                        ContactTag.tag.in_(entry.suppress_tags),
                    )
                )
            )
        suppressed: set[str] = set()
        if entry.suppress_segments:
            suppressed = set(
                session.scalars(
                    select(ContactRfm.contact_id).where(
                        among(connection, ContactRfm.contact_id, part),
                        ContactRfm.segment.in_(entry.suppress_segments),
                    )
                )
            )
        for contact_id in part:
            reason = (
                GONE
                if contact_id not in present
                else refusal(
                    entry,
                    histories.get(contact_id, History()),
                    tagged=contact_id in tagged,
                    segment_suppressed=contact_id in suppressed,
                    now=now,
                )
            )
            if reason is None:
                found.admitted.append(contact_id)
            else:
                found.refused[contact_id] = reason
    return found


def _histories(session: Session, workflow_id: str, ids: Sequence[str]) -> dict[str, History]:
    """The runs of ``workflow_id`` of the contacts ``ids`` counted, one grouped query."""
    live = func.sum(cast(case((Run.status.in_(LIVE), 1), else_=0), Integer))
    rows = session.execute(
        select(Run.contact_id, live, func.count(), func.max(Run.ended_at))
        .where(Run.workflow_id == workflow_id, among(session.connection(), Run.contact_id, ids))
        .group_by(Run.contact_id)
    )
    return {
        contact_id: History(int(under_way or 0), int(total), last_end)
        for contact_id, under_way, total, last_end in rows
    }


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
