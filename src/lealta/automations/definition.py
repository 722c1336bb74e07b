"""Workflow definitions as versioned data: a trigger and a graph of steps. Pure.

A definition is YAML or JSON validated by pydantic (the JSON Schema is :func:`json_schema`)::

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
        else: end
      - {id: coupon, type: voucher, kind: percent, value: 10, valid_days: 7}
      - {id: end, type: exit}

Runs start at the first step. A step without ``next`` goes on to the following one in the list;
after the last the run ends. Branching steps (``if``, ``split``, ``wait_for_event``, ``exit``)
name their targets instead. Loops are allowed: the engine stops a run that takes more than 100
steps at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from lealta.automations.durations import (
    WEEKDAYS,
    check_zone,
    parse_clock,
    parse_cron,
    parse_duration,
)
from lealta.conditions import ConditionSpec
from lealta.contacts.attributes import check_name
from lealta.errors import InvalidInput
from lealta.scoring.rules import Condition, describe_errors, load_document

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, max_length=100)]
Text = Annotated[str, Field(min_length=1, max_length=200)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _valid(check: Callable[[str], object]) -> Callable[[str], str]:
    """A pydantic after-validator from a parser that raises :class:`InvalidInput`."""

    def validate(value: str) -> str:
        try:
            check(value)
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None
        return value.strip()

    return validate


Duration = Annotated[str, AfterValidator(_valid(parse_duration))]
ClockTime = Annotated[str, AfterValidator(_valid(parse_clock))]
Cron = Annotated[str, AfterValidator(_valid(parse_cron))]
TimeZone = Annotated[str, AfterValidator(_valid(check_zone))]
AttributeName = Annotated[str, AfterValidator(_valid(check_name))]


def _type_required(schema: dict[str, Any]) -> None:
    """Publish ``type`` as required: documents must name it (Python callers may omit it)."""
    required = schema.setdefault("required", [])
    if "type" not in required:
        required.insert(0, "type")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Tagged(_Model):
    model_config = ConfigDict(json_schema_extra=_type_required)


# -- triggers ------------------------------------------------------------------------------


class EventTrigger(_Tagged):
    """An event named ``event`` whose properties meet every ``where``."""

    type: Literal["event"] = "event"
    event: Text
    where: list[Condition] = []


class PageSequenceTrigger(_Tagged):
    """Pages matching ``paths`` (globs), visited in that order within ``within_minutes``."""

    type: Literal["page_sequence"] = "page_sequence"
    paths: list[Text] = Field(min_length=1)
    within_minutes: int = Field(ge=1)


class ListJoinedTrigger(_Tagged):
    """The contact subscribed to the list ``list``."""

    type: Literal["list_joined"] = "list_joined"
    list: Slug


class TagAddedTrigger(_Tagged):
    """The tag ``tag`` was put on the contact."""

    type: Literal["tag_added"] = "tag_added"
    tag: Text


class SegmentEnteredTrigger(_Tagged):
    """The contact entered RFM segment ``segment`` (from one of ``from_segments``, if given)."""

    type: Literal["segment_entered"] = "segment_entered"
    segment: Text
    from_segments: list[Text] = []


class SegmentLeftTrigger(_Tagged):
    """The contact left RFM segment ``segment``."""

    type: Literal["segment_left"] = "segment_left"
    segment: Text


class ScoreThresholdTrigger(_Tagged):
    """The lead score crossed ``threshold`` upward."""

    type: Literal["score_threshold"] = "score_threshold"
    threshold: FiniteFloat


class StageChangedTrigger(_Tagged):
    """The lifecycle stage changed (to ``to`` and from ``from_stage``, when given)."""

    type: Literal["stage_changed"] = "stage_changed"
    to: Text | None = None
    from_stage: Text | None = None


class AnniversaryTrigger(_Tagged):
    """Yearly, ``days_before`` the date in attribute ``attribute``, at ``at`` local time."""

    type: Literal["anniversary"] = "anniversary"
    attribute: AttributeName
    at: ClockTime = "09:00"
    days_before: int = Field(default=0, ge=0, le=365)


class CountInWindowTrigger(_Tagged):
    """The ``count``-th matching event within ``window_days`` days."""

    type: Literal["count_in_window"] = "count_in_window"
    event: Text
    where: list[Condition] = []
    count: int = Field(ge=1)
    window_days: int = Field(ge=1)


class InactivityTrigger(_Tagged):
    """No ``event`` (any event, when None) for ``days`` days."""

    type: Literal["inactivity"] = "inactivity"
    event: Text | None = "Order Completed"
    days: int = Field(ge=1)


class Audience(_Model):
    """Who a scheduled workflow enrols: everyone matching every filter given."""

    segment: Text | None = None
    tag: Text | None = None
    list: Slug | None = None
    stage: Text | None = None


class ScheduleTrigger(_Tagged):
    """On a cron schedule (in the workflow's time zone), everyone in ``audience``."""

    type: Literal["schedule"] = "schedule"
    cron: Cron
    audience: Audience = Audience()


class ManualTrigger(_Tagged):
    """Contacts are enrolled by hand (API, CLI, dashboard) or by another workflow."""

    type: Literal["manual"] = "manual"


Trigger = Annotated[
    EventTrigger
    | PageSequenceTrigger
    | ListJoinedTrigger
    | TagAddedTrigger
    | SegmentEnteredTrigger
    | SegmentLeftTrigger
    | ScoreThresholdTrigger
    | StageChangedTrigger
    | AnniversaryTrigger
    | CountInWindowTrigger
    | InactivityTrigger
    | ScheduleTrigger
    | ManualTrigger,
    Field(discriminator="type"),
]


# -- steps ---------------------------------------------------------------------------------


class StepBase(_Tagged):
    """What every step has: a slug ``id``; field errors inside a step are reported with its id."""

    id: Slug

    @model_validator(mode="wrap")
    @classmethod
    def _errors_name_the_step(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        try:
            return handler(data)
        except ValidationError as exc:
            step_id = data.get("id") if isinstance(data, Mapping) else None
            if not isinstance(step_id, str):
                raise
            raise ValueError(f"step {step_id!r}: {describe_errors(exc)}") from None

    def targets(self) -> dict[str, str | None]:
        """Where the run may go from here: outcome label → step id (None: the default)."""
        raise NotImplementedError


class LinearStep(StepBase):
    """A step that goes on to ``next`` (default: the following step in the list)."""

    next: Slug | None = None

    def targets(self) -> dict[str, str | None]:
        """Where the run may go from here: outcome label → step id (None: the default)."""
        return {"next": self.next}


class SendStep(LinearStep):
    """Send ``template`` on ``channel``; ``data`` is merged into the template's context."""

    type: Literal["send"] = "send"
    channel: Literal["email", "sms", "push", "web_push", "onsite", "webhook"]
    template: Text
    data: dict[str, Any] = {}


class WaitStep(LinearStep):
    """Wait for ``duration`` (``"1h"``, ``"3d"``, ``"P1D"`` …)."""

    type: Literal["wait"] = "wait"
    duration: Duration


class WaitUntilStep(LinearStep):
    """Wait for the next local ``time`` on a wanted day, in the contact's time zone.

    Wanted days are those in ``weekday`` (any when None) and, with ``date_attribute`` (e.g.
    ``birthday``), only the day ``days_before`` the date's next anniversary. Without ``time``
    a wanted day is enough: the run goes on at once on one, else at the next one's start.
    """

    type: Literal["wait_until"] = "wait_until"
    time: ClockTime | None = None
    weekday: list[Weekday] | None = Field(default=None, min_length=1)
    date_attribute: AttributeName | None = None
    days_before: int = Field(default=0, ge=0, le=365)

    @model_validator(mode="after")
    def _something_to_wait_for(self) -> Self:
        if self.time is None and self.weekday is None and self.date_attribute is None:
            raise ValueError(f"step {self.id!r}: give time, weekday or date_attribute")
        if self.days_before and self.date_attribute is None:
            raise ValueError(f"step {self.id!r}: days_before needs date_attribute")
        return self

    def weekday_numbers(self) -> frozenset[int] | None:
        """The wanted weekdays, Monday being 0; None for any."""
        return None if self.weekday is None else frozenset(map(WEEKDAYS.index, self.weekday))


class WaitForEventStep(StepBase):
    """Wait for a matching event: go to ``on_event`` when one happens, else after ``timeout``
    to ``on_timeout``."""

    type: Literal["wait_for_event"] = "wait_for_event"
    event: Text
    where: list[Condition] = []
    timeout: Duration
    on_event: Slug
    on_timeout: Slug

    def targets(self) -> dict[str, str | None]:
        """Where the run may go from here: outcome label → step id."""
        return {"event": self.on_event, "timeout": self.on_timeout}


class IfStep(StepBase):
    """Go to ``then`` when the condition holds, else to ``else``."""

    type: Literal["if"] = "if"
    condition: ConditionSpec
    then: Slug
    else_: Slug = Field(alias="else")

    def targets(self) -> dict[str, str | None]:
        """Where the run may go from here: outcome label → step id."""
        return {"branch:then": self.then, "branch:else": self.else_}


class Branch(_Model):
    """One arm of a random split: ``percent`` of runs go to ``next``."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    percent: int = Field(ge=0, le=100)
    next: Slug


class SplitStep(StepBase):
    """Send runs down branches at random, in the given proportions (an A/B test)."""

    type: Literal["split"] = "split"
    branches: list[Branch] = Field(min_length=2)

    @model_validator(mode="after")
    def _check_branches(self) -> Self:
        total = sum(branch.percent for branch in self.branches)
        if total != 100:
            raise ValueError(f"step {self.id!r}: split percentages add up to {total}, not 100")
        names = [branch.name for branch in self.branches]
        if len(set(names)) != len(names):
            raise ValueError(f"step {self.id!r}: split branch names must differ")
        return self

    def targets(self) -> dict[str, str | None]:
        """Where the run may go from here: outcome label → step id."""
        return {f"split:{branch.name}": branch.next for branch in self.branches}


class TagStep(LinearStep):
    """Add and remove tags."""

    type: Literal["tag"] = "tag"
    add: list[Text] = []
    remove: list[Text] = []


class ListStep(LinearStep):
    """Subscribe to (``add``) and unsubscribe from (``remove``) lists."""

    type: Literal["list"] = "list"
    add: list[Slug] = []
    remove: list[Slug] = []


class ScoreStep(LinearStep):
    """Add ``points`` (negative: take away) to the lead score."""

    type: Literal["score"] = "score"
    points: FiniteFloat


class SetAttributeStep(LinearStep):
    """Set attribute ``name`` to ``value`` (None clears it)."""

    type: Literal["set_attribute"] = "set_attribute"
    name: AttributeName
    value: Any = None


class StageStep(LinearStep):
    """Move the contact to lifecycle stage ``to``."""

    type: Literal["stage"] = "stage"
    to: Text


class VoucherStep(LinearStep):
    """Issue a voucher valid ``valid_days``; its code is kept in the run's data as ``save_as``."""

    type: Literal["voucher"] = "voucher"
    kind: Literal["percent", "amount", "free_shipping"]
    value: Decimal = Field(default=Decimal(0), ge=0, allow_inf_nan=False)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    valid_days: int = Field(ge=1, le=3650)
    save_as: AttributeName = "voucher"

    @model_validator(mode="after")
    def _check_value(self) -> Self:
        where = f"step {self.id!r}"
        if self.kind != "free_shipping" and self.value <= 0:
            raise ValueError(f"{where}: a {self.kind} voucher needs a value above 0")
        if self.kind == "percent" and self.value > 100:
            raise ValueError(f"{where}: a percent voucher cannot exceed 100")
        if self.kind == "amount" and self.currency is None:
            raise ValueError(f"{where}: an amount voucher needs a currency")
        return self


class WebhookStep(LinearStep):
    """Call ``url`` (http or https) with ``body`` as JSON."""

    type: Literal["webhook"] = "webhook"
    url: Annotated[str, Field(max_length=2000)]
    method: Literal["POST", "PUT"] = "POST"
    body: dict[str, Any] = {}

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"webhook url {url!r} must be an http or https address")
        return url


class StartWorkflowStep(LinearStep):
    """Enrol the contact in another workflow (its entry rules apply)."""

    type: Literal["start_workflow"] = "start_workflow"
    workflow: Slug


class ExitStep(StepBase):
    """End the run here."""

    type: Literal["exit"] = "exit"
    reason: Text = "done"

    def targets(self) -> dict[str, str | None]:
        """An exit goes nowhere."""
        return {}


Step = Annotated[
    SendStep
    | WaitStep
    | WaitUntilStep
    | WaitForEventStep
    | IfStep
    | SplitStep
    | TagStep
    | ListStep
    | ScoreStep
    | SetAttributeStep
    | StageStep
    | VoucherStep
    | WebhookStep
    | StartWorkflowStep
    | ExitStep,
    Field(discriminator="type"),
]


# -- the workflow --------------------------------------------------------------------------


_FIELDS = {
    "branch:then": "then",
    "branch:else": "else",
    "event": "on_event",
    "timeout": "on_timeout",
}


def _field_of(label: str) -> str:
    """The field an outcome label comes from, for error messages."""
    if label.startswith("split:"):
        return f"branch {label.removeprefix('split:')!r}"
    return _FIELDS.get(label, label)


class EntryRules(_Model):
    """Who may start a run, and how often.

    ``reenter``: ``never`` (once per contact), ``always``, or ``after_exit`` (when no run is
    under way); ``reenter_after_days`` also waits that long after the last run ended.
    ``max_active`` caps the contact's runs under way. Contacts with a ``suppress_tags`` tag,
    in a ``suppress_segments`` segment, or without granted consent for every
    ``require_consent`` channel are not enrolled.
    """

    reenter: Literal["never", "always", "after_exit"] = "after_exit"
    reenter_after_days: int | None = Field(default=None, ge=0)
    max_active: int = Field(default=1, ge=1)
    suppress_tags: list[Text] = []
    suppress_segments: list[Text] = []
    require_consent: list[Text] = []


class Goal(_Model):
    """What the workflow is for: when ``condition`` holds, the run jumps to ``step`` (once), or
    ends as having reached its goal when ``step`` is None."""

    condition: ConditionSpec
    step: Slug | None = None


class WorkflowDefinition(_Model):
    """A workflow: trigger, entry rules, goal and steps (see the module docstring).

    ``timezone`` is used for contacts without one (``wait_until``) and for ``schedule``.
    ``exit_on``: runs end when the contact unsubscribes or is erased.
    """

    id: Slug
    name: Text
    description: str = ""
    trigger: Trigger
    entry: EntryRules = EntryRules()
    goal: Goal | None = None
    exit_on: list[Literal["unsubscribed", "erased"]] = ["unsubscribed", "erased"]
    timezone: TimeZone = "UTC"
    steps: list[Step] = Field(min_length=1)

    _index: dict[str, Step] = PrivateAttr(default_factory=dict)
    _following: dict[str, str | None] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_graph(self) -> Self:
        where = f"workflow {self.id!r}"
        index: dict[str, Step] = {}
        for step in self.steps:
            if step.id in index:
                raise ValueError(f"{where}: step id {step.id!r} is used twice")
            index[step.id] = step
        for step in self.steps:
            for label, target in step.targets().items():
                if target is not None and target not in index:
                    raise ValueError(
                        f"{where}: step {step.id!r}: {_field_of(label)} refers to unknown step "
                        f"{target!r}"
                    )
        if self.goal is not None and self.goal.step is not None and self.goal.step not in index:
            raise ValueError(f"{where}: goal refers to unknown step {self.goal.step!r}")
        ids = [step.id for step in self.steps]
        self._index = index
        self._following = dict(zip(ids, [*ids[1:], None], strict=True))
        return self

    @property
    def first_step(self) -> str:
        """The id of the step runs start at."""
        return self.steps[0].id

    def step(self, step_id: str) -> Step:
        """The step with id ``step_id``.

        Raises
        ------
        InvalidInput
            When there is no such step.
        """
        found = self._index.get(step_id)
        if found is None:
            raise InvalidInput(f"workflow {self.id!r} has no step {step_id!r}", field="step")
        return found

    def successors(self, step_id: str) -> dict[str, str | None]:
        """Where a run may go after ``step_id``: outcome label → step id (None: the run ends).

        Linear steps have one label, ``next``; ``if`` has ``branch:then``/``branch:else``,
        ``split`` one ``split:NAME`` per branch, ``wait_for_event`` ``event``/``timeout``.
        """
        step = self.step(step_id)
        targets = step.targets()
        if isinstance(step, LinearStep) and step.next is None:
            targets["next"] = self._following[step_id]
        return targets


def load_definition(source: str | Mapping[str, Any]) -> WorkflowDefinition:
    """A workflow definition from YAML/JSON text or a parsed mapping.

    Parameters
    ----------
    source
        YAML or JSON text, or a mapping.

    Returns
    -------
    WorkflowDefinition
        The validated definition.

    Raises
    ------
    InvalidInput
        When the text does not parse or the definition is invalid; the message names each
        problem and the step it is in.
    """
    return load_document(WorkflowDefinition, source)


def dump(definition: WorkflowDefinition) -> dict[str, Any]:
    """``definition`` as JSON-able data that :func:`load_definition` reads back as an equal one.

    Fields left at their defaults are included, so stored versions are explicit.
    """
    return definition.model_dump(mode="json", by_alias=True)


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of workflow definitions (for editors and API clients)."""
    return WorkflowDefinition.model_json_schema(by_alias=True)
