"""The lifecycle engine: which stage an event or a quiet spell moves a contact to. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lealta.errors import InvalidInput
from lealta.lifecycle.rules import LifecycleModel
from lealta.scoring.rules import ScoringEvent


@dataclass(frozen=True, slots=True)
class Transition:
    """A move from stage ``from_`` to stage ``to``, made by rule ``rule_id``."""

    to: str
    from_: str
    rule_id: str


def _stage_of(model: LifecycleModel, current: str | None) -> str:
    stage = model.initial if current is None else current
    if not model.has_stage(stage):
        known = ", ".join(s.name for s in model.stages)
        raise InvalidInput(f"unknown stage {stage!r}; known: {known}", field="stage")
    return stage


def next_stage(
    model: LifecycleModel,
    current: str | None,
    event: ScoringEvent,
    facts: Mapping[str, Any] | None = None,
) -> Transition | None:
    """The move an event makes, if any.

    Rules are tried in order; the first that applies to the event and the facts, allows the
    current stage, and yields a move (to another stage; forward unless the rule is
    ``backward``) wins.

    Parameters
    ----------
    model
        The lifecycle model.
    current
        The contact's stage; None for a new contact, who is in ``model.initial``.
    event
        The event; identify traits are its ``properties``.
    facts
        What is known of the contact after the event, e.g. ``{"orders": 5}``.

    Returns
    -------
    Transition | None
        The move (``from_`` is the effective current stage), or None when nothing moves.

    Raises
    ------
    InvalidInput
        When ``current`` is not a stage of the model.
    """
    stage = _stage_of(model, current)
    known = facts if facts is not None else {}
    for rule in model.moving(event, stage):  # the rules that may move it, in order
        if rule.holds(event, known):
            return Transition(to=rule.to, from_=stage, rule_id=rule.id)
    return None


def due_inactivity(
    model: LifecycleModel,
    current: str | None,
    last_activity_at: datetime | None,
    now: datetime,
) -> Transition | None:
    """The move a sweep makes for a contact quiet since ``last_activity_at``, if any.

    Inactivity rules are tried in order; the first that allows the current stage, leads to
    another stage and is due (``now - last_activity_at >= after_days``) wins.

    Parameters
    ----------
    model
        The lifecycle model.
    current
        The contact's stage; None for a new contact, who is in ``model.initial``.
    last_activity_at
        The contact's last activity; None (never active) means nothing is due.
    now
        The time of the sweep.

    Returns
    -------
    Transition | None
        The move, or None when nothing is due.

    Raises
    ------
    InvalidInput
        When ``current`` is not a stage of the model.
    """
    stage = _stage_of(model, current)
    if last_activity_at is None:
        return None
    quiet = now - last_activity_at
    for rule in model.inactivity:
        if rule.from_stages and stage not in rule.from_stages:
            continue
        if rule.to != stage and quiet >= timedelta(days=rule.after_days):
            return Transition(to=rule.to, from_=stage, rule_id=rule.id)
    return None
