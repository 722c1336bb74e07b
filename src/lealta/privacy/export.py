"""Exporting everything Lealta holds on one person as one JSON document (access, portability).

The document covers the contact and every profile merged into it, one section per kind of
data, filled by the package that keeps it (:mod:`lealta.persons.registry`): the contact,
attributes, merged profiles, identifiers, tags, lists, consent history with its proof, events,
orders, stage and score history, the latest RFM row, next-best suggestions, predicted value,
audiences, loyalty tier with its history, tiers by decision and points ledger, workflow runs,
messages and vouchers. Times are ISO 8601 in UTC, amounts decimal strings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from lealta.contacts.service import get_live, person_ids
from lealta.persons.registry import registry
from lealta.persons.rows import plain

FORMAT = "lealta.contact-export/1"


def export_contact(session: Session, contact_id: str, *, now: dt.datetime) -> dict[str, Any]:
    """The export document of the person ``contact_id`` is (merged ids resolve to them).

    Raises
    ------
    NotFound
        No such contact.
    ContactErased
        The contact was erased: there is nothing left to export.
    """
    contact = get_live(session, contact_id)
    ids = person_ids(session, contact.id)
    document: dict[str, Any] = {"format": FORMAT, "exported_at": plain(now)}
    for name, export in registry().sections():
        document[name] = export(session, ids)
    return document
