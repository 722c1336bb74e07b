"""What workflow conditions (``if`` steps, goals) see of a contact, and the conditions. Pure.

Conditions are data, a union discriminated on ``kind``::

    kind: all
    conditions:
      - {kind: attribute, name: country, op: equals, value: ES}
      - {kind: event_count, event: Order Completed, within_days: 30, gte: 2}
      - {kind: not, condition: {kind: tag, tag: vip}}
      - {kind: loyalty_tier, at_least: Gold}     # or {kind: loyalty_tier, in: [Gold, Platinum]}
      - {kind: loyalty_points, gte: 500}         # the points balance now (also lte)

Property tests reuse :class:`lealta.scoring.rules.Condition` (attributes are tested like event
properties), so there is one implementation of the operators. Only events at or before ``now``
count, so a condition never sees the future.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from lealta.errors import InvalidInput
from lealta.scoring.rules import Condition, Op, conditions_hold, describe_errors

ORDER_COMPLETED = "Order Completed"
MESSAGE_EVENTS = {"opened": "Email Opened", "clicked": "Email Clicked"}


def _when(event: EventView) -> datetime:
    return event.occurred_at


def _aware_utc(moment: datetime, what: str) -> datetime:
    if moment.utcoffset() is None:
        raise InvalidInput(f"{what} must be timezone-aware", field=what)
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class EventView:
    """One event of the contact as workflows see it; ``occurred_at`` is converted to UTC."""

    name: str | None
    type: str
    occurred_at: datetime
    properties: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "occurred_at", _aware_utc(self.occurred_at, "occurred_at"))


@dataclass(frozen=True, slots=True)
class ContactView:
    """What the engine knows of a contact when it decides.

    ``lists`` maps list slugs to membership status (``subscribed``, ``pending``,
    ``unsubscribed``); ``consent`` maps channels to the decision in force (``granted``,
    ``denied``, ``pending``). ``segment`` is the RFM segment, ``cluster`` the K-Means cluster's
    name. ``timezone`` is the contact's IANA time zone when known (None: the workflow's).
    ``events`` are the recent events the runner loaded, oldest first. ``tier`` is the
    contact's loyalty tier (None: in no tier) and ``tier_ranks`` the ranks of the
    programme's tiers in force by case-folded name (1 = lowest), for ``loyalty_tier``.
    ``points`` is the contact's loyalty points balance now (the running balance of their
    latest ledger entry; 0 without one), for ``loyalty_points``.
    """

    id: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    lists: Mapping[str, str] = field(default_factory=dict)
    stage: str | None = None
    score: float = 0.0
    segment: str | None = None
    cluster: str | None = None
    consent: Mapping[str, str] = field(default_factory=dict)
    timezone: str | None = None
    events: Sequence[EventView] = ()
    tier: str | None = None
    tier_ranks: Mapping[str, int] = field(default_factory=dict)
    points: int = 0

    def __post_init__(self) -> None:
        events = tuple(self.events)
        if any(a.occurred_at > b.occurred_at for a, b in pairwise(events)):
            events = tuple(sorted(events, key=_when))
        object.__setattr__(self, "events", events)  # oldest first, always


def event_matches(event: EventView, name: str, where: Sequence[Condition]) -> bool:
    """Whether ``event`` is named ``name`` (case-insensitively) and meets every condition.

    Parameters
    ----------
    event
        The event.
    name
        The wanted event name, e.g. ``"Order Completed"``.
    where
        Conditions on the event's properties, all of which must hold.

    Returns
    -------
    bool
        True when the event is a wanted one.
    """
    return (
        event.name is not None
        and event.name.casefold() == name.casefold()
        and conditions_hold(where, event.properties)
    )


@dataclass(frozen=True, slots=True)
class _Scene:
    """What a condition is evaluated against."""

    contact: ContactView
    now: datetime
    entered_at: datetime

    def past_events(self) -> Sequence[EventView]:
        """The contact's events up to now, oldest first."""
        events = self.contact.events
        return events[: bisect_right(events, self.now, key=_when)]

    def events_after(self, moment: datetime) -> Sequence[EventView]:
        """The events after ``moment`` up to now, oldest first (a look at a long history
        reads only its end)."""
        events = self.contact.events
        return events[
            bisect_right(events, moment, key=_when) : bisect_right(events, self.now, key=_when)
        ]


def _kind_required(schema: dict[str, Any]) -> None:
    """Publish ``kind`` as required: documents must name it (Python callers may omit it)."""
    required = schema.setdefault("required", [])
    if "kind" not in required:
        required.insert(0, "kind")


class _Spec(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, json_schema_extra=_kind_required
    )

    def _holds(self, scene: _Scene) -> bool:
        raise NotImplementedError


class AttributeCondition(_Spec):
    """A contact attribute passes an operator test (those of event-property conditions)."""

    kind: Literal["attribute"] = "attribute"
    name: str = Field(min_length=1)
    op: Op
    value: Any = None

    _condition: Condition | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _build(self) -> Self:
        try:
            self._condition = Condition(property=self.name, op=self.op, value=self.value)
        except ValidationError as exc:
            raise ValueError(f"attribute condition: {describe_errors(exc)}") from None
        return self

    def _holds(self, scene: _Scene) -> bool:
        assert self._condition is not None  # built at validation
        return self._condition.holds(scene.contact.attributes)


class TagCondition(_Spec):
    """The contact has (``present: true``) or lacks the tag."""

    kind: Literal["tag"] = "tag"
    tag: str = Field(min_length=1)
    present: bool = True

    def _holds(self, scene: _Scene) -> bool:
        return (self.tag in scene.contact.tags) == self.present


class ListCondition(_Spec):
    """The contact's membership of a list has the given status."""

    kind: Literal["list"] = "list"
    list: str = Field(min_length=1)
    status: Literal["subscribed", "pending", "unsubscribed"] = "subscribed"

    def _holds(self, scene: _Scene) -> bool:
        return scene.contact.lists.get(self.list) == self.status


class StageCondition(_Spec):
    """The contact's lifecycle stage is one of ``in``."""

    kind: Literal["stage"] = "stage"
    in_: list[str] = Field(alias="in", min_length=1)

    def _holds(self, scene: _Scene) -> bool:
        return scene.contact.stage in self.in_


class ScoreCondition(_Spec):
    """The lead score is within ``gte``..``lte`` (both inclusive, at least one given)."""

    kind: Literal["score"] = "score"
    gte: FiniteFloat | None = None
    lte: FiniteFloat | None = None

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        if self.gte is None and self.lte is None:
            raise ValueError("score condition: give gte, lte or both")
        if self.gte is not None and self.lte is not None and self.gte > self.lte:
            raise ValueError(f"score condition: gte {self.gte:g} is above lte {self.lte:g}")
        return self

    def _holds(self, scene: _Scene) -> bool:
        score = scene.contact.score
        return (self.gte is None or score >= self.gte) and (self.lte is None or score <= self.lte)


class SegmentCondition(_Spec):
    """The contact's RFM segment is one of ``in``."""

    kind: Literal["segment"] = "segment"
    in_: list[str] = Field(alias="in", min_length=1)

    def _holds(self, scene: _Scene) -> bool:
        return scene.contact.segment in self.in_


class ClusterCondition(_Spec):
    """The contact's cluster is one of ``in``."""

    kind: Literal["cluster"] = "cluster"
    in_: list[str] = Field(alias="in", min_length=1)

    def _holds(self, scene: _Scene) -> bool:
        return scene.contact.cluster in self.in_


class ConsentCondition(_Spec):
    """The consent decision in force for ``channel`` is ``status`` (``granted`` by default)."""

    kind: Literal["consent"] = "consent"
    channel: str = Field(min_length=1)
    status: Literal["granted", "denied", "pending"] = "granted"

    def _holds(self, scene: _Scene) -> bool:
        return scene.contact.consent.get(self.channel) == self.status


class EventCountCondition(_Spec):
    """Between ``gte`` and ``lte`` (inclusive) matching events happened.

    Only events at or before ``now`` count; ``within_days`` keeps those in the last so many
    days (after ``now - within_days``), ``since_entered`` those after the run entered.
    ``latest`` tests ``where`` on the newest ``event`` of those only (the count is 0 or 1):
    the answer in force when a person may answer again, such as an NPS survey
    (``{kind: event_count, event: Survey Answered, latest: true, where: [{property:
    category, op: equals, value: promoter}]}``).
    """

    kind: Literal["event_count"] = "event_count"
    event: str = Field(min_length=1)
    where: list[Condition] = []
    within_days: int | None = Field(default=None, ge=1)
    since_entered: bool = False
    latest: bool = False
    gte: int = Field(default=1, ge=0)
    lte: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        if self.lte is not None and self.lte < self.gte:
            raise ValueError(f"event_count condition: lte {self.lte} is below gte {self.gte}")
        return self

    def _holds(self, scene: _Scene) -> bool:
        since = None if self.within_days is None else scene.now - timedelta(days=self.within_days)
        if self.since_entered:
            since = scene.entered_at if since is None else max(since, scene.entered_at)
        seen = scene.past_events() if since is None else scene.events_after(since)
        named = [event for event in seen if event_matches(event, self.event, ())]
        if self.latest:
            named = sorted(named, key=lambda event: event.occurred_at)[-1:]
        count = sum(1 for event in named if conditions_hold(self.where, event.properties))
        return count >= self.gte and (self.lte is None or count <= self.lte)


class MessageCondition(_Spec):
    """An e-mail from ``template`` was opened (or clicked) since the run entered.

    That is an ``Email Opened`` (``Email Clicked``) event after the run's entry whose
    ``template`` property is ``template``.
    """

    kind: Literal["message"] = "message"
    template: str = Field(min_length=1)
    action: Literal["opened", "clicked"] = "opened"

    def _holds(self, scene: _Scene) -> bool:
        wanted = MESSAGE_EVENTS[self.action]
        return any(
            event_matches(event, wanted, ()) and event.properties.get("template") == self.template
            for event in scene.events_after(scene.entered_at)
        )


class PurchasedSinceEntered(_Spec):
    """An ``Order Completed`` event happened after the run entered."""

    kind: Literal["purchased_since_entered"] = "purchased_since_entered"

    def _holds(self, scene: _Scene) -> bool:
        return any(
            event_matches(event, ORDER_COMPLETED, ())
            for event in scene.events_after(scene.entered_at)
        )


class LoyaltyTierCondition(_Spec):
    """The contact's loyalty tier: in any tier (``{kind: loyalty_tier}``: a member, eligible
    for loyalty campaigns), at least a tier (``at_least: Gold``) or one of some tiers
    (``in: [Gold, Platinum]``). Tier names ignore case; a name the programme in force does
    not have makes the condition false (workflows are checked against the programme when
    saved, see :func:`unknown_tiers`)."""

    kind: Literal["loyalty_tier"] = "loyalty_tier"
    at_least: str | None = Field(default=None, min_length=1, max_length=64)
    in_: list[str] | None = Field(default=None, alias="in", min_length=1)

    @model_validator(mode="after")
    def _one_test(self) -> Self:
        if self.at_least is not None and self.in_ is not None:
            raise ValueError("loyalty_tier condition: give at_least or in, not both")
        return self

    def names(self) -> list[str]:
        """The tier names the condition mentions."""
        return [self.at_least] if self.at_least is not None else list(self.in_ or [])

    def _holds(self, scene: _Scene) -> bool:
        contact = scene.contact
        if contact.tier is None:
            return False
        if self.at_least is not None:
            have = contact.tier_ranks.get(contact.tier.casefold(), 0)
            need = contact.tier_ranks.get(self.at_least.casefold())
            return need is not None and have >= need
        if self.in_ is not None:
            return contact.tier.casefold() in {name.casefold() for name in self.in_}
        return True


class LoyaltyPointsCondition(_Spec):
    """The contact's loyalty points balance now is within ``gte``..``lte`` (whole points,
    both inclusive, at least one given); a contact without a ledger entry has 0 points."""

    kind: Literal["loyalty_points"] = "loyalty_points"
    gte: int | None = Field(default=None, ge=0)
    lte: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        if self.gte is None and self.lte is None:
            raise ValueError("loyalty_points condition: give gte, lte or both")
        if self.gte is not None and self.lte is not None and self.gte > self.lte:
            raise ValueError(f"loyalty_points condition: gte {self.gte} is above lte {self.lte}")
        return self

    def _holds(self, scene: _Scene) -> bool:
        held = scene.contact.points
        return (self.gte is None or held >= self.gte) and (self.lte is None or held <= self.lte)


def unknown_tiers(condition: Any, tier_names: Sequence[str]) -> list[str]:
    """The tier names ``condition`` (and the conditions inside it) mentions that are not
    among ``tier_names`` (case-insensitive), for a clear refusal when a workflow is saved."""
    known = {name.casefold() for name in tier_names}
    found: list[str] = []
    pending = [condition]
    while pending:
        current = pending.pop()
        if isinstance(current, AllOf | AnyOf):
            pending.extend(current.conditions)
        elif isinstance(current, Not):
            pending.append(current.condition)
        elif isinstance(current, LoyaltyTierCondition):
            found += [name for name in current.names() if name.casefold() not in known]
    return found


class AllOf(_Spec):
    """Every condition holds (true when there are none)."""

    kind: Literal["all"] = "all"
    conditions: list[ConditionSpec]

    def _holds(self, scene: _Scene) -> bool:
        return all(condition._holds(scene) for condition in self.conditions)


class AnyOf(_Spec):
    """At least one condition holds (false when there are none)."""

    kind: Literal["any"] = "any"
    conditions: list[ConditionSpec]

    def _holds(self, scene: _Scene) -> bool:
        return any(condition._holds(scene) for condition in self.conditions)


class Not(_Spec):
    """The condition does not hold."""

    kind: Literal["not"] = "not"
    condition: ConditionSpec

    def _holds(self, scene: _Scene) -> bool:
        return not self.condition._holds(scene)


ConditionSpec = Annotated[
    AttributeCondition
    | TagCondition
    | ListCondition
    | StageCondition
    | ScoreCondition
    | SegmentCondition
    | ClusterCondition
    | ConsentCondition
    | EventCountCondition
    | MessageCondition
    | PurchasedSinceEntered
    | LoyaltyTierCondition
    | LoyaltyPointsCondition
    | AllOf
    | AnyOf
    | Not,
    Field(discriminator="kind"),
]
for _model in (AllOf, AnyOf, Not):
    _model.model_rebuild()


def evaluate(
    spec: ConditionSpec, contact: ContactView, *, now: datetime, entered_at: datetime
) -> bool:
    """Whether ``spec`` holds of ``contact`` at ``now`` for a run that entered at ``entered_at``.

    Parameters
    ----------
    spec
        The condition.
    contact
        What is known of the contact, with its recent events.
    now
        The moment of evaluation (timezone-aware); later events are ignored.
    entered_at
        When the run entered the workflow (timezone-aware), for ``since_entered``,
        ``message`` and ``purchased_since_entered``.

    Returns
    -------
    bool
        True when the condition holds.
    """
    scene = _Scene(contact, _aware_utc(now, "now"), _aware_utc(entered_at, "entered_at"))
    return spec._holds(scene)
