"""Editing a definition without YAML: each operation keeps where runs go, refuses what would
make the journey invalid (saying why), and validation errors land on their step."""

from __future__ import annotations

from typing import Any

import pytest

from lealta.automations import editing
from lealta.automations.catalog import load_template
from lealta.automations.definition import WorkflowDefinition, dump, load_definition
from lealta.automations.editing import EditRefused, Problem


def _journey(*steps: dict[str, Any], goal: dict[str, Any] | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": "j",
        "name": "J",
        "trigger": {"type": "manual"},
        "steps": list(steps),
    }
    if goal is not None:
        document["goal"] = goal
    return document


def _routes(document: dict[str, Any]) -> dict[str, dict[str, str | None]]:
    """Where a run goes after each step, as the engine reads it."""
    rules = load_definition(document)
    return {step.id: rules.successors(step.id) for step in rules.steps}


def _ids(document: dict[str, Any]) -> list[str]:
    return [step["id"] for step in document["steps"]]


LINE = _journey(
    {"id": "hello", "type": "send", "channel": "email", "template": "welcome"},
    {"id": "pause", "type": "wait", "duration": "3d"},
    {"id": "bye", "type": "send", "channel": "email", "template": "bye"},
)
FORK = _journey(
    {
        "id": "vip",
        "type": "if",
        "condition": {"kind": "tag", "tag": "vip"},
        "then": "gift",
        "else": "plain",
    },
    {
        "id": "gift",
        "type": "voucher",
        "kind": "percent",
        "value": 20,
        "valid_days": 7,
        "next": "after",
    },
    {"id": "plain", "type": "send", "channel": "email", "template": "plain"},
    {"id": "after", "type": "wait", "duration": "1d"},
    {"id": "done", "type": "exit"},
)


def test_inserting_after_a_step_puts_the_new_one_between_it_and_where_it_went() -> None:
    document, new = editing.insert_step(LINE, "wait", after="hello")
    assert new == "wait-1"
    routes = _routes(document)
    assert routes["hello"] == {"next": "wait-1"}
    assert routes["wait-1"] == {"next": "pause"}
    assert _ids(LINE) == ["hello", "pause", "bye"]  # the original is untouched


def test_inserting_after_a_step_with_an_explicit_next_keeps_its_target() -> None:
    document, new = editing.insert_step(FORK, "tag", after="gift", settings={"add": ["vip"]})
    routes = _routes(document)
    assert routes["gift"] == {"next": new}
    assert routes[new] == {"next": "after"}
    assert routes["plain"] == {"next": "after"}  # the step that followed in order is unmoved


def test_inserting_at_the_end_and_at_the_start() -> None:
    document, last = editing.insert_step(LINE, "tag", after="bye")
    assert _routes(document)["bye"] == {"next": last}
    assert _routes(document)[last] == {"next": None}
    document, first = editing.insert_step(LINE, "wait")
    assert load_definition(document).first_step == first
    assert _routes(document)[first] == {"next": "hello"}


def test_inserting_into_a_branch_only_changes_that_branch() -> None:
    document, new = editing.insert_step(
        FORK, "send", branch=("vip", "else"), settings={"template": "nudge"}
    )
    routes = _routes(document)
    assert routes["vip"] == {"branch:then": "gift", "branch:else": new}
    assert routes[new] == {"next": "plain"}
    assert routes["gift"] == {"next": "after"}


def test_inserting_into_a_branch_pins_the_step_that_ran_on_into_its_target() -> None:
    document, new = editing.insert_step(FORK, "wait", branch=("vip", "then"))
    # "vip" stood just before "gift": the new step goes between them, routes unchanged
    routes = _routes(document)
    assert routes["vip"]["branch:then"] == new
    assert routes[new] == {"next": "gift"}
    assert routes["gift"] == {"next": "after"}
    assert routes["plain"] == {"next": "after"}


def test_a_branching_step_inserted_where_runs_ended_gets_an_exit() -> None:
    document, new = editing.insert_step(LINE, "if", after="bye")
    routes = _routes(document)
    assert routes["bye"] == {"next": new}
    target = routes[new]["branch:then"]
    assert target == routes[new]["branch:else"]
    assert document["steps"][_ids(document).index(str(target))]["type"] == "exit"


def test_a_branching_step_inserted_mid_way_leads_both_ways_to_what_followed() -> None:
    document, new = editing.insert_step(LINE, "split", after="hello")
    assert _routes(document)[new] == {"split:A": "pause", "split:B": "pause"}


def test_inserting_after_a_branching_step_is_refused_with_the_reason() -> None:
    with pytest.raises(EditRefused, match="start of one of its branches"):
        editing.insert_step(FORK, "wait", after="vip")


def test_deleting_a_step_reconnects_what_led_to_it() -> None:
    document = editing.delete_step(LINE, "pause")
    assert _routes(document)["hello"] == {"next": "bye"}
    document = editing.delete_step(FORK, "gift")
    assert _routes(document)["vip"] == {"branch:then": "after", "branch:else": "plain"}


def test_deleting_a_step_pins_a_predecessor_that_ran_on_into_it() -> None:
    document = editing.delete_step(FORK, "after")  # "plain" ran on into it; "gift" named it
    routes = _routes(document)
    assert routes["plain"] == {"next": "done"}
    assert routes["gift"] == {"next": "done"}


def test_deleting_the_goals_step_moves_the_goal_on() -> None:
    document = dict(LINE, goal={"condition": {"kind": "purchased_since_entered"}, "step": "pause"})
    assert editing.delete_step(document, "pause")["goal"]["step"] == "bye"


def test_deleting_a_branching_step_keeps_the_branch_asked_for() -> None:
    with pytest.raises(EditRefused, match="say which branch to keep"):
        editing.delete_step(FORK, "vip")
    document = editing.delete_step(FORK, "vip", keep="else")
    assert load_definition(document).first_step == "plain"
    assert editing.reachable(document) == {"plain", "after", "done"}  # "gift" is left unreached


def test_deleting_the_only_target_of_a_branch_with_nothing_after_is_refused() -> None:
    ends = _journey(
        {
            "id": "vip",
            "type": "if",
            "condition": {"kind": "tag", "tag": "vip"},
            "then": "end",
            "else": "end2",
        },
        {"id": "end", "type": "exit"},
        {"id": "end2", "type": "exit"},
    )
    with pytest.raises(EditRefused, match="a branch must lead to a step"):
        editing.delete_step(ends, "end")


def test_deleting_an_exit_that_a_step_runs_into_is_refused_when_another_would_follow() -> None:
    with pytest.raises(EditRefused, match="instead of ending"):
        editing.delete_step(
            _journey(
                {"id": "a", "type": "wait", "duration": "1d"},
                {"id": "stop", "type": "exit"},
                {"id": "b", "type": "wait", "duration": "1d"},
            ),
            "stop",
        )


def test_the_last_step_cannot_be_deleted() -> None:
    with pytest.raises(EditRefused, match="at least one step"):
        editing.delete_step(_journey({"id": "a", "type": "wait", "duration": "1d"}), "a")


def test_branches_of_a_split_are_added_and_removed() -> None:
    document, split = editing.insert_step(LINE, "split", after="hello")
    document = editing.add_branch(document, split, "C", 0, "bye")
    document = editing.set_step(
        document,
        split,
        {
            "branches": [
                {"name": "A", "percent": 40, "next": "pause"},
                {"name": "B", "percent": 40, "next": "pause"},
                {"name": "C", "percent": 20, "next": "bye"},
            ]
        },
    )
    assert _routes(document)[split] == {"split:A": "pause", "split:B": "pause", "split:C": "bye"}
    document = editing.remove_branch(document, split, "C")
    assert [b["name"] for b in document["steps"][1]["branches"]] == ["A", "B"]
    with pytest.raises(EditRefused, match="two branches or more"):
        editing.remove_branch(document, split, "B")


def test_trigger_entry_and_goal_are_replaced() -> None:
    document = editing.set_part(LINE, "trigger", {"type": "tag_added", "tag": "lead"})
    document = editing.set_part(document, "entry", {"reenter": "never"})
    document = editing.set_part(
        document, "goal", {"condition": {"kind": "purchased_since_entered"}}
    )
    rules = load_definition(document)
    assert rules.trigger.type == "tag_added"
    assert rules.entry.reenter == "never"
    assert rules.goal is not None
    assert "goal" not in editing.set_part(document, "goal", None)


def test_a_valid_definition_has_no_problems() -> None:
    assert editing.problems(dump(load_template("inactive-reactivation"))) == []


def test_errors_land_on_the_step_and_setting_they_concern() -> None:
    document = dump(load_template("inactive-reactivation"))
    document = editing.set_step(document, "window", {"duration": "soon"})
    document = editing.set_step(document, "feedback-voucher", {"value": "lots", "valid_days": 0})
    document = editing.set_part(document, "trigger", {"type": "event", "event": ""})
    found = editing.problems(document)
    assert Problem("trigger", "event", "must not be empty") in found
    assert Problem("feedback-voucher", "value", "must be a number") in found
    assert Problem("feedback-voucher", "valid_days", "must be 1 or more") in found
    window = [p for p in found if p.place == "window"]
    assert window
    assert window[0].field == "duration"
    assert "invalid duration 'soon'" in window[0].message


def test_whole_step_and_graph_errors_name_their_step_in_words() -> None:
    document, split = editing.insert_step(LINE, "split", after="hello")
    document = editing.set_step(
        document,
        split,
        {
            "branches": [
                {"name": "A", "percent": 50, "next": "pause"},
                {"name": "B", "percent": 40, "next": "pause"},
            ]
        },
    )
    assert editing.problems(document) == [
        Problem(split, None, "split percentages add up to 90, not 100")
    ]
    broken = editing.set_step(FORK, "vip", {"then": "nowhere"})
    assert editing.problems(broken) == [
        Problem("vip", None, "then refers to unknown step 'nowhere'")
    ]


def test_condition_errors_name_the_condition_setting() -> None:
    document = editing.set_step(
        FORK,
        "vip",
        {"condition": {"kind": "event_count", "event": "Order Completed", "within_days": 0}},
    )
    assert editing.problems(document) == [
        Problem("vip", "condition.within_days", "must be 1 or more")
    ]

    nested = {"kind": "loyalty_tier", "at_least": "Gold", "in": ["Gold"]}
    loyal = editing.set_step(FORK, "vip", {"condition": {"kind": "all", "conditions": [nested]}})
    assert editing.problems(loyal) == [
        Problem(
            "vip", "condition.conditions.0", "loyalty_tier condition: give at_least or in, not both"
        )
    ]


def test_compact_keeps_kinds_and_drops_defaults() -> None:
    rules = WorkflowDefinition.model_validate(FORK)
    shown = editing.compact(rules)
    assert shown["steps"][0] == {
        "id": "vip",
        "type": "if",
        "condition": {"kind": "tag", "tag": "vip"},
        "then": "gift",
        "else": "plain",
    }
    assert "entry" not in shown
    assert load_definition(shown) == rules
