from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from lealta.automations import engine
from lealta.automations.definition import WorkflowDefinition, load_definition
from lealta.automations.durations import as_date
from lealta.automations.engine import (
    AddScore,
    AddTags,
    CallWebhook,
    IssueVoucher,
    JoinLists,
    LeaveLists,
    RemoveTags,
    RunState,
    Send,
    SetAttribute,
    SetStage,
    StartWorkflow,
    StepLog,
    advance,
    exit_run,
    simulate,
    start,
)
from lealta.conditions import ContactView
from lealta.errors import InvalidInput
from tests.unit.automations.factories import T0, contact, event, workflow

SEND = {"type": "send", "channel": "email", "template": "welcome"}
HOUR = timedelta(hours=1)


def outcomes(log: list[StepLog]) -> list[tuple[str, str]]:
    return [(line.step_id, line.outcome) for line in log]


def test_a_run_takes_instant_steps_in_order_until_the_end() -> None:
    definition = workflow(
        {"id": "hello", **SEND, "data": {"subject": "Hi"}},
        {"id": "tags", "type": "tag", "add": ["new"], "remove": ["lead", "cold"]},
        {"id": "lists", "type": "list", "add": ["news"], "remove": ["offers"]},
        {"id": "points", "type": "score", "points": -2.5},
        {"id": "attr", "type": "set_attribute", "name": "source", "value": "flow"},
        {"id": "stage", "type": "stage", "to": "Lead"},
        {"id": "coupon", "type": "voucher", "kind": "percent", "value": 15, "valid_days": 7},
        {"id": "hook", "type": "webhook", "url": "https://crm.example/x", "body": {"a": 1}},
        {"id": "more", "type": "start_workflow", "workflow": "onboarding"},
    )
    outcome = start(definition, run_id="r1", contact=contact(), now=T0)
    assert outcome.commands == [
        Send("r1:hello:1", "hello", "email", "welcome", {"subject": "Hi"}),
        AddTags("r1:tags:1", "tags", ("new",)),
        RemoveTags("r1:tags:1:remove", "tags", ("lead", "cold")),
        JoinLists("r1:lists:1", "lists", ("news",)),
        LeaveLists("r1:lists:1:remove", "lists", ("offers",)),
        AddScore("r1:points:1", "points", -2.5),
        SetAttribute("r1:attr:1", "attr", "source", "flow"),
        SetStage("r1:stage:1", "stage", "Lead"),
        IssueVoucher("r1:coupon:1", "coupon", "percent", Decimal(15), None, 7, "voucher"),
        CallWebhook("r1:hook:1", "hook", "https://crm.example/x", "POST", {"a": 1}),
        StartWorkflow("r1:more:1", "more", "onboarding"),
    ]
    state = outcome.state
    assert (state.status, state.step_id, state.wake_at, state.exit_reason) == (
        "done",
        None,
        None,
        None,
    )
    assert outcomes(outcome.log)[:4] == [
        ("hello", "entered"),
        ("hello", "sent"),
        ("tags", "entered"),
        ("tags", "tagged"),
    ]
    assert [line.outcome for line in outcome.log if line.outcome != "entered"] == [
        "sent",
        "tagged",
        "listed",
        "scored",
        "attribute_set",
        "stage_set",
        "voucher",
        "webhook",
        "workflow_started",
    ]
    assert outcome.trail[2] == outcome.commands[0]
    assert state.entered_at == T0
    assert state.visits == {step.id: 1 for step in definition.steps}


def test_a_step_only_removing_tags_emits_one_command() -> None:
    definition = workflow({"id": "t", "type": "tag", "remove": ["cold"]})
    commands = start(definition, run_id="r", contact=contact(), now=T0).commands
    assert commands == [RemoveTags("r:t:1:remove", "t", ("cold",))]


def test_next_overrides_the_order_and_exit_ends_the_run() -> None:
    definition = workflow(
        {"id": "a", **SEND, "next": "c"},
        {"id": "b", **SEND, "template": "skipped"},
        {"id": "c", "type": "exit", "reason": "short-cut"},
        {"id": "d", **SEND},
    )
    outcome = start(definition, run_id="r", contact=contact(), now=T0)
    assert [command.step_id for command in outcome.commands] == ["a"]
    assert (outcome.state.status, outcome.state.step_id, outcome.state.exit_reason) == (
        "done",
        "c",
        "short-cut",
    )
    assert outcome.log[-1] == StepLog("c", "exit", {"reason": "short-cut"})


def test_a_wait_holds_the_run_until_its_time() -> None:
    definition = workflow({"id": "pause", "type": "wait", "duration": "3d"}, {"id": "s", **SEND})
    first = start(definition, run_id="r", contact=contact(), now=T0)
    assert first.state.status == "waiting"
    assert first.state.step_id == "pause"
    assert first.state.wake_at == T0 + timedelta(days=3)
    assert first.commands == []
    early = advance(definition, first.state, contact=contact(), now=T0 + timedelta(days=2))
    assert early.state == first.state
    assert (early.commands, early.log) == ([], [])
    late = advance(definition, first.state, contact=contact(), now=T0 + timedelta(days=4))
    assert [command.key for command in late.commands] == ["r:s:1"]
    assert outcomes(late.log) == [("pause", "waited"), ("s", "entered"), ("s", "sent")]
    assert late.state.status == "done"


def test_if_takes_then_or_else() -> None:
    definition = workflow(
        {"id": "vip", "type": "if", "condition": {"kind": "tag", "tag": "vip"}}
        | {"then": "gold", "else": "plain"},
        {"id": "gold", **SEND, "template": "gold", "next": "end"},
        {"id": "plain", **SEND, "template": "plain"},
        {"id": "end", "type": "exit"},
    )
    vip = start(definition, run_id="r", contact=contact(tags=frozenset({"vip"})), now=T0)
    other = start(definition, run_id="r", contact=contact(), now=T0)
    assert [c.template for c in vip.commands if isinstance(c, Send)] == ["gold"]
    assert [c.template for c in other.commands if isinstance(c, Send)] == ["plain"]
    assert ("vip", "branch:then") in outcomes(vip.log)
    assert ("vip", "branch:else") in outcomes(other.log)


def _split(percent_a: int) -> WorkflowDefinition:
    return workflow(
        {"id": "ab", "type": "split"}
        | {
            "branches": [
                {"name": "A", "percent": percent_a, "next": "a"},
                {"name": "B", "percent": 100 - percent_a, "next": "b"},
            ]
        },
        {"id": "a", **SEND, "template": "a"},
        {"id": "b", "type": "exit"},
    )


def test_a_split_is_deterministic_and_recorded() -> None:
    definition = _split(50)
    once = start(definition, run_id="run-7", contact=contact(), now=T0)
    again = start(definition, run_id="run-7", contact=contact(), now=T0 + timedelta(days=9))
    branch = once.state.data["splits"]["ab"]
    assert branch == again.state.data["splits"]["ab"]
    split_line = once.log[1]
    assert split_line.outcome == f"split:{branch}"
    assert split_line.detail["bucket"] == engine.split_bucket("run-7", "ab", 1)


def test_a_split_follows_its_percentages_over_many_runs() -> None:
    definition = _split(30)
    counts = Counter(
        start(definition, run_id=f"run-{n}", contact=contact(), now=T0).state.data["splits"]["ab"]
        for n in range(10_000)
    )
    assert abs(counts["A"] / 10_000 - 0.30) < 0.02
    assert abs(counts["B"] / 10_000 - 0.70) < 0.02


WAIT_FOR_CLICK = (
    {"id": "mail", **SEND},
    {"id": "click", "type": "wait_for_event", "event": "Email Clicked"}
    | {"where": [{"property": "template", "op": "equals", "value": "welcome"}]}
    | {"timeout": "2d", "on_event": "thanks", "on_timeout": "nudge"},
    {"id": "thanks", **SEND, "template": "thanks", "next": "end"},
    {"id": "nudge", **SEND, "template": "nudge"},
    {"id": "end", "type": "exit"},
)


def test_wait_for_event_goes_on_when_the_event_happens() -> None:
    definition = workflow(*WAIT_FOR_CLICK)
    waiting = start(definition, run_id="r", contact=contact(), now=T0).state
    assert waiting.wake_at == T0 + timedelta(days=2)
    other_click = contact(events=(event("Email Clicked", T0 + HOUR, template="other"),))
    still = advance(definition, waiting, contact=other_click, now=T0 + 2 * HOUR)
    assert still.state == waiting
    assert still.commands == []
    clicked = contact(
        events=(
            event("Email Clicked", T0 - HOUR, template="welcome"),  # before the wait: ignored
            event("Email Clicked", T0 + 3 * HOUR, template="welcome"),
        )
    )
    went_on = advance(definition, waiting, contact=clicked, now=T0 + 4 * HOUR)
    assert [c.template for c in went_on.commands if isinstance(c, Send)] == ["thanks"]
    assert went_on.log[0].outcome == "event"
    assert "wait_started" not in went_on.state.data


def test_wait_for_event_times_out_and_late_events_do_not_count() -> None:
    definition = workflow(*WAIT_FOR_CLICK)
    waiting = start(definition, run_id="r", contact=contact(), now=T0).state
    too_late = contact(events=(event("Email Clicked", T0 + timedelta(days=3), template="welcome"),))
    timed_out = advance(definition, waiting, contact=too_late, now=T0 + timedelta(days=4))
    assert [c.template for c in timed_out.commands if isinstance(c, Send)] == ["nudge"]
    assert outcomes(timed_out.log)[0] == ("click", "timeout")


def test_the_goal_ends_the_run() -> None:
    goal = {"condition": {"kind": "purchased_since_entered"}}
    definition = workflow(
        {"id": "pause", "type": "wait", "duration": "1d"}, {"id": "s", **SEND}, goal=goal
    )
    waiting = start(definition, run_id="r", contact=contact(), now=T0).state
    bought = contact(events=(event("Order Completed", T0 + HOUR),))
    outcome = advance(definition, waiting, contact=bought, now=T0 + 2 * HOUR)
    assert outcome.state.status == "goal"
    assert outcome.state.step_id == "pause"
    assert outcome.commands == []
    assert outcomes(outcome.log) == [("pause", "goal")]


def test_the_goal_can_jump_to_a_step_once() -> None:
    goal = {"condition": {"kind": "tag", "tag": "customer"}, "step": "thanks"}
    definition = workflow(
        {"id": "pause", "type": "wait", "duration": "1d"},
        {"id": "nudge", **SEND, "template": "nudge", "next": "pause"},
        {"id": "thanks", **SEND, "template": "thanks"},
        {"id": "later", "type": "wait", "duration": "1d"},
        {"id": "bye", **SEND, "template": "bye"},
        goal=goal,
    )
    waiting = start(definition, run_id="r", contact=contact(), now=T0).state
    customer = contact(tags=frozenset({"customer"}))
    jumped = advance(definition, waiting, contact=customer, now=T0 + HOUR)
    assert outcomes(jumped.log)[:2] == [("pause", "goal"), ("thanks", "entered")]
    assert [c.template for c in jumped.commands if isinstance(c, Send)] == ["thanks"]
    assert jumped.state.data["goal_reached"] is True
    # The goal still holds a day later, but the run goes on instead of jumping again.
    on = advance(definition, jumped.state, contact=customer, now=T0 + timedelta(days=2))
    assert [c.template for c in on.commands if isinstance(c, Send)] == ["bye"]
    assert on.state.status == "done"


def test_a_loop_without_a_wait_is_stopped() -> None:
    definition = workflow({"id": "a", **SEND, "next": "b"}, {"id": "b", **SEND, "next": "a"})
    outcome = start(definition, run_id="r", contact=contact(), now=T0)
    assert outcome.state.status == "exited"
    assert outcome.state.exit_reason == "loop"
    assert len(outcome.commands) == engine.MAX_STEPS_PER_CALL
    assert len({command.key for command in outcome.commands}) == engine.MAX_STEPS_PER_CALL
    assert outcome.state.visits == {"a": 50, "b": 50}


def test_a_loop_with_a_wait_keeps_counting_visits() -> None:
    definition = workflow(
        {"id": "nag", **SEND}, {"id": "pause", "type": "wait", "duration": "1d", "next": "nag"}
    )
    state = start(definition, run_id="r", contact=contact(), now=T0).state
    keys = []
    for day in range(1, 4):
        outcome = advance(definition, state, contact=contact(), now=T0 + timedelta(days=day))
        keys += [command.key for command in outcome.commands]
        state = outcome.state
    assert keys == ["r:nag:2", "r:nag:3", "r:nag:4"]


def test_advancing_twice_at_the_same_time_repeats_nothing() -> None:
    definition = workflow(*WAIT_FOR_CLICK)
    first = start(definition, run_id="r", contact=contact(), now=T0)
    again = advance(definition, first.state, contact=contact(), now=T0)
    assert (again.commands, again.log, again.state) == ([], [], first.state)
    later = T0 + timedelta(days=3)
    replayed = [advance(definition, first.state, contact=contact(), now=later) for _ in range(2)]
    assert replayed[0] == replayed[1]  # a replay after a crash decides the same, same keys
    settled = advance(definition, replayed[0].state, contact=contact(), now=later)
    assert settled.commands == []


def test_exit_run_ends_a_run_once() -> None:
    definition = workflow({"id": "pause", "type": "wait", "duration": "1d"}, {"id": "s", **SEND})
    waiting = start(definition, run_id="r", contact=contact(), now=T0).state
    exited = exit_run(waiting, "unsubscribed", T0 + HOUR)
    assert (exited.status, exited.exit_reason, exited.wake_at) == ("exited", "unsubscribed", None)
    assert exited.data["ended_at"] == (T0 + HOUR).isoformat()
    assert exit_run(exited, "erased", T0 + 2 * HOUR) == exited
    later = advance(definition, exited, contact=contact(), now=T0 + timedelta(days=5))
    assert (later.state, later.commands, later.log) == (exited, [], [])


def test_run_state_round_trips_through_json() -> None:
    definition = _split(50)
    state = start(definition, run_id="r", contact=contact(), now=T0).state
    waiting = start(workflow(*WAIT_FOR_CLICK), run_id="r", contact=contact(), now=T0).state
    for original in (state, waiting):
        text = json.dumps(original.to_dict())
        assert RunState.from_dict(json.loads(text)) == original


def test_a_bad_run_state_is_refused() -> None:
    good = start(_split(50), run_id="r", contact=contact(), now=T0).state.to_dict()
    with pytest.raises(InvalidInput, match="status"):
        RunState.from_dict({**good, "status": "sleeping"})
    with pytest.raises(InvalidInput, match="surprise"):
        RunState.from_dict({**good, "surprise": 1})


def test_naive_times_are_refused() -> None:
    definition = workflow({"id": "s", **SEND})
    with pytest.raises(InvalidInput, match="timezone-aware"):
        start(definition, run_id="r", contact=contact(), now=datetime(2025, 1, 1))


def _wait_until(zone: str, **step: Any) -> WorkflowDefinition:
    return workflow(
        {"id": "until", "type": "wait_until", **step}, {"id": "s", **SEND}, timezone=zone
    )


def _wake(definition: WorkflowDefinition, now: datetime, who: ContactView | None = None) -> Any:
    return start(definition, run_id="r", contact=who or contact(), now=now).state.wake_at


def test_wait_until_keeps_local_time_across_dst_in_madrid() -> None:
    nine = _wait_until("Europe/Madrid", time="09:00")
    # Saturday 29 March 2025, 11:00 CET; the clocks go forward that night.
    assert _wake(nine, datetime(2025, 3, 29, 10, 0, tzinfo=UTC)) == datetime(
        2025, 3, 30, 7, 0, tzinfo=UTC
    )
    # Saturday 25 October 2025, 11:00 CEST; the clocks go back that night.
    assert _wake(nine, datetime(2025, 10, 25, 9, 0, tzinfo=UTC)) == datetime(
        2025, 10, 26, 8, 0, tzinfo=UTC
    )


def test_wait_until_a_weekday_uses_the_contacts_zone_over_the_workflows() -> None:
    monday_morning = _wait_until("UTC", time="08:00", weekday=["mon"])
    friday = datetime(2025, 3, 7, 12, 0, tzinfo=UTC)
    assert _wake(monday_morning, friday) == datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    in_madrid = contact(attributes={"timezone": "Europe/Madrid"})
    assert _wake(monday_morning, friday, in_madrid) == datetime(2025, 3, 10, 7, 0, tzinfo=UTC)
    explicit = contact(timezone="America/New_York", attributes={"timezone": "Europe/Madrid"})
    assert _wake(monday_morning, friday, explicit) == datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    unknown = contact(timezone="Nowhere/Special")
    assert _wake(monday_morning, friday, unknown) == datetime(2025, 3, 10, 8, 0, tzinfo=UTC)


def test_wait_until_a_birthday_in_tokyo() -> None:
    birthday = _wait_until("UTC", date_attribute="birthday", time="09:00")
    who = contact(timezone="Asia/Tokyo", attributes={"birthday": "1990-07-15"})
    # 14 July 23:30 UTC is already 15 July 08:30 in Tokyo: the greeting is due at 09:00 JST.
    assert _wake(birthday, datetime(2025, 7, 14, 23, 30, tzinfo=UTC), who) == datetime(
        2025, 7, 15, 0, 0, tzinfo=UTC
    )
    # After it, the next birthday is a year away.
    assert _wake(birthday, datetime(2025, 7, 15, 1, 0, tzinfo=UTC), who) == datetime(
        2026, 7, 15, 0, 0, tzinfo=UTC
    )
    early = _wait_until("UTC", date_attribute="birthday", time="09:00", days_before=3)
    assert _wake(early, datetime(2025, 7, 1, tzinfo=UTC), who) == datetime(
        2025, 7, 12, 0, 0, tzinfo=UTC
    )


def test_wait_until_a_missing_date_exits_the_run() -> None:
    birthday = _wait_until("UTC", date_attribute="birthday", time="09:00")
    for who in (contact(), contact(attributes={"birthday": "someday"})):
        outcome = start(birthday, run_id="r", contact=who, now=T0)
        assert (outcome.state.status, outcome.state.exit_reason) == (
            "exited",
            "missing_date:birthday",
        )
        assert outcome.commands == []


def test_wait_until_a_wanted_day_without_a_time_goes_on_at_once() -> None:
    monday = _wait_until("UTC", weekday=["mon"])
    outcome = start(monday, run_id="r", contact=contact(), now=T0)  # T0 is a Monday
    assert outcomes(outcome.log)[:3] == [
        ("until", "entered"),
        ("until", "waited"),
        ("s", "entered"),
    ]
    assert outcome.state.status == "done"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1990-07-15", (7, 15)),
        ("1990-07-15T10:00:00Z", (7, 15)),
        ("--02-29", (2, 29)),
        (datetime(1990, 7, 15, tzinfo=UTC), (7, 15)),
        ("15/07/1990", None),
        (19900715, None),
    ],
)
def test_date_attributes_are_read_leniently(value: Any, expected: Any) -> None:
    found = as_date(value)
    assert (None if found is None else (found.month, found.day)) == expected


ABANDONED_CART = """
id: abandoned-cart
name: Abandoned cart
trigger: {type: event, event: Checkout Started}
goal: {condition: {kind: purchased_since_entered}}
steps:
  - {id: wait-1h, type: wait, duration: 1h}
  - {id: reminder, type: send, channel: email, template: cart-reminder}
  - {id: wait-1d, type: wait, duration: 1d}
  - id: opened
    type: if
    condition: {kind: message, template: cart-reminder, action: opened}
    then: coupon
    else: last-call
  - {id: coupon, type: voucher, kind: percent, value: 10, valid_days: 7}
  - {id: coupon-mail, type: send, channel: email, template: cart-coupon, next: end}
  - {id: last-call, type: send, channel: sms, template: cart-last-call}
  - {id: end, type: exit}
"""


def test_simulate_an_abandoned_cart_over_three_days() -> None:
    definition = load_definition(ABANDONED_CART)
    opened = event("Email Opened", T0 + 5 * HOUR, template="cart-reminder")
    timeline = simulate(definition, contact(), start=T0, days=3, events=[opened])
    commands = [(at, item) for at, item in timeline if not isinstance(item, StepLog)]
    assert [(at - T0, type(item).__name__) for at, item in commands] == [
        (HOUR, "Send"),
        (timedelta(hours=25), "IssueVoucher"),
        (timedelta(hours=25), "Send"),
    ]
    assert timeline[-1] == (T0 + timedelta(hours=25), StepLog("end", "exit", {"reason": "done"}))


def test_simulate_stops_at_the_goal() -> None:
    definition = load_definition(ABANDONED_CART)
    bought = event("Order Completed", T0 + timedelta(minutes=30))
    timeline = simulate(definition, contact(), start=T0, days=3, events=[bought])
    assert [item for _, item in timeline if not isinstance(item, StepLog)] == []
    assert timeline[-1] == (T0 + timedelta(minutes=30), StepLog("wait-1h", "goal", {"step": None}))


def test_simulate_without_events_takes_the_else_branch_and_stops_at_the_horizon() -> None:
    definition = load_definition(ABANDONED_CART)
    timeline = simulate(definition, contact(), start=T0, days=1, step_hours=6)
    assert [item.outcome for _, item in timeline if isinstance(item, StepLog)][-1] == "waiting"
    full = simulate(definition, contact(), start=T0, days=3, step_hours=6)
    sms = [item for _, item in full if isinstance(item, Send) and item.channel == "sms"]
    assert [message.template for message in sms] == ["cart-last-call"]
    with pytest.raises(InvalidInput):
        simulate(definition, contact(), start=T0, days=1, step_hours=0)


def test_a_run_waiting_at_a_step_that_is_not_a_wait_is_refused() -> None:
    definition = workflow({"id": "s", **SEND})
    bad = RunState("r", "s", "waiting", T0, T0)
    with pytest.raises(InvalidInput, match="waits at"):
        advance(definition, bad, contact=contact(), now=T0 + HOUR)
    with pytest.raises(InvalidInput, match="no step 'gone'"):
        advance(definition, replace(bad, step_id="gone"), contact=contact(), now=T0)


def test_a_run_started_late_counts_its_first_wait_from_enrolment() -> None:
    definition = workflow(
        {"id": "pause", "type": "wait", "duration": "1h"},
        {"id": "s", **SEND},
        {"id": "again", "type": "wait", "duration": "1d"},
        {"id": "t", **SEND, "template": "second"},
    )
    late = T0 + 2 * HOUR
    outcome = start(definition, run_id="r", contact=contact(), now=late, entered_at=T0)
    assert [command.key for command in outcome.commands] == ["r:s:1"]
    assert outcome.state.entered_at == T0
    assert outcome.state.wake_at == late + timedelta(days=1)
    assert outcomes(outcome.log)[:3] == [
        ("pause", "entered"),
        ("pause", "waiting"),
        ("pause", "waited"),
    ]
    with pytest.raises(InvalidInput, match="after now"):
        start(definition, run_id="r", contact=contact(), now=T0, entered_at=late)
