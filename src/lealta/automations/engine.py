"""The workflow engine: a pure step function from (definition, run state, contact, now) to the
new run state, the commands to carry out and a log. No clock, no database.

A run enters steps one after another until it must wait (``wait``, ``wait_until``,
``wait_for_event``) or ends. Every command carries the idempotency key
``"{run_id}:{step_id}:{visit}"`` (``visit`` counts the run's entries into that step; a
``RemoveTags``/``LeaveLists`` has ``":remove"`` after it), so replaying a call after a crash
repeats no side effect. Each entry into a step is logged as ``entered`` (with its visit),
followed by what the step did: ``sent``, ``tagged``, ``listed``, ``scored``,
``attribute_set``, ``stage_set``, ``voucher``, ``webhook``, ``workflow_started``,
``branch:then``/``branch:else``, ``split:NAME``, ``waiting``, ``waited``, ``event``,
``timeout``, ``exit``; and ``goal``, ``loop``, ``missing_date``.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, TypeAdapter, ValidationError

from lealta.automations.definition import (
    ExitStep,
    IfStep,
    LinearStep,
    ListStep,
    ScoreStep,
    SendStep,
    SetAttributeStep,
    SplitStep,
    StageStep,
    StartWorkflowStep,
    Step,
    TagStep,
    VoucherStep,
    WaitForEventStep,
    WaitStep,
    WaitUntilStep,
    WebhookStep,
    WorkflowDefinition,
)
from lealta.automations.durations import (
    as_date,
    next_local_moment,
    parse_clock,
    parse_duration,
    zone_named,
)
from lealta.conditions import ContactView, EventView, evaluate, event_matches
from lealta.errors import InvalidInput
from lealta.scoring.rules import describe_errors

RunStatus = Literal["active", "waiting", "done", "goal", "exited"]
ENDED: frozenset[str] = frozenset({"done", "goal", "exited"})
MAX_STEPS_PER_CALL = 100


def _utc(moment: datetime, what: str) -> datetime:
    if moment.utcoffset() is None:
        raise InvalidInput(f"{what} must be timezone-aware", field=what)
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class RunState:
    """Where a run is: its step, status, when it wakes, and what it remembers.

    ``step_id`` is the step to enter (``active``), being waited in (``waiting``) or where the
    run ended (None when it ran out of steps). ``visits`` counts entries per step. ``data``
    holds split choices (``splits``), when a ``wait_for_event`` began (``wait_started``),
    whether the goal was reached (``goal_reached``), when the run ended (``ended_at``) and
    whatever the runner keeps there (voucher codes under their ``save_as`` names).
    """

    __pydantic_config__ = ConfigDict(extra="forbid")

    run_id: str
    step_id: str | None
    status: RunStatus
    wake_at: datetime | None
    entered_at: datetime
    visits: dict[str, int] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    exit_reason: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "entered_at", _utc(self.entered_at, "entered_at"))
        if self.wake_at is not None:
            object.__setattr__(self, "wake_at", _utc(self.wake_at, "wake_at"))

    @property
    def ended(self) -> bool:
        """Whether the run is over (``done``, ``goal`` or ``exited``)."""
        return self.status in ENDED

    def to_dict(self) -> dict[str, Any]:
        """The state as JSON-able data (times as ISO 8601 text); :meth:`from_dict` reverses it."""
        result: dict[str, Any] = _STATE.dump_python(self, mode="json")
        return result

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunState:
        """A state from :meth:`to_dict`'s data.

        Raises
        ------
        InvalidInput
            When the data is not a run state.
        """
        try:
            return _STATE.validate_python(dict(data))
        except ValidationError as exc:
            raise InvalidInput(f"invalid run state: {describe_errors(exc)}") from exc


_STATE: TypeAdapter[RunState] = TypeAdapter(RunState)


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``template`` on ``channel`` (consent and quiet hours are the dispatcher's)."""

    key: str
    step_id: str
    channel: str
    template: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AddTags:
    """Put tags on the contact."""

    key: str
    step_id: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RemoveTags:
    """Take tags off the contact."""

    key: str
    step_id: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class JoinLists:
    """Subscribe the contact to lists (by slug)."""

    key: str
    step_id: str
    lists: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LeaveLists:
    """Unsubscribe the contact from lists (by slug)."""

    key: str
    step_id: str
    lists: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AddScore:
    """Add points (negative: take away) to the lead score."""

    key: str
    step_id: str
    points: float


@dataclass(frozen=True, slots=True)
class SetAttribute:
    """Set a contact attribute (None clears it)."""

    key: str
    step_id: str
    name: str
    value: Any


@dataclass(frozen=True, slots=True)
class SetStage:
    """Move the contact to a lifecycle stage."""

    key: str
    step_id: str
    stage: str


@dataclass(frozen=True, slots=True)
class IssueVoucher:
    """Issue a voucher; its code is to be kept in the run's data as ``save_as``."""

    key: str
    step_id: str
    kind: str
    value: Decimal
    currency: str | None
    valid_days: int
    save_as: str


@dataclass(frozen=True, slots=True)
class CallWebhook:
    """Call ``url`` with ``body`` as JSON."""

    key: str
    step_id: str
    url: str
    method: str
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StartWorkflow:
    """Enrol the contact in another workflow."""

    key: str
    step_id: str
    workflow: str


Command = (
    Send
    | AddTags
    | RemoveTags
    | JoinLists
    | LeaveLists
    | AddScore
    | SetAttribute
    | SetStage
    | IssueVoucher
    | CallWebhook
    | StartWorkflow
)


@dataclass(frozen=True, slots=True)
class StepLog:
    """One line of a run's log: what happened at ``step_id`` (see the module docstring)."""

    step_id: str
    outcome: str
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a call decided: the new state, the commands in order, and the log.

    ``trail`` holds the log lines and the commands together, in the order they happened.
    """

    state: RunState
    commands: list[Command]
    log: list[StepLog]
    trail: list[StepLog | Command] = field(default_factory=list)


def split_bucket(run_id: str, step_id: str, visit: int) -> int:
    """The run's bucket (0..99) at a split: derived from its id, so replays choose alike."""
    digest = hashlib.sha256(f"{run_id}:{step_id}:{visit}".encode()).hexdigest()
    return int(digest, 16) % 100


def contact_zone(contact: ContactView, definition: WorkflowDefinition) -> ZoneInfo:
    """The contact's time zone: its ``timezone``, else its ``timezone`` attribute, else the
    workflow's (unknown names are skipped)."""
    return (
        zone_named(contact.timezone)
        or zone_named(contact.attributes.get("timezone"))
        or ZoneInfo(definition.timezone)
    )


def _linear_action(step: LinearStep, key: str) -> tuple[str, dict[str, Any], list[Command]]:
    """What a linear step does: its log outcome and detail, and its commands."""
    sid, removal = step.id, f"{key}:remove"
    if isinstance(step, SendStep):
        detail = {"channel": step.channel, "template": step.template}
        return "sent", detail, [Send(key, sid, step.channel, step.template, dict(step.data))]
    if isinstance(step, TagStep):
        commands: list[Command] = [AddTags(key, sid, tuple(step.add))] if step.add else []
        if step.remove:
            commands.append(RemoveTags(removal, sid, tuple(step.remove)))
        return "tagged", {"add": list(step.add), "remove": list(step.remove)}, commands
    if isinstance(step, ListStep):
        commands = [JoinLists(key, sid, tuple(step.add))] if step.add else []
        if step.remove:
            commands.append(LeaveLists(removal, sid, tuple(step.remove)))
        return "listed", {"add": list(step.add), "remove": list(step.remove)}, commands
    if isinstance(step, ScoreStep):
        return "scored", {"points": step.points}, [AddScore(key, sid, step.points)]
    if isinstance(step, SetAttributeStep):
        return "attribute_set", {"name": step.name}, [SetAttribute(key, sid, step.name, step.value)]
    if isinstance(step, StageStep):
        return "stage_set", {"stage": step.to}, [SetStage(key, sid, step.to)]
    if isinstance(step, VoucherStep):
        voucher = IssueVoucher(
            key, sid, step.kind, step.value, step.currency, step.valid_days, step.save_as
        )
        return "voucher", {"kind": step.kind, "save_as": step.save_as}, [voucher]
    if isinstance(step, WebhookStep):
        call = CallWebhook(key, sid, step.url, step.method, dict(step.body))
        return "webhook", {"url": step.url}, [call]
    if isinstance(step, StartWorkflowStep):
        return (
            "workflow_started",
            {"workflow": step.workflow},
            [StartWorkflow(key, sid, step.workflow)],
        )
    raise InvalidInput(f"step {step.id!r}: {type(step).__name__} does not act")


class _Call:
    """One call of the engine: a copy of the run's state, changed as steps are taken."""

    def __init__(
        self,
        definition: WorkflowDefinition,
        state: RunState,
        contact: ContactView,
        now: datetime,
    ) -> None:
        self.definition = definition
        self.state = state
        self.contact = contact
        self.now = now
        self.visits = dict(state.visits)
        self.data = copy.deepcopy(state.data)
        self.trail: list[StepLog | Command] = []

    def note(self, step_id: str, outcome: str, **detail: Any) -> None:
        self.trail.append(StepLog(step_id, outcome, detail))

    def outcome(self, **changes: Any) -> Outcome:
        state = replace(self.state, visits=self.visits, data=self.data, **changes)
        commands = [item for item in self.trail if not isinstance(item, StepLog)]
        log = [item for item in self.trail if isinstance(item, StepLog)]
        return Outcome(state, commands, log, list(self.trail))

    def end(self, status: RunStatus, step_id: str | None, reason: str | None) -> Outcome:
        self.data.pop("wait_started", None)
        self.data["ended_at"] = self.now.isoformat()
        return self.outcome(status=status, step_id=step_id, wake_at=None, exit_reason=reason)

    def next_of(self, step_id: str) -> str | None:
        return self.definition.successors(step_id)["next"]

    def reach_goal(self) -> Outcome:
        goal = self.definition.goal
        assert goal is not None  # only called when there is one
        here = self.state.step_id or self.definition.first_step
        self.note(here, "goal", step=goal.step)
        if goal.step is None:
            return self.end("goal", here, None)
        self.data["goal_reached"] = True
        self.data.pop("wait_started", None)
        return self.walk(goal.step)

    def walk(self, step_id: str | None) -> Outcome:
        """Enter steps from ``step_id`` on until one waits or the run ends."""
        for _ in range(MAX_STEPS_PER_CALL):
            if step_id is None:
                return self.end("done", None, None)
            step = self.definition.step(step_id)
            visit = self.visits[step_id] = self.visits.get(step_id, 0) + 1
            self.note(step_id, "entered", visit=visit)
            taken = self.take(step, f"{self.state.run_id}:{step_id}:{visit}")
            if isinstance(taken, Outcome):
                return taken
            step_id = taken
        if step_id is None:
            return self.end("done", None, None)
        self.note(step_id, "loop", limit=MAX_STEPS_PER_CALL)
        return self.end("exited", step_id, "loop")

    def take(self, step: Step, key: str) -> str | Outcome | None:
        """Carry out ``step``: the next step's id (None: the end), or the call's outcome."""
        if isinstance(step, WaitStep | WaitUntilStep | WaitForEventStep):
            return self.start_wait(step)
        if isinstance(step, IfStep):
            holds = evaluate(
                step.condition, self.contact, now=self.now, entered_at=self.state.entered_at
            )
            self.note(step.id, "branch:then" if holds else "branch:else")
            return step.then if holds else step.else_
        if isinstance(step, SplitStep):
            return self.split(step)
        if isinstance(step, ExitStep):
            self.note(step.id, "exit", reason=step.reason)
            return self.end("done", step.id, step.reason)
        outcome, detail, commands = _linear_action(step, key)
        self.note(step.id, outcome, key=key, **detail)
        self.trail.extend(commands)
        return self.next_of(step.id)

    def split(self, step: SplitStep) -> str:
        bucket = split_bucket(self.state.run_id, step.id, self.visits[step.id])
        threshold = 0
        chosen = step.branches[-1]
        for branch in step.branches:
            threshold += branch.percent
            if bucket < threshold:
                chosen = branch
                break
        self.data.setdefault("splits", {})[step.id] = chosen.name
        self.note(step.id, f"split:{chosen.name}", bucket=bucket)
        return chosen.next

    def start_wait(self, step: WaitStep | WaitUntilStep | WaitForEventStep) -> str | Outcome | None:
        if isinstance(step, WaitStep):
            wake_at: datetime | None = self.now + parse_duration(step.duration)
        elif isinstance(step, WaitForEventStep):
            wake_at = self.now + parse_duration(step.timeout)
            self.data["wait_started"] = self.now.isoformat()
        else:
            wake_at = self.wait_until(step)
            if wake_at is None:
                self.note(step.id, "missing_date", attribute=step.date_attribute)
                return self.end("exited", step.id, f"missing_date:{step.date_attribute}")
        assert wake_at is not None
        if wake_at <= self.now:
            self.note(step.id, "waited")
            return self.next_of(step.id)
        self.note(step.id, "waiting", until=wake_at.isoformat())
        return self.outcome(status="waiting", step_id=step.id, wake_at=wake_at, exit_reason=None)

    def wait_until(self, step: WaitUntilStep) -> datetime | None:
        anniversary = None
        if step.date_attribute is not None:
            anniversary = as_date(self.contact.attributes.get(step.date_attribute))
            if anniversary is None:
                return None
        return next_local_moment(
            self.now,
            contact_zone(self.contact, self.definition),
            at=None if step.time is None else parse_clock(step.time),
            weekdays=step.weekday_numbers(),
            anniversary=anniversary,
            days_before=step.days_before,
        )

    def resume(self) -> Outcome:
        """Go on from the step being waited in, if its wait is over."""
        state = self.state
        if state.step_id is None:
            raise InvalidInput(f"run {state.run_id!r} waits at no step", field="step_id")
        step = self.definition.step(state.step_id)
        wake_at = state.wake_at or self.now
        if isinstance(step, WaitForEventStep):
            return self.resume_event_wait(step, wake_at)
        if not isinstance(step, WaitStep | WaitUntilStep):
            raise InvalidInput(f"run {state.run_id!r} waits at {step.type} step {step.id!r}")
        if wake_at > self.now:
            return Outcome(state, [], [], [])
        self.note(step.id, "waited")
        return self.walk(self.next_of(step.id))

    def resume_event_wait(self, step: WaitForEventStep, timeout: datetime) -> Outcome:
        started_text = self.data.pop("wait_started", None)
        started = (
            datetime.fromisoformat(started_text)
            if isinstance(started_text, str)
            else self.state.entered_at
        )
        until = min(self.now, timeout)
        matching = [
            event
            for event in self.contact.events
            if started < event.occurred_at <= until and event_matches(event, step.event, step.where)
        ]
        if matching:
            first = min(matching, key=lambda event: event.occurred_at)
            self.note(step.id, "event", event=first.name, at=first.occurred_at.isoformat())
            return self.walk(step.on_event)
        if timeout <= self.now:
            self.note(step.id, "timeout")
            return self.walk(step.on_timeout)
        return Outcome(self.state, [], [], [])


def start(
    definition: WorkflowDefinition,
    *,
    run_id: str,
    contact: ContactView,
    now: datetime,
    entered_at: datetime | None = None,
) -> Outcome:
    """Start a run at the first step and take it as far as it goes now.

    Parameters
    ----------
    definition
        The workflow version the run follows.
    run_id
        The run's id (derived from workflow, contact and entry key by the caller); it seeds
        the idempotency keys and random splits.
    contact
        What is known of the contact.
    now
        The current time (timezone-aware).
    entered_at
        When the contact was enrolled, if before ``now`` (a runner taking a queued run
        late): the first steps are taken as of then and the run is caught up to ``now``, so
        a first ``wait`` counts from enrolment. Default: ``now``.

    Returns
    -------
    Outcome
        The run waiting or ended, the commands to carry out, and the log.

    Raises
    ------
    InvalidInput
        When a time is naive or ``entered_at`` is after ``now``.
    """
    moment = _utc(now, "now")
    entered = moment if entered_at is None else _utc(entered_at, "entered_at")
    if entered > moment:
        raise InvalidInput("a run cannot enter after now", field="entered_at")
    state = RunState(run_id, definition.first_step, "active", None, entered)
    first = advance(definition, state, contact=contact, now=entered)
    if entered == moment or first.state.ended:
        return first
    then = advance(definition, first.state, contact=contact, now=moment)
    return Outcome(
        then.state,
        [*first.commands, *then.commands],
        [*first.log, *then.log],
        [*first.trail, *then.trail],
    )


def advance(
    definition: WorkflowDefinition, state: RunState, *, contact: ContactView, now: datetime
) -> Outcome:
    """Take a run as far as it goes now: after its wake time, or when something happened.

    First the goal: when it holds (and was not reached before), the run jumps to the goal's
    step, or ends with status ``goal``. Then a waiting run goes on when its wait is over
    (``wait_for_event``: a matching event after the wait began and before its timeout, else
    the timeout), and steps are entered until one waits or the run ends. At most
    :data:`MAX_STEPS_PER_CALL` steps are entered per call: a run looping without a wait is
    exited with reason ``loop``.

    Parameters
    ----------
    definition
        The workflow version the run follows.
    state
        The run's state.
    contact
        What is known of the contact, with its recent events.
    now
        The current time (timezone-aware).

    Returns
    -------
    Outcome
        The new state, commands and log; an ended run, or a run whose wait is not over and
        whose goal does not hold, comes back unchanged with no commands.

    Raises
    ------
    InvalidInput
        When ``now`` is naive or the state names a step the definition lacks.
    """
    moment = _utc(now, "now")
    if state.ended:
        return Outcome(state, [], [], [])
    call = _Call(definition, state, contact, moment)
    goal = definition.goal
    if (
        goal is not None
        and not state.data.get("goal_reached")
        and evaluate(goal.condition, contact, now=moment, entered_at=state.entered_at)
    ):
        return call.reach_goal()
    if state.status == "active":
        return call.walk(state.step_id or definition.first_step)
    return call.resume()


def exit_run(state: RunState, reason: str, now: datetime) -> RunState:
    """The run ended early (unsubscribe, erasure, suppression, by hand): status ``exited``.

    An ended run is returned unchanged.
    """
    if state.ended:
        return state
    data = {**copy.deepcopy(state.data), "ended_at": _utc(now, "now").isoformat()}
    data.pop("wait_started", None)
    return replace(state, status="exited", wake_at=None, exit_reason=reason, data=data)


def simulate(
    definition: WorkflowDefinition,
    contact: ContactView,
    *,
    start: datetime,
    days: float,
    events: Sequence[EventView] = (),
    step_hours: float = 1.0,
) -> list[tuple[datetime, StepLog | Command]]:
    """One contact's run through ``definition``, with time passing: what happens, and when.

    The run starts at ``start``; the engine is called again every ``step_hours``, at every
    wake time and at every event's time, up to ``start + days``. ``events`` happen as time
    passes: the contact sees each one from its ``occurred_at`` on. The run id is
    ``"simulation:{workflow}:{contact}"``.

    Parameters
    ----------
    definition
        The workflow.
    contact
        The contact at the start (its own ``events`` are kept).
    start
        When the run starts (timezone-aware).
    days
        How long to simulate.
    events
        Events to come, in any order.
    step_hours
        How often the engine looks at the run between wake times and events.

    Returns
    -------
    list[tuple[datetime, StepLog | Command]]
        Each log line and command with the time it happened, in order.

    Raises
    ------
    InvalidInput
        When ``days`` is negative or ``step_hours`` is not positive.
    """
    if days < 0 or step_hours <= 0:
        raise InvalidInput("simulate needs days >= 0 and step_hours > 0")
    return _Simulation(definition, contact, events, timedelta(hours=step_hours)).run(
        _utc(start, "start"), timedelta(days=days)
    )


class _Simulation:
    def __init__(
        self,
        definition: WorkflowDefinition,
        contact: ContactView,
        events: Sequence[EventView],
        tick: timedelta,
    ) -> None:
        self.definition = definition
        self.contact = contact
        self.history = sorted(contact.events, key=lambda event: event.occurred_at)
        self.coming = sorted(events, key=lambda event: event.occurred_at)
        self.tick = tick
        self.run_id = f"simulation:{definition.id}:{contact.id}"
        self._seen: tuple[int, ContactView] | None = None  # (events come so far, the view)

    def seen_at(self, moment: datetime) -> ContactView:
        """The contact with their history and the events come by ``moment``; the same view
        until another event comes (a long history is sorted once, not at every look)."""
        come = sum(1 for event in self.coming if event.occurred_at <= moment)
        if self._seen is not None and self._seen[0] == come:
            return self._seen[1]
        known = sorted([*self.history, *self.coming[:come]], key=lambda e: e.occurred_at)
        view = replace(self.contact, events=tuple(known))
        self._seen = (come, view)
        return view

    def next_moment(self, after: datetime, state: RunState, tick_at: datetime) -> datetime:
        moments = [tick_at]
        moments += [e.occurred_at for e in self.coming if e.occurred_at > after][:1]
        if state.wake_at is not None and state.wake_at > after:
            moments.append(state.wake_at)
        return min(moments)

    def run(self, begin: datetime, span: timedelta) -> list[tuple[datetime, StepLog | Command]]:
        at, stop, tick_at = begin, begin + span, begin + self.tick
        outcome = start(self.definition, run_id=self.run_id, contact=self.seen_at(at), now=at)
        timeline = [(at, item) for item in outcome.trail]
        while not outcome.state.ended:
            at = self.next_moment(at, outcome.state, tick_at)
            if at > stop:
                break
            while tick_at <= at:
                tick_at += self.tick
            outcome = advance(self.definition, outcome.state, contact=self.seen_at(at), now=at)
            timeline += [(at, item) for item in outcome.trail]
        return timeline
