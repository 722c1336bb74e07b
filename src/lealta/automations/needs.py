"""What the engine may read of a contact when it takes a run one call further. Pure.

The runner loads contact views for a whole batch, one query per kind of data. Most calls
look at little of it: a run entering a ``wait`` reads nothing of the contact, a branch on a
tag reads the tags. :func:`needs` walks the steps one engine call can enter from where the
run stands (up to the next ``wait`` or ``wait_for_event``, whose durations are always
positive) and names the parts their conditions test, so the runner skips the queries nobody
in the batch needs.

The parts and what each condition kind needs are the condition language's
(:func:`lealta.conditions.reads.condition_needs` and
:func:`~lealta.conditions.reads.events_counted`). (The runner adds ``consent`` for runs under
way of workflows that exit on unsubscribing: it checks that before calling the engine.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lealta.automations.definition import (
    IfStep,
    WaitForEventStep,
    WaitStep,
    WorkflowDefinition,
)
from lealta.automations.durations import parse_duration
from lealta.conditions.reads import condition_needs, events_counted


def needs(rules: WorkflowDefinition, step_id: str | None, *, waiting: bool) -> frozenset[str]:
    """The parts one engine call may read for a run at ``step_id``.

    Parameters
    ----------
    rules
        The workflow version the run follows.
    step_id
        The run's step: the one it waits in (``waiting``), else the one it enters next (None:
        the first).
    waiting
        Whether the run waits in ``step_id`` (the call resumes it) rather than entering it.

    Returns
    -------
    frozenset[str]
        The parts: those of the goal's condition (tested on every call) and of every condition
        of a step the call may enter, ``events`` when it resumes a ``wait_for_event``.
    """
    found: set[str] = set()
    starts: list[str] = []
    if rules.goal is not None:
        found |= condition_needs(rules.goal.condition)
        if rules.goal.step is not None:
            starts.append(rules.goal.step)
    here = step_id or rules.first_step
    if waiting:
        if isinstance(rules.step(here), WaitForEventStep):
            found.add("events")
        starts += _successors(rules, here)
    else:
        starts.append(here)
    reached, _stops = _walk(rules, starts)
    for step in reached:
        if isinstance(step, IfStep):
            found |= condition_needs(step.condition)
    return frozenset(found)


def event_names(rules: WorkflowDefinition) -> frozenset[str] | None:
    """Every event name the workflow's conditions and event waits can test, lower-cased and
    case-folded (names match whatever their case); None when some condition may test any
    event. A simulation or a dry run loads only these of a long history."""
    names = {step.event for step in rules.steps if isinstance(step, WaitForEventStep)}
    conditions = [step.condition for step in rules.steps if isinstance(step, IfStep)]
    if rules.goal is not None:
        conditions.append(rules.goal.condition)
    for condition in conditions:
        counted = events_counted(condition)
        if counted is None:
            return None  # a kind the condition language does not know: it may read any event
        names |= counted
    return frozenset({name.lower() for name in names} | {name.casefold() for name in names})


def first_waits(rules: WorkflowDefinition) -> list[tuple[str, dt.timedelta | None]]:
    """The waits a new run's first call may stop at, each with its duration (None for a
    ``wait_for_event``, which a matching event may end at any time).

    A run taken later than it was enrolled is started as of its enrolment and then caught up
    to now (:func:`lealta.automations.engine.start`): the catching up resumes such a wait once
    its duration has passed, so what follows it may be read too.
    """
    starts = [rules.first_step]
    if rules.goal is not None and rules.goal.step is not None:
        starts.append(rules.goal.step)
    _reached, stops = _walk(rules, starts)
    return [
        (step.id, parse_duration(step.duration) if isinstance(step, WaitStep) else None)
        for step in stops
    ]


def _walk(rules: WorkflowDefinition, starts: list[str]) -> tuple[list[Any], list[Any]]:
    """The steps entered from ``starts`` on, and the waits among them where walking stops."""
    reached: list[Any] = []
    stops: list[Any] = []
    seen: set[str] = set()
    pending = list(starts)
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        step = rules.step(current)
        reached.append(step)
        if isinstance(step, WaitStep | WaitForEventStep):
            stops.append(step)  # entering it waits (durations are never zero): the call ends
            continue
        pending += _successors(rules, current)
    return reached, stops


def _successors(rules: WorkflowDefinition, step_id: str) -> list[str]:
    return [target for target in rules.successors(step_id).values() if target is not None]
