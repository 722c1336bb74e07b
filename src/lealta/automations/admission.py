"""The entry rules of a workflow applied to many contacts at once, with the reason for each
contact they keep out.

One enrolment (:func:`lealta.automations.service.may_enter`) reads a contact's runs, tags and
segment with a query each; a review or a sweep enrols hundreds of thousands of contacts, so
here each rule the workflow sets is read once, as the set of contacts it keeps out (see
:func:`admit`). The rules, in the order :func:`may_enter` checks them, each with the reason a
refused contact is counted under:

- ``contact gone``: no such contact, or erased, or merged into another;
- ``max_active``: the contact has ``max_active`` runs under way already;
- ``reenter never``: the contact has had a run (``reenter: never``);
- ``reenter_after_days``: a run of the contact ended fewer than that many days ago;
- ``suppress_tags``: the contact carries a suppressing tag;
- ``suppress_segments``: the contact is in a suppressing RFM segment.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lealta.automations.definition import EntryRules
from lealta.automations.service import LIVE
from lealta.automations.tables import Run
from lealta.contacts.tables import Contact, ContactTag
from lealta.segmentation.tables import ContactRfm
from lealta.storage.keyed import one_of

CHUNK = 5000
GONE = "contact gone"
MAX_ACTIVE = "max_active"
NEVER = "reenter never"
AFTER_DAYS = "reenter_after_days"
TAGS = "suppress_tags"
SEGMENTS = "suppress_segments"


@dataclass
class Admission:
    """Who of the contacts asked for may start a run, and why the others may not."""

    admitted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # contact id → reason

    def reasons(self) -> dict[str, int]:
        """How many contacts were refused, per reason."""
        return dict(Counter(self.refused.values()))


def admit(
    session: Session,
    workflow_id: str,
    entry: EntryRules,
    contact_ids: Sequence[str],
    *,
    now: dt.datetime,
) -> Admission:
    """Apply ``entry`` to ``contact_ids`` (duplicates count once); the admitted come back in
    the order asked.

    One query per rule the workflow sets, whatever the number of contacts: up to
    :data:`CHUNK` contacts the queries look those contacts up; beyond, each reads the few
    rows its rule is about over the whole store (the workflow's runs under way, its runs
    ended lately, the suppressing tags and segments, the erased and merged contacts), which
    costs less than looking up hundreds of thousands of contacts one index probe at a time.
    Then contacts that do not exist at all are not looked for: a sweep or a review enrols
    contacts it read from the store.
    """
    wanted = list(dict.fromkeys(contact_ids))
    found = Admission()
    if not wanted:
        return found
    connection = session.connection()
    few = len(wanted) <= CHUNK

    def scope(column: Any) -> list[Any]:
        return [one_of(connection, column, wanted)] if few else []

    sets = _Sets()
    if few:
        present = set(
            session.scalars(
                select(Contact.id).where(
                    *scope(Contact.id), Contact.erased_at.is_(None), Contact.merged_into.is_(None)
                )
            )
        )
        sets.gone = {cid for cid in wanted if cid not in present}
    else:
        sets.gone = set(
            session.scalars(
                select(Contact.id).where(
                    or_(Contact.erased_at.is_not(None), Contact.merged_into.is_not(None))
                )
            )
        )
    mine = [Run.workflow_id == workflow_id, *scope(Run.contact_id)]
    live = select(Run.contact_id).where(*mine, Run.status.in_(LIVE))
    if entry.max_active > 1:
        live = live.group_by(Run.contact_id).having(func.count() >= entry.max_active)
    sets.full = set(session.scalars(live.distinct()))
    if entry.reenter == "never":
        sets.had = set(session.scalars(select(Run.contact_id).where(*mine).distinct()))
    if entry.reenter_after_days is not None:
        cutoff = now - dt.timedelta(days=entry.reenter_after_days)
        sets.lately = set(
            session.scalars(select(Run.contact_id).where(*mine, Run.ended_at > cutoff).distinct())
        )
    if entry.suppress_tags:
        sets.tagged = set(
            session.scalars(
                select(ContactTag.contact_id).where(
                    *scope(ContactTag.contact_id), ContactTag.tag.in_(entry.suppress_tags)
                )
            )
        )
    if entry.suppress_segments:
        sets.segmented = set(
            session.scalars(
                select(ContactRfm.contact_id).where(
                    *scope(ContactRfm.contact_id), ContactRfm.segment.in_(entry.suppress_segments)
                )
            )
        )
    for contact_id in wanted:
        reason = sets.reason(contact_id)
        if reason is None:
            found.admitted.append(contact_id)
        else:
            found.refused[contact_id] = reason
    return found


@dataclass
class _Sets:
    """The contacts each entry rule keeps out, as read by :func:`admit`."""

    gone: set[str] = field(default_factory=set)
    full: set[str] = field(default_factory=set)  # max_active runs under way
    had: set[str] = field(default_factory=set)  # any run (only read for reenter: never)
    lately: set[str] = field(default_factory=set)  # a run ended within reenter_after_days
    tagged: set[str] = field(default_factory=set)
    segmented: set[str] = field(default_factory=set)

    def reason(self, contact_id: str) -> str | None:
        """The first rule, in :func:`may_enter`'s order, that keeps ``contact_id`` out."""
        for reason, kept in (
            (GONE, self.gone),
            (MAX_ACTIVE, self.full),
            (NEVER, self.had),
            (AFTER_DAYS, self.lately),
            (TAGS, self.tagged),
            (SEGMENTS, self.segmented),
        ):
            if contact_id in kept:
                return reason
        return None
