"""Keeping lead scores as events arrive, and recomputing them from the history.

The state of each contact's score (value as of its last scoring event, rule counters) lives in
``contacts.score_state``; ``contacts.score`` mirrors the value for filtering. Each change goes
to the ``score_changes`` ledger, and crossing a threshold upward records a ``Lead Score
Threshold Crossed`` event. An event older than the contact's last scored one triggers a
recomputation of that contact from the event history, so the stored numbers always equal a
full recomputation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lealta.contacts.tables import Contact
from lealta.events.tables import Event
from lealta.scoring import engine
from lealta.scoring.rules import ScoringEvent, ScoringModel
from lealta.scoring.tables import ScoreChange
from lealta.storage.pending import PendingRows

THRESHOLD_CROSSED = "Lead Score Threshold Crossed"
ADJUSTED = engine.ADJUSTED
# Events Lealta writes itself never score (a stage change is a consequence, not an action).
SYSTEM_EVENTS = frozenset(
    {THRESHOLD_CROSSED, "Lifecycle Stage Changed", "Profiles Merged", "Contact Erased"}
)


class Scored(Protocol):
    """What scoring reads and sets: a :class:`Contact`, or the processor's plain
    :class:`lealta.identity.profiles.Profile`."""

    id: str
    score: float
    score_state: dict[str, Any]


def state_of(contact: Scored) -> engine.ScoreState:
    """The contact's stored score state (empty for a new contact)."""
    return (
        engine.ScoreState.from_dict(contact.score_state)
        if contact.score_state
        else engine.ScoreState()
    )


def current_score(model: ScoringModel, contact: Scored, now: dt.datetime) -> float:
    """The contact's score now (decayed since the last scoring event)."""
    return engine.current_score(model, state_of(contact), now)


def needs_history(contact: Scored, event: ScoringEvent) -> bool:
    """Whether scoring ``event`` will refold the contact's stored history (it arrived late)."""
    return engine.needs_recompute(state_of(contact), event)


class Kept:
    """The score states of one batch's contacts, parsed once and written back once.

    The processor scores many events per transaction, often several of one person: instead of
    reading ``score_state`` from JSON and writing it back for every event, the state is parsed
    on the person's first scored event, kept here, and set on the profile by :meth:`write`
    (before anything reads profiles back). ``contacts.score`` follows every event.
    """

    def __init__(self) -> None:
        self._states: dict[str, engine.ScoreState] = {}
        self._changed: dict[str, Scored] = {}

    def state(self, contact: Scored) -> engine.ScoreState:
        """The contact's state as of its last event scored in this batch."""
        state = self._states.get(contact.id)
        if state is None:
            state = self._states[contact.id] = state_of(contact)
        return state

    def set(self, contact: Scored, state: engine.ScoreState) -> None:
        """The contact's new state (its score at once, the stored state at :meth:`write`)."""
        self._states[contact.id] = state
        self._changed[contact.id] = contact
        contact.score = state.score

    def write(self) -> None:
        """Set every changed state on its profile, and forget them all (the profiles may
        change by other ways after: a merge)."""
        for contact_id, contact in self._changed.items():
            contact.score_state = self._states[contact_id].to_dict()
        self._states.clear()
        self._changed.clear()


def on_event(
    session: Session,
    contact: Scored,
    event: ScoringEvent,
    model: ScoringModel,
    *,
    pending: PendingRows | None = None,
    kept: Kept | None = None,
) -> engine.Applied | None:
    """Score one new event of ``contact``; returns what changed (None when nothing did).

    With ``pending``, the ledger rows and threshold events of an event in order are kept there
    for a bulk write (a late event, which refolds the history, writes it first); with
    ``kept``, the contact's state is kept there between events (:class:`Kept`). An event that
    no rule wants and that adjusts nothing changes no score, early or late: the state is not
    even read."""
    if event.name in SYSTEM_EVENTS or not engine.can_score(model, event):
        return None
    state = kept.state(contact) if kept is not None else state_of(contact)
    if engine.needs_recompute(state, event):
        if pending is not None:
            pending.write(session)
        if kept is not None:
            kept.write()
        return recompute_contact(session, contact, model, extra=[event])
    applied = engine.apply(model, state, event)
    if applied.state is state:
        return None
    crossings = [(t, applied.changes[-1]) for t in applied.crossed]
    if kept is not None:
        kept.set(contact, applied.state)
    else:
        contact.score_state = applied.state.to_dict()
        contact.score = applied.state.score
    _store(session, contact, applied, crossings, pending=pending)
    return applied


def recompute_contact(
    session: Session,
    contact: Scored,
    model: ScoringModel,
    *,
    extra: Iterable[ScoringEvent] = (),
) -> engine.Applied:
    """Refold the contact's whole event history (plus ``extra`` not yet stored).

    The fold is :func:`lealta.scoring.engine.recompute`'s, step by step, so that each threshold
    crossing is tied to the event that caused it. Crossings already recorded stay as they are.
    """
    session.flush()
    rows = session.execute(
        select(Event.message_id, Event.occurred_at, Event.type, Event.name, Event.properties).where(
            Event.contact_id == contact.id
        )
    ).all()
    unique: dict[str, ScoringEvent] = {}
    for key, at, kind, name, properties in rows:
        if name not in SYSTEM_EVENTS:
            unique.setdefault(key, ScoringEvent(key, _aware(at), kind, name, properties or {}))
    for event in extra:
        unique.setdefault(event.key, event)
    state = engine.ScoreState()
    changes: list[engine.ScoreChange] = []
    crossed: list[float] = []
    crossings: list[tuple[float, engine.ScoreChange]] = []
    for event in sorted(unique.values(), key=lambda e: (e.occurred_at, e.key)):
        step = engine.apply(model, state, event)
        state = step.state
        changes.extend(step.changes)
        crossed.extend(step.crossed)
        crossings.extend((t, step.changes[-1]) for t in step.crossed)
    applied = engine.Applied(state=state, changes=changes, crossed=crossed)
    session.execute(delete(ScoreChange).where(ScoreChange.contact_id == contact.id))
    contact.score_state = state.to_dict()
    contact.score = state.score
    _store(session, contact, applied, crossings)
    return applied


def recompute_all(session: Session, model: ScoringModel) -> int:
    """Recompute every live contact (after the rules changed); returns how many."""
    contacts = session.scalars(
        select(Contact).where(Contact.merged_into.is_(None), Contact.erased_at.is_(None))
    ).all()
    for contact in contacts:
        recompute_contact(session, contact, model)
    return len(contacts)


def _store(
    session: Session,
    contact: Scored,
    applied: engine.Applied,
    crossings: list[tuple[float, engine.ScoreChange]],
    *,
    pending: PendingRows | None = None,
) -> None:
    """Write the ledger rows and threshold events of ``applied`` (kept in ``pending`` for a
    bulk write when given); a crossing already recorded is skipped when written."""
    rows = pending if pending is not None else PendingRows()
    for change in applied.changes:
        rows.add(ScoreChange, _change_row(contact.id, change))
    for threshold, change in crossings:
        rows.add(
            Event,
            _crossing_row(contact.id, threshold, change),
            skip_conflicts_on=("message_id",),
        )
    if pending is None:
        rows.write(session)


def _change_row(contact_id: str, change: engine.ScoreChange) -> dict[str, Any]:
    return {
        "contact_id": contact_id,
        "rule_id": change.rule_id,
        "points": change.points,
        "score_after": change.score_after,
        "event_key": change.key,
        "occurred_at": change.occurred_at,
    }


def _crossing_row(contact_id: str, threshold: float, change: engine.ScoreChange) -> dict[str, Any]:
    """The ``Lead Score Threshold Crossed`` event of ``change`` reaching ``threshold``."""
    return {
        "message_id": f"score:{contact_id}:{change.key}:{threshold:g}"[:128],
        "contact_id": contact_id,
        "type": "track",
        "name": THRESHOLD_CROSSED,
        "properties": {"threshold": threshold, "score": change.score_after},
        "context": {"source": "lealta", "cause": change.key},
        "occurred_at": change.occurred_at,
        "received_at": change.occurred_at,
    }


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
