from __future__ import annotations

from typing import Any

import pytest

from lealta.automations.engine import start
from lealta.automations.uniform import uniform_start
from tests.unit.automations.factories import T0, contact, event, workflow

SEND = {"type": "send", "channel": "email", "template": "welcome"}
WAIT = {"id": "pause", "type": "wait", "duration": "1d"}
PEOPLE = [
    contact(),
    contact(id="c2", tags=frozenset({"vip"}), score=40.0, timezone="Asia/Tokyo"),
    contact(id="c3", attributes={"birthday": "1990-03-03"}, segment="At Risk", stage="Lead"),
    contact(id="c4", events=(event("Order Completed", T0),)),
]

UNIFORM: dict[str, list[dict[str, Any]]] = {
    "wait": [WAIT, {"id": "s", **SEND}],
    "wait for an event": [
        {"id": "w", "type": "wait_for_event", "event": "Email Clicked", "timeout": "3d"}
        | {"on_event": "s", "on_timeout": "x"},
        {"id": "s", **SEND},
        {"id": "x", "type": "exit"},
    ],
    "exit": [{"id": "x", "type": "exit", "reason": "closed"}, {"id": "s", **SEND}],
}
NOT_UNIFORM: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    "a send first": ([{"id": "s", **SEND}], {}),
    "a branch first": (
        [
            {"id": "vip", "type": "if", "condition": {"kind": "tag", "tag": "vip"}}
            | {"then": "s", "else": "pause"},
            WAIT,
            {"id": "s", **SEND},
        ],
        {},
    ),
    "a split first": (
        [
            {"id": "ab", "type": "split"}
            | {
                "branches": [
                    {"name": "A", "percent": 50, "next": "pause"},
                    {"name": "B", "percent": 50, "next": "s"},
                ]
            },
            WAIT,
            {"id": "s", **SEND},
        ],
        {},
    ),
    "a local time first": (
        [{"id": "t", "type": "wait_until", "time": "09:00"}, {"id": "s", **SEND}],
        {},
    ),
    "a goal": ([WAIT, {"id": "s", **SEND}], {"goal": {"condition": {"kind": "tag", "tag": "x"}}}),
}


@pytest.mark.parametrize("name", sorted(UNIFORM))
def test_a_uniform_start_is_what_the_engine_does_for_everyone(name: str) -> None:
    definition = workflow(*UNIFORM[name])
    begun = uniform_start(definition, T0)
    assert begun is not None
    for person in PEOPLE:
        run_id = f"run-{person.id}"
        outcome = start(definition, run_id=run_id, contact=person, now=T0)
        assert outcome.commands == []
        assert begun.state_of(run_id) == outcome.state.to_dict()
        assert begun.status == outcome.state.status
        assert begun.step_id == outcome.state.step_id
        ended = outcome.state.ended
        assert begun.wake_at == (None if ended else outcome.state.wake_at)
        assert begun.log == tuple((e.step_id, e.outcome, dict(e.detail)) for e in outcome.log)


@pytest.mark.parametrize("name", sorted(NOT_UNIFORM))
def test_a_start_that_may_differ_is_left_to_the_runner(name: str) -> None:
    steps, fields = NOT_UNIFORM[name]
    assert uniform_start(workflow(*steps, **fields), T0) is None
