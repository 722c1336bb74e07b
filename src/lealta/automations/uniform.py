"""Starting many runs in one go when how a run starts cannot depend on who enters. Pure.

A set-based enrolment (everyone who entered a segment, a scheduled audience) creates runs by
the hundred thousand. When a workflow opens with a ``wait`` (or a ``wait_for_event``, or
straight to an ``exit``), the engine's first call does the same for every run: it enters that
step and waits until ``now`` + the duration. Nothing of the contact is read and no command
is issued, so there is no need to call the engine once per person: :func:`uniform_start`
calls it once, for a probe, and the enrolment writes every run directly in the state the
engine gave the probe (its own id in place of the probe's), with the same step log.

Anything that could make one run's start differ from another's rules this out: a goal (its
condition reads the contact before the first step), a step that reads the contact (``if``,
``wait_until`` in the contact's time zone), a random split (seeded by the run's id), or an
action (its commands carry the run's idempotency keys). Such workflows start run by run in
the runner, as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lealta.automations import engine
from lealta.automations.definition import ExitStep, WaitForEventStep, WaitStep, WorkflowDefinition
from lealta.conditions import ContactView

PROBE = "uniform-start-probe"
# Steps whose start reads nothing of the contact or the run's id.
_UNIFORM = (WaitStep, WaitForEventStep, ExitStep)


@dataclass(frozen=True)
class Start:
    """How every run of a workflow starts at one moment: its state (less the run id), the
    columns of its row, and its step log."""

    state: Mapping[str, Any]
    status: str
    step_id: str | None
    wake_at: dt.datetime | None
    ended_at: dt.datetime | None
    exit_reason: str | None
    log: tuple[tuple[str, str, Mapping[str, Any]], ...]

    def state_of(self, run_id: str) -> dict[str, Any]:
        """The state document of the run ``run_id``."""
        return {**self.state, "run_id": run_id}


def uniform_start(definition: WorkflowDefinition, now: dt.datetime) -> Start | None:
    """How every run entering ``definition`` at ``now`` starts, or None when that may differ
    from one run to another (see the module docstring)."""
    if definition.goal is not None:
        return None
    if not isinstance(definition.step(definition.first_step), _UNIFORM):
        return None
    outcome = engine.start(definition, run_id=PROBE, contact=ContactView(id=PROBE), now=now)
    if outcome.commands:
        return None
    if any(not isinstance(definition.step(entry.step_id), _UNIFORM) for entry in outcome.log):
        return None
    state = outcome.state
    ended = state.ended
    document = state.to_dict()
    document.pop("run_id")
    return Start(
        state=document,
        status=state.status,
        step_id=state.step_id,
        wake_at=None if ended else state.wake_at,
        ended_at=now if ended else None,
        exit_reason=state.exit_reason if ended else None,
        log=tuple((entry.step_id, entry.outcome, dict(entry.detail)) for entry in outcome.log),
    )
