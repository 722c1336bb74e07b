"""The journey editor's "goes to" choices: every arm of a branching step and every linear step's
``next`` is a select of the journey's steps (in words), read back into the same draft; targets
the definition refuses are left for its validator to report on the step."""

from __future__ import annotations

from typing import Any

from lealta.automations import editing
from lealta.automations.catalog import load_template
from lealta.automations.definition import dump, load_definition
from lealta.console.journey_edit_page import (
    edit_context,
    outline,
    read_form,
    route_fields,
    step_choices,
)

DASH = "\N{EN DASH}"


def _journey(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"id": "j", "name": "J", "trigger": {"type": "manual"}, "steps": list(steps)}


FORK = _journey(
    {
        "id": "vip",
        "type": "if",
        "condition": {"kind": "tag", "tag": "vip"},
        "then": "gift",
        "else": "plain",
    },
    {"id": "gift", "type": "voucher", "kind": "percent", "value": 20, "valid_days": 7},
    {"id": "plain", "type": "send", "channel": "email", "template": "plain", "next": "end"},
    {
        "id": "ab",
        "type": "split",
        "branches": [
            {"name": "A", "percent": 50, "next": "pause"},
            {"name": "B", "percent": 50, "next": "end"},
        ],
    },
    {
        "id": "await",
        "type": "wait_for_event",
        "event": "Order Completed",
        "timeout": "3d",
        "on_event": "end",
        "on_timeout": "pause",
    },
    {"id": "pause", "type": "wait", "duration": "5d"},
    {"id": "end", "type": "exit", "reason": "done"},
)


def _step(document: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in document["steps"] if s["id"] == step_id)


def _routes(document: dict[str, Any], step_id: str) -> list[dict[str, Any]]:
    main, rest = outline(document)
    choices = step_choices(main) + step_choices(rest)
    return route_fields(document, _step(document, step_id), choices)


def test_choices_are_every_step_in_words_in_the_order_the_outline_shows_them() -> None:
    main, rest = outline(FORK)
    choices = step_choices(main) + step_choices(rest)
    order = ["vip", "gift", "plain", "end", "ab", "pause", "await"]
    assert [value for value, _ in choices] == order
    assert dict(choices)["pause"] == f"pause {DASH} Wait 5 days"
    assert dict(choices)["end"] == f"end {DASH} Exit (done)"


def test_an_if_has_a_yes_and_a_no_choice_of_any_step() -> None:
    yes, no = _routes(FORK, "vip")
    assert (yes["name"], yes["label"], yes["value"]) == ("s.vip.then", "Yes goes to", "gift")
    assert (no["name"], no["label"], no["value"]) == ("s.vip.else", "No goes to", "plain")
    assert yes["kind"] == "select"
    # a branch must lead to a step: no empty choice, and the step itself is said to loop
    assert no["options"][0][0] == "vip"
    assert dict(no["options"])["vip"].endswith("(this step again)")
    assert "" not in dict(no["options"])


def test_a_split_and_a_wait_for_event_label_each_way() -> None:
    a, b = _routes(FORK, "ab")
    assert (a["name"], a["label"], a["value"]) == ("s.ab.b0.next", "Branch A goes to", "pause")
    assert (b["name"], b["label"], b["value"]) == ("s.ab.b1.next", "Branch B goes to", "end")
    happens, timeout = _routes(FORK, "await")
    assert (happens["name"], happens["value"]) == ("s.await.on_event", "end")
    assert (timeout["name"], timeout["value"]) == ("s.await.on_timeout", "pause")
    assert happens["label"] == "When the event happens, goes to"
    assert timeout["label"] == "When the wait times out, goes to"


def test_a_linear_step_may_carry_on_to_the_following_step_or_end_after_the_last() -> None:
    (then,) = _routes(FORK, "gift")
    assert (then["name"], then["label"], then["value"]) == ("s.gift.next", "Then goes to", "")
    carry_on = f"Carry on to the next step (plain {DASH} Send email “plain”)"
    assert then["options"][0] == ("", carry_on)
    (pinned,) = _routes(FORK, "plain")
    assert pinned["value"] == "end"
    carry_on = f"Carry on to the next step (ab {DASH} Split A 50% / B 50%)"
    assert pinned["options"][0] == ("", carry_on)
    last = _journey(
        {"id": "hello", "type": "send", "channel": "email", "template": "hi", "next": "hello"}
    )
    (only,) = _routes(last, "hello")
    assert only["options"][0] == ("", "End the run here")


def test_an_exit_has_no_choice() -> None:
    assert _routes(FORK, "end") == []


def test_a_target_that_is_not_a_step_is_shown_as_it_is() -> None:
    document = editing.set_step(FORK, "vip", {"else": "gone"})
    _, no = _routes(document, "vip")
    assert no["value"] == "gone"
    assert no["options"][0] == ("gone", "gone (not a step of this journey)")


def test_the_form_repoints_arms_branches_and_next_in_the_draft() -> None:
    form = {
        "s.vip.then": "pause",
        "s.vip.else": "",  # left empty: the arm keeps its target
        "s.ab.b1.name": "C",  # renamed in the same post: its way is read by position
        "s.ab.b1.next": "gift",
        "s.await.on_timeout": "end",
        "s.gift.next": "end",
        "s.plain.next": "",
    }
    document = read_form(FORK, form)
    assert (_step(document, "vip")["then"], _step(document, "vip")["else"]) == ("pause", "plain")
    assert _step(document, "ab")["branches"][1] == {"name": "C", "percent": 50, "next": "gift"}
    assert _step(document, "await")["on_timeout"] == "end"
    assert _step(document, "gift")["next"] == "end"
    assert _step(document, "plain")["next"] is None
    assert _step(FORK, "plain")["next"] == "end"  # the draft given is not changed
    rules = load_definition(document)
    assert rules.successors("plain") == {"next": "ab"}
    assert rules.successors("ab") == {"split:A": "pause", "split:C": "gift"}


def test_a_step_without_its_choice_in_the_form_keeps_its_way() -> None:
    document = read_form(FORK, {})
    ways = ("then", "else", "next", "branches", "on_event", "on_timeout")
    for step, before in zip(document["steps"], FORK["steps"], strict=True):
        assert {k: step.get(k) for k in ways} == {k: before.get(k) for k in ways}


def test_a_loop_is_accepted_as_the_definition_accepts_it() -> None:
    document = read_form(FORK, {"s.pause.next": "vip"})
    assert editing.problems(document) == []


def test_an_unknown_target_is_the_validators_problem_on_that_step() -> None:
    document = read_form(FORK, {"s.vip.else": "gone"})
    found = editing.problems(document)
    assert [(p.place, p.message) for p in found] == [("vip", "else refers to unknown step 'gone'")]
    context = edit_context(document, templates=[], found=found)
    node = context["outline"][0]
    assert [route["describedby"] for route in node["view"]["routes"]] == ["problems-vip"] * 2
    gift = node["arms"][0]["nodes"][0]
    assert "describedby" not in gift["view"]["routes"][0]


def test_the_shipped_reactivation_journey_offers_its_steps() -> None:
    document = dump(load_template("inactive-reactivation"))
    context = edit_context(document, templates=[])
    interacted = next(n for n in context["outline"] if n["id"] == "interacted")
    yes, no = interacted["view"]["routes"]
    assert (yes["label"], yes["value"], no["label"], no["value"]) == (
        "Yes goes to",
        "partially-active",
        "No goes to",
        "last-chance",
    )
    assert ("window", f"window {DASH} Wait 5 days") in no["options"]
    assert len(no["options"]) == len(document["steps"])
