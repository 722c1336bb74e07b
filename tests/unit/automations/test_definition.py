from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from lealta.automations.definition import (
    IfStep,
    SendStep,
    WorkflowDefinition,
    dump,
    json_schema,
    load_definition,
)
from lealta.errors import InvalidInput
from tests.unit.automations.factories import workflow

EVERYTHING = """
id: everything
name: Every kind of step
description: Exercises the whole schema.
timezone: Europe/Madrid
trigger:
  type: event
  event: Checkout Started
  where: [{property: total, op: gte, value: 20}]
entry:
  reenter: after_exit
  reenter_after_days: 30
  suppress_tags: [staff]
  require_consent: [email]
goal:
  condition: {kind: purchased_since_entered}
  step: thanks
steps:
  - {id: hello, type: send, channel: email, template: welcome, data: {subject: Hi}}
  - {id: pause, type: wait, duration: P1D}
  - {id: morning, type: wait_until, time: "09:00", weekday: [mon, tue, wed, thu, fri]}
  - id: clicked
    type: wait_for_event
    event: Email Clicked
    where: [{property: template, op: equals, value: welcome}]
    timeout: 3d
    on_event: vip-check
    on_timeout: ab
  - id: vip-check
    type: if
    condition:
      kind: any
      conditions:
        - {kind: tag, tag: vip}
        - {kind: not, condition: {kind: score, lte: 10}}
        - {kind: stage, in: [Customer]}
    then: tag
    else: ab
  - id: ab
    type: split
    branches:
      - {name: A, percent: 50, next: tag}
      - {name: B, percent: 50, next: lists}
  - {id: tag, type: tag, add: [engaged], remove: [cold]}
  - {id: lists, type: list, add: [newsletter]}
  - {id: points, type: score, points: 5}
  - {id: attr, type: set_attribute, name: last_campaign, value: spring}
  - {id: stage, type: stage, to: Lead}
  - {id: coupon, type: voucher, kind: amount, value: "5.50", currency: EUR, valid_days: 14}
  - {id: crm, type: webhook, url: "https://crm.example/hook", method: PUT, body: {a: 1}}
  - {id: other, type: start_workflow, workflow: onboarding}
  - {id: birthday, type: wait_until, date_attribute: birthday, time: "10:00", days_before: 2}
  - {id: done, type: exit, reason: finished}
  - {id: thanks, type: send, channel: sms, template: thanks}
"""


def test_a_definition_round_trips_through_yaml() -> None:
    definition = load_definition(EVERYTHING)
    text = yaml.safe_dump(dump(definition), sort_keys=False)
    assert load_definition(text) == definition
    assert dump(load_definition(text)) == dump(definition)


def test_a_definition_round_trips_through_json() -> None:
    definition = load_definition(EVERYTHING)
    assert load_definition(json.dumps(dump(definition))) == definition


def test_defaults_fill_in_and_aliases_are_kept() -> None:
    definition = load_definition(EVERYTHING)
    assert definition.entry.max_active == 1
    assert definition.exit_on == ["unsubscribed", "erased"]
    branch = definition.step("vip-check")
    assert isinstance(branch, IfStep)
    assert branch.else_ == "ab"
    assert dump(definition)["steps"][4]["else"] == "ab"
    assert dump(definition)["steps"][4]["condition"]["conditions"][2]["in"] == ["Customer"]


def test_steps_without_next_go_on_to_the_following_one() -> None:
    definition = load_definition(EVERYTHING)
    assert definition.first_step == "hello"
    assert definition.successors("hello") == {"next": "pause"}
    assert definition.successors("thanks") == {"next": None}
    assert definition.successors("vip-check") == {"branch:then": "tag", "branch:else": "ab"}
    assert definition.successors("ab") == {"split:A": "tag", "split:B": "lists"}
    assert definition.successors("clicked") == {"event": "vip-check", "timeout": "ab"}
    assert definition.successors("done") == {}


def test_python_callers_may_build_steps_without_naming_the_type() -> None:
    step = SendStep(id="hi", channel="email", template="welcome")
    definition = WorkflowDefinition(id="wf", name="W", trigger={"type": "manual"}, steps=[step])
    assert load_definition(dump(definition)) == definition


def _problem(**fields: Any) -> str:
    with pytest.raises(InvalidInput) as caught:
        workflow(*fields.pop("steps", [{"id": "a", "type": "exit"}]), **fields)
    return str(caught.value)


def test_an_unknown_step_reference_names_the_step() -> None:
    message = _problem(
        steps=[{"id": "hello", "type": "send", "channel": "email", "template": "t", "next": "zz"}]
    )
    assert "step 'hello': next refers to unknown step 'zz'" in message
    assert "workflow 'wf'" in message


@pytest.mark.parametrize(
    ("step", "label"),
    [
        (
            {"type": "if", "condition": {"kind": "tag", "tag": "x"}, "then": "a", "else": "b"},
            "else",
        ),
        (
            {"type": "wait_for_event", "event": "E", "timeout": "1d"}
            | {"on_event": "q", "on_timeout": "a"},
            "on_event",
        ),
        (
            {
                "type": "split",
                "branches": [
                    {"name": "A", "percent": 60, "next": "a"},
                    {"name": "B", "percent": 40, "next": "gone"},
                ],
            },
            "branch 'B'",
        ),
    ],
)
def test_every_kind_of_reference_is_checked(step: dict[str, Any], label: str) -> None:
    message = _problem(steps=[{"id": "a", **step}])
    assert f"step 'a': {label} refers to unknown step" in message


def test_the_goal_step_must_exist() -> None:
    goal = {"condition": {"kind": "purchased_since_entered"}, "step": "nowhere"}
    assert "goal refers to unknown step 'nowhere'" in _problem(goal=goal)


def test_step_ids_are_unique() -> None:
    message = _problem(steps=[{"id": "a", "type": "exit"}, {"id": "a", "type": "exit"}])
    assert "step id 'a' is used twice" in message


def test_a_bad_duration_names_the_step() -> None:
    message = _problem(steps=[{"id": "pause", "type": "wait", "duration": "3 days"}])
    assert "step 'pause'" in message
    assert "invalid duration '3 days'" in message


def test_split_percentages_must_add_up_to_100() -> None:
    branches = [
        {"name": "A", "percent": 50, "next": "a"},
        {"name": "B", "percent": 40, "next": "a"},
    ]
    message = _problem(steps=[{"id": "a", "type": "split", "branches": branches}])
    assert "step 'a': split percentages add up to 90, not 100" in message


def test_a_bad_cron_is_refused() -> None:
    message = _problem(trigger={"type": "schedule", "cron": "0 25 * * *"})
    assert "invalid cron '0 25 * * *'" in message
    assert "hour" in message


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"trigger": {"type": "sometimes"}}, "does not match any of the expected tags"),
        ({"steps": []}, "at least 1 item"),
        ({"id": "Not A Slug"}, "id"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"exit_on": ["bored"]}, "exit_on"),
        ({"surprise": 1}, "Extra inputs are not permitted"),
        (
            {"steps": [{"id": "s", "type": "send", "channel": "fax", "template": "t"}]},
            "step 's': channel",
        ),
        ({"steps": [{"id": "w", "type": "wait_until"}]}, "give time, weekday or date_attribute"),
        (
            {"steps": [{"id": "w", "type": "wait_until", "weekday": ["someday"]}]},
            "step 'w': weekday",
        ),
        (
            {"steps": [{"id": "v", "type": "voucher", "kind": "amount", "value": 5}]},
            "step 'v': valid_days",
        ),
        (
            {
                "steps": [
                    {"id": "v", "type": "voucher", "kind": "amount", "value": 5, "valid_days": 3}
                ]
            },
            "step 'v': an amount voucher needs a currency",
        ),
        (
            {"steps": [{"id": "h", "type": "webhook", "url": "ftp://example.com/x"}]},
            "http or https",
        ),
        (
            {
                "steps": [
                    {"id": "i", "type": "if", "then": "i", "else": "i"}
                    | {"condition": {"kind": "attribute", "name": "age", "op": "gt", "value": "x"}}
                ]
            },
            "gt needs a number",
        ),
        (
            {
                "steps": [
                    {"id": "i", "type": "if", "then": "i", "else": "i"}
                    | {"condition": {"kind": "score"}}
                ]
            },
            "give gte, lte or both",
        ),
        (
            {"trigger": {"type": "event", "event": "E", "where": [{"property": "x", "op": "??"}]}},
            "trigger",
        ),
        ({"trigger": {"type": "anniversary", "attribute": "birthday", "at": "9am"}}, "HH:MM"),
        (
            {"trigger": {"type": "count_in_window", "event": "E", "count": 0, "window_days": 7}},
            "count",
        ),
        ("not: [a, mapping", "not valid YAML"),
    ],
)
def test_invalid_definitions_are_explained(fields: Any, expected: str) -> None:
    if isinstance(fields, str):
        with pytest.raises(InvalidInput, match="not valid YAML"):
            load_definition(fields)
        return
    assert expected in _problem(**fields)


def test_the_json_schema_is_json_and_names_every_step_type() -> None:
    schema = json.loads(json.dumps(json_schema()))
    assert schema["title"] == "WorkflowDefinition"
    mapping = schema["properties"]["steps"]["items"]["discriminator"]["mapping"]
    assert set(mapping) == {
        "send",
        "wait",
        "wait_until",
        "wait_for_event",
        "if",
        "split",
        "tag",
        "list",
        "score",
        "set_attribute",
        "stage",
        "voucher",
        "webhook",
        "start_workflow",
        "exit",
    }
    assert "type" in schema["$defs"]["SendStep"]["required"]
    assert "kind" in schema["$defs"]["TagCondition"]["required"]
    assert "else" in schema["$defs"]["IfStep"]["properties"]
    triggers = schema["properties"]["trigger"]["discriminator"]["mapping"]
    assert {"event", "schedule", "anniversary", "manual", "inactivity"} <= set(triggers)
