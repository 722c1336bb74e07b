"""Erasing a person (right to erasure), in the caller's one transaction.

What goes, what stays and why:

* **Deleted**: identifiers (so the e-mail or phone can start a new contact), tags, list
  memberships, audience memberships (without an ``Audience Exited`` event), the
  ``contact_rfm`` row, the next-best suggestions (``contact_next_best``),
  the predicted value (``contact_predictions``),
  the score ledger, the loyalty tier with its history (reviews leave erased contacts out,
  so their kept orders earn no tier again), the tier given by decision (its reason may
  name the person) and the loyalty points ledger (the points sweep leaves erased contacts
  out too);
  attributes, stage, score and seen-times on the contact row are cleared. The contact row
  itself stays, marked ``erased_at``, so that its id answers 410 Gone and the rows below
  keep a valid owner.
* **Anonymised, kept**: events keep only type, name, message id and times (anonymous id,
  user id, properties and context are emptied), so event counts over time stay right. Stage
  changes keep from/to/rule/time (their causing event is dropped) for funnel reports.
* **Kept**: orders (amount, currency, dates, items, the shop's order id), because revenue
  totals and bookkeeping must not change when a customer leaves; with no identifiers left
  they no longer point to a person inside Lealta. Consent rows are kept without their proof
  details (IP address, user agent …): that a decision and its withdrawal happened, and when,
  is what the controller must be able to show. Channels still granted or pending get a
  final ``denied`` decision with source ``erasure``.
* **Recorded**: a ``Contact Erased`` event (message id ``erase:<contact id>``).

The person's merged-away profiles are erased with them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from lealta.affinity.tables import ContactNextBest
from lealta.audiences.tables import AudienceMember
from lealta.automations.tables import Run
from lealta.channels.tables import MessageInteraction, OutboxMessage, PushDevice
from lealta.contacts.consent import consents_in_force, record_consent
from lealta.contacts.schemas import Erasure
from lealta.contacts.service import get_live, person_ids
from lealta.contacts.tables import Consent, Contact, ContactTag, Identifier, ListMembership
from lealta.events.tables import Event
from lealta.lifecycle.tables import StageChange
from lealta.loyalty.tables import ContactTier, PointsEntry, TierChange, TierOverride
from lealta.orders.tables import Order
from lealta.prediction.tables import ContactPrediction
from lealta.scoring.tables import ScoreChange
from lealta.segmentation.tables import ContactRfm
from lealta.vouchers.tables import Voucher

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
    identifiers = _delete(session, Identifier, ids)
    tags = _delete(session, ContactTag, ids)
    memberships = _delete(session, ListMembership, ids)
    scores = _delete(session, ScoreChange, ids)
    _delete(session, ContactRfm, ids)
    _delete(session, ContactNextBest, ids)
    _delete(session, ContactPrediction, ids)
    _delete(session, AudienceMember, ids)
    _delete(session, ContactTier, ids)
    _delete(session, TierChange, ids)
    _delete(session, TierOverride, ids)
    _delete(session, PointsEntry, ids)
    events = _count(session, Event, ids)
    session.execute(
        update(Event)
        .where(Event.contact_id.in_(ids))
        .values(anonymous_id=None, user_id=None, properties={}, context={})
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(StageChange)
        .where(StageChange.contact_id.in_(ids))
        .values(cause=None)
        .execution_options(synchronize_session=False)
    )
    _withdraw_consent(session, ids, now=now)
    session.execute(
        update(Consent)
        .where(Consent.contact_id.in_(ids))
        .values(proof={})
        .execution_options(synchronize_session=False)
    )
    _stop_automations(session, ids, now=now)
    for row in session.scalars(select(Contact).where(Contact.id.in_(ids))):
        _clear(row, now)
    session.add(
        Event(
            message_id=f"erase:{contact.id}",
            contact_id=contact.id,
            type="track",
            name=ERASED_EVENT,
            properties={"erased_at": now.isoformat()},
            context={"source": "lealta"},
            occurred_at=now,
            received_at=now,
        )
    )
    session.flush()
    return Erasure(
        contact_id=contact.id,
        erased_at=now,
        contacts=len(ids),
        identifiers=identifiers,
        tags=tags,
        list_memberships=memberships,
        events_anonymised=events,
        orders_kept=_count(session, Order, ids),
        consents_kept=_count(session, Consent, ids),
        score_changes=scores,
    )


def _count(session: Session, table: Any, ids: list[str]) -> int:
    found = session.scalar(select(func.count()).select_from(table).where(table.contact_id.in_(ids)))
    return int(found or 0)


def _delete(session: Session, table: Any, ids: list[str]) -> int:
    count = _count(session, table, ids)
    session.execute(
        delete(table).where(table.contact_id.in_(ids)).execution_options(synchronize_session=False)
    )
    return count


def _stop_automations(session: Session, ids: list[str], *, now: dt.datetime) -> None:
    """Runs end (``exited``: erased), unsent messages are dropped with their content, unused
    vouchers and push devices are deleted; sent messages, redeemed vouchers and what people
    did with messages (opens, clicks) stay, emptied of content and links, for the record. An
    address on the suppression list stays there: forgetting it would let the next import mail
    someone who asked not to be."""
    session.execute(
        update(Run)
        .where(Run.contact_id.in_(ids), Run.status.in_(("active", "waiting")))
        .values(status="exited", exit_reason="erased", ended_at=now, wake_at=None, state={})
        .execution_options(synchronize_session=False)
    )
    session.execute(  # what triggered any run of theirs may name them (an order, a form)
        update(Run)
        .where(Run.contact_id.in_(ids))
        .values(trigger=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.contact_id.in_(ids),
            OutboxMessage.status.in_(("pending", "held", "claimed")),
        )
        .values(status="suppressed", error="contact erased")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.contact_id.in_(ids))
        .values(payload={})
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(Voucher)
        .where(Voucher.contact_id.in_(ids), Voucher.redeemed_at.is_(None))
        .execution_options(synchronize_session=False)
    )
    # devices reach the person; what they did with messages stays counted, without the links
    session.execute(
        delete(PushDevice)
        .where(PushDevice.contact_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(MessageInteraction)
        .where(MessageInteraction.contact_id.in_(ids))
        .values(url=None, details={})
        .execution_options(synchronize_session=False)
    )


def _withdraw_consent(session: Session, ids: list[str], *, now: dt.datetime) -> None:
    for contact_id in ids:
        for channel, row in consents_in_force(session, contact_id).items():
            if row.status != "denied":
                record_consent(session, contact_id, channel, "denied", source="erasure", at=now)


def _clear(contact: Contact, now: dt.datetime) -> None:
    contact.attributes = {}
    contact.lifecycle_stage = None
    contact.score = 0.0
    contact.score_state = {}
    contact.first_seen_at = None
    contact.last_seen_at = None
    contact.erased_at = now
    contact.updated_at = now
