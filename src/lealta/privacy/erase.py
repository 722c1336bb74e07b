"""Erasing a person (right to erasure), in the caller's one transaction.

Every package that keeps rows about a person says what erasure does with them, and why, in
its ``person_data`` module (:mod:`lealta.persons.registry`); this walks them all over the
person's profiles (the contact and those merged into it). In short:

* **Deleted**: identifiers (so the e-mail or phone can start a new contact), tags, list and
  audience memberships, RFM row, next-best suggestions, predicted value, score ledger,
  loyalty tier with its history, tier by decision and points ledger, unused vouchers, push
  devices.
* **Anonymised, kept**: events keep only type, name, message id and times; stage changes lose
  their causing event; consent decisions lose their proof (channels still granted get a final
  ``denied``); messages lose their content, interactions their links; runs under way end.
* **Kept**: orders and redeemed vouchers, for revenue and bookkeeping. The contact row stays,
  emptied and marked ``erased_at``, so its id answers 410 Gone.
* **Recorded**: a ``Contact Erased`` event (message id ``erase:<contact id>``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from lealta.contacts.schemas import Erasure
from lealta.contacts.service import get_live, person_ids
from lealta.events.record import record_event
from lealta.persons.registry import registry

ERASED_EVENT = "Contact Erased"


def erase_contact(session: Session, contact_id: str, *, now: dt.datetime) -> Erasure:
    """Erase the person ``contact_id`` is (a merged id erases its survivor).

    Raises
    ------
    NotFound
        No such contact.
    ContactErased
        Already erased.
    """
    contact = get_live(session, contact_id)
    ids = person_ids(session, contact.id)
    counts: dict[str, int | None] = {}
    for entry in registry().rows:
        found = entry.erase(session, ids, now)
        if entry.reported_as is not None:
            counts[entry.reported_as] = found
    record_event(
        session,
        message_id=f"erase:{contact.id}",
        contact_id=contact.id,
        name=ERASED_EVENT,
        properties={"erased_at": now.isoformat()},
        context={"source": "lealta"},
        at=now,
    )
    session.flush()
    return Erasure.model_validate({"contact_id": contact.id, "erased_at": now, **counts})
