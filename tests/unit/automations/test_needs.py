from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from lealta.automations import engine
from lealta.automations.definition import WorkflowDefinition
from lealta.automations.needs import first_waits, needs
from lealta.conditions import ContactView
from lealta.conditions.reads import PARTS, condition_needs
from tests.unit.automations.factories import T0, contact, event, workflow

SEND = {"type": "send", "channel": "email", "template": "hello"}
WAIT = {"id": "pause", "type": "wait", "duration": "1d"}


def _branch(condition: dict[str, Any]) -> dict[str, Any]:
    return {"id": "check", "type": "if", "condition": condition, "then": "yes", "else": "no"}


def _win_back(condition: dict[str, Any], **fields: Any) -> WorkflowDefinition:
    return workflow(
        WAIT,
        _branch(condition),
        {**SEND, "id": "yes", "next": "no"},
        {**SEND, "id": "no"},
        **fields,
    )


def test_a_run_entering_a_wait_reads_nothing_and_resuming_it_reads_the_branch() -> None:
    rules = _win_back({"kind": "tag", "tag": "vip"})
    assert needs(rules, None, waiting=False) == frozenset()
    assert needs(rules, "pause", waiting=True) == {"tags"}


def test_nested_conditions_need_every_part_they_test() -> None:
    condition = {
        "kind": "any",
        "conditions": [
            {"kind": "score", "gte": 10},
            {"kind": "not", "condition": {"kind": "segment", "in": ["At Risk"]}},
            {"kind": "all", "conditions": [{"kind": "list", "list": "news"}]},
            {"kind": "attribute", "name": "country", "op": "equals", "value": "ES"},
        ],
    }
    assert needs(_win_back(condition), "pause", waiting=True) == {"score", "rfm", "lists"}


def test_the_goal_is_read_on_every_call() -> None:
    rules = _win_back(
        {"kind": "tag", "tag": "vip"}, goal={"condition": {"kind": "purchased_since_entered"}}
    )
    assert needs(rules, None, waiting=False) == {"events"}
    assert needs(rules, "pause", waiting=True) == {"events", "tags"}


def test_resuming_a_wait_for_event_reads_events_and_both_ways_on() -> None:
    rules = workflow(
        {
            "id": "opened",
            "type": "wait_for_event",
            "event": "Email Opened",
            "timeout": "2d",
            "on_event": "engaged",
            "on_timeout": "cold",
        },
        {**_branch({"kind": "consent", "channel": "sms"}), "id": "engaged"},
        {**_branch({"kind": "cluster", "in": ["big spenders"]}), "id": "cold"},
        {**SEND, "id": "yes", "next": "no"},
        {**SEND, "id": "no"},
    )
    assert needs(rules, None, waiting=False) == frozenset()
    assert needs(rules, "opened", waiting=True) == {"events", "consent", "rfm"}
    assert first_waits(rules) == [("opened", None)]


def test_first_waits_are_the_waits_a_new_run_can_stop_at() -> None:
    rules = workflow(
        _branch({"kind": "tag", "tag": "vip"}),
        {"id": "yes", "type": "wait", "duration": "2h", "next": "done"},
        {"id": "no", "type": "wait", "duration": "3d"},
        {"id": "done", "type": "exit"},
    )
    assert sorted(first_waits(rules)) == [("no", timedelta(days=3)), ("yes", timedelta(hours=2))]


def test_an_unknown_condition_kind_needs_everything() -> None:
    class Strange:
        pass

    assert condition_needs(Strange()) == PARTS


def test_orders_rfm_scores_and_audiences_are_loaded_only_for_their_kinds() -> None:
    from lealta.conditions import parse

    assert condition_needs(parse({"kind": "bought", "category": "shoes"})) == {"orders"}
    assert condition_needs(parse({"kind": "rfm", "r": {"gte": 4}})) == {"rfm"}
    assert condition_needs(parse({"kind": "audience", "audience": "Readers"})) == {"audiences"}


def _without(view: ContactView, kept: frozenset[str]) -> ContactView:
    """The view with every part not in ``kept`` emptied, as the runner would load it."""
    return replace(
        view,
        tags=view.tags if "tags" in kept else frozenset(),
        lists=view.lists if "lists" in kept else {},
        score=view.score if "score" in kept else 0.0,
        segment=view.segment if "rfm" in kept else None,
        cluster=view.cluster if "rfm" in kept else None,
        consent=view.consent if "consent" in kept else {},
        events=view.events if "events" in kept else (),
    )


@pytest.mark.parametrize(
    "who",
    [
        contact(tags=frozenset({"vip"})),
        contact(score=12.0, segment="At Risk"),
        contact(lists={"news": "subscribed"}, events=(event("Order Completed", T0),)),
        contact(),
    ],
)
def test_the_engine_decides_alike_with_only_the_needed_parts(who: ContactView) -> None:
    condition = {
        "kind": "any",
        "conditions": [
            {"kind": "tag", "tag": "vip"},
            {"kind": "all", "conditions": [{"kind": "score", "gte": 10}]},
            {"kind": "segment", "in": ["Champions"]},
            {"kind": "list", "list": "news"},
        ],
    }
    rules = _win_back(condition)
    started = engine.start(rules, run_id="r1", contact=who, now=T0)
    assert started.state.step_id == "pause"
    later = T0 + timedelta(days=1)
    full = engine.advance(rules, started.state, contact=who, now=later)
    kept = needs(rules, "pause", waiting=True)
    partial = engine.advance(rules, started.state, contact=_without(who, kept), now=later)
    assert partial == full


def test_event_names_are_those_the_workflow_can_test_in_any_case() -> None:
    from lealta.automations.catalog import load_template
    from lealta.automations.needs import event_names

    names = event_names(load_template("inactive-reactivation"))
    # the history branch counts orders, the goal is a purchase, the follow-up reads clicks
    assert names == {"order completed", "email clicked"}
