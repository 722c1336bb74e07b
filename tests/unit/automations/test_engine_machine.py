"""A Hypothesis state machine drives random runs through random workflows.

Random definitions use every kind of step, random waits and branches (loops included); time
jumps ahead and events happen in random order. Whatever happens, a run never repeats a
command key, never skips a step, never changes once over, stays put while waiting for a time
not yet come, and every call leaves it waiting or over.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from lealta.automations.definition import WorkflowDefinition, load_definition
from lealta.automations.engine import Outcome, RunState, advance, start
from lealta.conditions import ContactView, EventView
from tests.unit.automations.factories import T0

EVENTS = ["A", "B", "Order Completed", "Email Opened"]
TEMPLATES = ["t1", "t2"]
DURATIONS = ["30m", "1h", "6h", "1d", "3d", "P1W"]
ZONES = ["UTC", "Europe/Madrid", "Asia/Tokyo", "America/New_York"]
# Outcomes of steps that go on to their ``next``.
GOES_NEXT = {
    "sent",
    "tagged",
    "listed",
    "scored",
    "attribute_set",
    "stage_set",
    "voucher",
    "webhook",
    "workflow_started",
    "waited",
}
START, ACTING, WAITING, OVER = "<start>", "<acting>", "<waiting>", "<over>"


def conditions(depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """Conditions that change only when events happen (not as time passes)."""
    leaves = st.one_of(
        st.builds(lambda tag: {"kind": "tag", "tag": tag}, st.sampled_from(["vip", "new"])),
        st.just({"kind": "purchased_since_entered"}),
        st.builds(
            lambda name, gte: (
                {"kind": "event_count", "event": name, "gte": gte} | {"since_entered": True}
            ),
            st.sampled_from(EVENTS),
            st.integers(0, 2),
        ),
        st.builds(
            lambda template: {"kind": "message", "template": template},
            st.sampled_from(TEMPLATES),
        ),
        st.just({"kind": "attribute", "name": "birthday", "op": "exists"}),
    )
    if depth == 0:
        return leaves
    inner = conditions(depth - 1)
    return st.one_of(
        leaves,
        st.builds(lambda c: {"kind": "not", "condition": c}, inner),
        st.builds(
            lambda kind, items: {"kind": kind, "conditions": items},
            st.sampled_from(["all", "any"]),
            st.lists(inner, max_size=2),
        ),
    )


KINDS = [
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
]


@st.composite
def steps(draw: st.DrawFn, step_id: str, ids: list[str]) -> dict[str, Any]:
    """A random step; its targets mostly lie ahead, sometimes behind (loops)."""
    ahead = ids[ids.index(step_id) + 1 :]
    target = st.sampled_from(ahead) if ahead and draw(st.integers(0, 3)) else st.sampled_from(ids)
    following = {"next": draw(st.none() | target) if draw(st.booleans()) else None}
    # Waits are drawn as often as all the other kinds together, so runs live long.
    kind = draw(st.sampled_from(KINDS) | st.sampled_from(["wait", "wait_until", "wait_for_event"]))
    step: dict[str, Any] = {"id": step_id, "type": kind}
    if kind == "send":
        step |= following | {"channel": "email", "template": draw(st.sampled_from(TEMPLATES))}
    elif kind == "wait":
        step |= following | {"duration": draw(st.sampled_from(DURATIONS))}
    elif kind == "wait_until":
        step |= following | draw(_wait_until())
    elif kind == "wait_for_event":
        step |= {
            "event": draw(st.sampled_from(EVENTS)),
            "timeout": draw(st.sampled_from(DURATIONS)),
        }
        step |= {"on_event": draw(target), "on_timeout": draw(target)}
    elif kind == "if":
        step |= {"condition": draw(conditions()), "then": draw(target), "else": draw(target)}
    elif kind == "split":
        cut = draw(st.integers(0, 100))
        step["branches"] = [
            {"name": "A", "percent": cut, "next": draw(target)},
            {"name": "B", "percent": 100 - cut, "next": draw(target)},
        ]
    elif kind in ("tag", "list"):
        names = st.lists(st.sampled_from(["x", "y", "z"]), max_size=2, unique=True)
        step |= following | {"add": draw(names), "remove": draw(names)}
    elif kind == "exit":
        pass
    else:
        step |= following | _ACTIONS[kind]
    return step


_ACTIONS: dict[str, dict[str, Any]] = {
    "score": {"points": 3},
    "set_attribute": {"name": "seen", "value": True},
    "stage": {"to": "Lead"},
    "voucher": {"kind": "percent", "value": 10, "valid_days": 7},
    "webhook": {"url": "https://example.com/hook"},
    "start_workflow": {"workflow": "other"},
}


@st.composite
def _wait_until(draw: st.DrawFn) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "time": draw(st.none() | st.sampled_from(["00:00", "02:30", "09:00", "23:59"])),
        "weekday": draw(
            st.none()
            | st.lists(
                st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
                min_size=1,
                max_size=3,
                unique=True,
            )
        ),
    }
    if draw(st.booleans()) or (fields["time"] is None and fields["weekday"] is None):
        fields |= {"date_attribute": "birthday", "days_before": draw(st.integers(0, 3))}
    return fields


@st.composite
def workflows(draw: st.DrawFn) -> WorkflowDefinition:
    count = draw(st.integers(1, 7))
    ids = [f"s{n}" for n in range(count)]
    document: dict[str, Any] = {
        "id": "random",
        "name": "Random workflow",
        "trigger": {"type": "manual"},
        "timezone": draw(st.sampled_from(ZONES)),
        "steps": [draw(steps(step_id, ids)) for step_id in ids],
    }
    if draw(st.booleans()):
        document["goal"] = {
            "condition": draw(conditions(1)),
            "step": draw(st.none() | st.sampled_from(ids)),
        }
    return load_definition(document)


class RunMachine(RuleBasedStateMachine):
    """One run of a random workflow, with time passing and events happening."""

    def __init__(self) -> None:
        super().__init__()
        self.definition: WorkflowDefinition | None = None
        self.contact = ContactView(id="c")
        self.now = T0
        self.keys: set[str] = set()
        self.state: RunState | None = None
        self.expected: str | None = START
        self.events_at_last_call = 0

    @initialize(
        definition=workflows(),
        zone=st.none() | st.sampled_from(ZONES),
        birthday=st.none() | st.sampled_from(["1990-07-15", "--02-29", "1985-03-05"]),
        tags=st.frozensets(st.sampled_from(["vip", "new"])),
    )
    def begin(
        self,
        definition: WorkflowDefinition,
        zone: str | None,
        birthday: str | None,
        tags: frozenset[str],
    ) -> None:
        self.definition = definition
        attributes = {} if birthday is None else {"birthday": birthday}
        self.contact = ContactView(id="c", attributes=attributes, tags=tags, timezone=zone)
        self.accept(start(definition, run_id="run", contact=self.contact, now=self.now))

    @rule(minutes=st.integers(1, 180) | st.integers(1, 15 * 24 * 60))
    def time_passes(self, minutes: int) -> None:
        before = self.state
        assert before is not None
        quiet = len(self.contact.events) == self.events_at_last_call
        self.now += timedelta(minutes=minutes)
        outcome = self.call()
        if before.status == "waiting" and before.wake_at and self.now < before.wake_at and quiet:
            assert (outcome.commands, outcome.log, outcome.state) == ([], [], before)
        self.accept(outcome)

    @rule(name=st.sampled_from(EVENTS), template=st.sampled_from(TEMPLATES))
    def something_happens(self, name: str, template: str) -> None:
        happened = EventView(name, "track", self.now, {"template": template})
        self.contact = replace(self.contact, events=(*self.contact.events, happened))
        self.accept(self.call())

    @rule()
    def nothing_new_happens(self) -> None:
        outcome = self.call()
        assert (outcome.commands, outcome.log, outcome.state) == ([], [], self.state)

    def call(self) -> Outcome:
        assert self.definition is not None
        assert self.state is not None
        outcome = advance(self.definition, self.state, contact=self.contact, now=self.now)
        replayed = advance(self.definition, self.state, contact=self.contact, now=self.now)
        assert outcome == replayed  # pure: a replay decides the same, with the same keys
        self.events_at_last_call = len(self.contact.events)
        return outcome

    def accept(self, outcome: Outcome) -> None:
        """Check one call's outcome against the run's history, then keep it."""
        previous = self.state
        if previous is not None and previous.ended:
            assert (outcome.commands, outcome.log, outcome.state) == ([], [], previous)
            return
        for command in outcome.commands:
            assert command.key not in self.keys, f"key {command.key} emitted twice"
            assert command.key.startswith(f"run:{command.step_id}:")
            self.keys.add(command.key)
        for line in outcome.log:
            self.follow(line.step_id, line.outcome)
        state = outcome.state
        assert state.status != "active"
        if state.status == "waiting":
            assert self.expected == WAITING
            assert state.wake_at is not None
            assert state.wake_at > self.now
        elif state.status == "done" and state.step_id is None:
            assert self.expected is None  # ran out of steps where the graph ends
        if state.ended:
            assert self.expected in (OVER, None)
            self.expected = OVER
        assert RunState.from_dict(state.to_dict()) == state
        self.state = state

    def follow(self, step_id: str, outcome: str) -> None:
        """Check that a log line comes where the graph says, and what it leads to."""
        definition = self.definition
        assert definition is not None
        expected = self.expected
        assert expected not in (OVER, None), f"{step_id} {outcome} after the run ended"
        if outcome == "entered":
            assert step_id == (definition.first_step if expected == START else expected)
            self.expected = ACTING
        elif outcome == "goal":
            assert expected in (START, WAITING)
            assert definition.goal is not None
            self.expected = definition.goal.step or OVER
        elif outcome == "loop":
            assert expected == step_id
            self.expected = OVER
        elif outcome in ("exit", "missing_date"):
            assert expected == ACTING
            self.expected = OVER
        elif outcome == "waiting":
            assert expected == ACTING
            self.expected = WAITING
        else:
            assert expected == (WAITING if outcome in ("event", "timeout") else ACTING) or (
                outcome == "waited" and expected in (ACTING, WAITING)
            )
            label = "next" if outcome in GOES_NEXT else outcome
            self.expected = definition.successors(step_id)[label]

    @invariant()
    def visits_count_entries(self) -> None:
        if self.state is not None:
            assert all(count >= 1 for count in self.state.visits.values())


RunMachine.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestRunMachine = RunMachine.TestCase
