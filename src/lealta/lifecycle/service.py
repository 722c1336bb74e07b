"""Moving contacts between lifecycle stages: on events, and by the inactivity sweep.

Every move is written to ``stage_changes`` (from, to, rule, causing event, time) and is itself
an event (``Lifecycle Stage Changed``) that automations can react to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.contacts.tables import Contact
from lealta.events.tables import Event
from lealta.lifecycle.engine import Transition, due_inactivity, next_stage
from lealta.lifecycle.rules import LifecycleModel, StageRule
from lealta.lifecycle.tables import StageChange
from lealta.orders.tables import Order
from lealta.scoring.rules import ScoringEvent, conditions_hold
from lealta.storage.pending import PendingRows

STAGE_CHANGED = "Lifecycle Stage Changed"


class Staged(Protocol):
    """What moving a person reads and sets: a :class:`Contact`, or the processor's plain
    :class:`lealta.identity.profiles.Profile`."""

    id: str
    lifecycle_stage: str | None


def on_event(
    session: Session,
    contact: Staged,
    event: ScoringEvent,
    model: LifecycleModel,
    *,
    pending: PendingRows | None = None,
) -> Transition | None:
    """Move ``contact`` if ``event`` triggers a rule; returns the move made, if any.

    With ``pending``, the history row and the event are kept there for a bulk write."""
    named = model.named(event)
    if not named:  # no rule wants it (most events): only a first stage is due
        start(session, contact, model, at=event.occurred_at, pending=pending)
        return None
    current = contact.lifecycle_stage if _known(model, contact.lifecycle_stage) else None
    moving = model.moving(event, model.initial if current is None else current)
    if not moving:  # none may move this person (already there, or not from here)
        start(session, contact, model, at=event.occurred_at, pending=pending)
        return None
    facts = {"orders": _orders(session, contact)} if _needs_orders(moving, event) else {}
    transition = next_stage(model, current, event, facts)
    if transition is None:
        start(session, contact, model, at=event.occurred_at, pending=pending)
        return None
    move(session, contact, transition, cause=event.key, at=event.occurred_at, pending=pending)
    return transition


def move(
    session: Session,
    contact: Staged,
    transition: Transition,
    *,
    cause: str | None,
    at: dt.datetime,
    pending: PendingRows | None = None,
) -> None:
    """Record a move: the contact's stage, the history row and the event (kept in
    ``pending`` when given)."""
    previous = contact.lifecycle_stage
    contact.lifecycle_stage = transition.to
    change = {
        "contact_id": contact.id,
        "from_stage": previous,
        "to_stage": transition.to,
        "rule_id": transition.rule_id,
        "cause": cause,
        "changed_at": at,
    }
    event = {
        "message_id": f"stage:{contact.id}:{cause or at.isoformat()}:{transition.to}"[:128],
        "contact_id": contact.id,
        "type": "track",
        "name": STAGE_CHANGED,
        "properties": {"from": previous, "to": transition.to, "rule": transition.rule_id},
        "context": {"source": "lealta", "cause": cause},
        "occurred_at": at,
        "received_at": at,
    }
    if pending is None:
        session.add(StageChange(**change))
        session.add(Event(**event))
    else:
        pending.add(StageChange, change)
        pending.add(Event, event)


def start(
    session: Session,
    contact: Staged,
    model: LifecycleModel,
    *,
    at: dt.datetime,
    pending: PendingRows | None = None,
) -> None:
    """Put a contact created without interaction (API, import) in the initial stage."""
    if contact.lifecycle_stage is None:
        move(
            session,
            contact,
            Transition(to=model.initial, from_=model.initial, rule_id="created"),
            cause=None,
            at=at,
            pending=pending,
        )


def sweep_inactive(session: Session, model: LifecycleModel, *, now: dt.datetime) -> int:
    """Move every contact quiet for long enough (the model's inactivity rules); returns how many.

    One query finds the candidates (quiet for at least the shortest rule's days); the pure
    engine decides each one.
    """
    if not model.inactivity:
        return 0
    shortest = min(rule.after_days for rule in model.inactivity)
    candidates = session.scalars(
        select(Contact).where(
            Contact.merged_into.is_(None),
            Contact.erased_at.is_(None),
            Contact.last_seen_at < now - dt.timedelta(days=shortest),
        )
    )
    moved = 0
    for contact in candidates:
        current = contact.lifecycle_stage if _known(model, contact.lifecycle_stage) else None
        last = contact.last_seen_at
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=dt.UTC)
        transition = due_inactivity(model, current, last, now)
        if transition is not None:
            move(session, contact, transition, cause=None, at=now)
            moved += 1
    return moved


def _known(model: LifecycleModel, stage: str | None) -> bool:
    return stage is not None and model.has_stage(stage)


def _needs_orders(named: Sequence[StageRule], event: ScoringEvent) -> bool:
    return any(
        r.min_orders is not None and (not r.where or conditions_hold(r.where, event.properties))
        for r in named
    )


def _orders(session: Session, contact: Staged) -> int:
    session.flush()
    return int(
        session.scalar(
            select(func.count()).select_from(Order).where(Order.contact_id == contact.id)
        )
        or 0
    )
