"""The condition language: one rule tree shared by workflows, on-site audiences and saved
audiences. Pure data; :mod:`lealta.conditions.person` tests it on one person and
:mod:`lealta.conditions.sql` finds everyone it holds of.

Conditions are a union discriminated on ``kind``::

    kind: all
    conditions:
      - {kind: attribute, name: country, op: equals, value: ES}
      - {kind: event_count, event: Product Viewed, within_days: 14, gte: 3,
         where: [{property: category, op: equals, value: shoes}]}
      - {kind: bought, category: shoes, within_days: 60, measure: quantity, gte: 2}
      - {kind: rfm, r: {gte: 4}, m: {gte: 3}}
      - {kind: not, condition: {kind: tag, tag: vip}}
      - {kind: audience, audience: Newsletter readers}
      - {kind: loyalty_tier, at_least: Gold}     # or {kind: loyalty_tier, in: [Gold, Platinum]}
      - {kind: loyalty_points, gte: 500}         # the points balance now (also lte)
      - {kind: prediction, p_alive: {lte: 0.3}, clv: {gte: 100}, churn_band: high}
      - {kind: next_best, category: shoes}       # shoes is their next-best category (top: 1)

Property tests reuse :class:`lealta.scoring.rules.Condition` (attributes are tested like event
properties), so there is one set of operators. Only events and orders at or before ``now``
count, so a condition never sees the future. Three tests belong to a workflow run and need its
entry time: ``purchased_since_entered``, ``event_count`` with ``since_entered`` and (when run
inside a workflow) ``message``; see :func:`run_only`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from lealta.errors import InvalidInput
from lealta.scoring.rules import Condition, Op, describe_errors

ORDER_COMPLETED = "Order Completed"
MESSAGE_EVENTS = {"opened": "Email Opened", "clicked": "Email Clicked"}
RFM_LETTERS = ("r", "f", "m", "p")


def _kind_required(schema: dict[str, Any]) -> None:
    """Publish ``kind`` as required: documents must name it (Python callers may omit it)."""
    required = schema.setdefault("required", [])
    if "kind" not in required:
        required.insert(0, "kind")


class _Spec(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, json_schema_extra=_kind_required
    )


def _check_range(kind: str, gte: float | None, lte: float | None, *, required: bool) -> None:
    if required and gte is None and lte is None:
        raise ValueError(f"{kind} condition: give gte, lte or both")
    if gte is not None and lte is not None and gte > lte:
        raise ValueError(f"{kind} condition: gte {gte:g} is above lte {lte:g}")


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

    @property
    def test(self) -> Condition:
        """The operator test on the attribute, as an event-property condition."""
        assert self._condition is not None  # built at validation
        return self._condition


class TagCondition(_Spec):
    """The contact has (``present: true``) or lacks the tag."""

    kind: Literal["tag"] = "tag"
    tag: str = Field(min_length=1)
    present: bool = True


class ListCondition(_Spec):
    """The contact's membership of a list has the given status."""

    kind: Literal["list"] = "list"
    list: str = Field(min_length=1)
    status: Literal["subscribed", "pending", "unsubscribed"] = "subscribed"


class StageCondition(_Spec):
    """The contact's lifecycle stage is one of ``in``."""

    kind: Literal["stage"] = "stage"
    in_: list[str] = Field(alias="in", min_length=1)


class ScoreCondition(_Spec):
    """The lead score is within ``gte``..``lte`` (both inclusive, at least one given)."""

    kind: Literal["score"] = "score"
    gte: FiniteFloat | None = None
    lte: FiniteFloat | None = None

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        _check_range("score", self.gte, self.lte, required=True)
        return self


class SegmentCondition(_Spec):
    """The contact's RFM segment is one of ``in``."""

    kind: Literal["segment"] = "segment"
    in_: list[str] = Field(alias="in", min_length=1)


class ClusterCondition(_Spec):
    """The contact's cluster is one of ``in``."""

    kind: Literal["cluster"] = "cluster"
    in_: list[str] = Field(alias="in", min_length=1)


class ScoreRange(BaseModel):
    """An inclusive range of an RFM score (at least one end given)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gte: int | None = Field(default=None, ge=0)
    lte: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        _check_range("rfm score", self.gte, self.lte, required=True)
        return self

    def holds(self, value: int | None) -> bool:
        """Whether ``value`` (None: not scored) is within the range."""
        if value is None:
            return False
        return (self.gte is None or value >= self.gte) and (self.lte is None or value <= self.lte)


class RfmCondition(_Spec):
    """The contact's RFM(P) scores of the latest scoring are within ranges: ``r``, ``f``,
    ``m`` and ``p`` each an optional ``{gte, lte}``, at least one given, all of them holding.
    A contact never scored (or without a payment score, for ``p``) does not match."""

    kind: Literal["rfm"] = "rfm"
    r: ScoreRange | None = None
    f: ScoreRange | None = None
    m: ScoreRange | None = None
    p: ScoreRange | None = None

    @model_validator(mode="after")
    def _one_range(self) -> Self:
        if not self.ranges():
            raise ValueError("rfm condition: give a range for r, f, m or p")
        return self

    def ranges(self) -> dict[str, ScoreRange]:
        """The ranges given, by letter."""
        found = {letter: getattr(self, letter) for letter in RFM_LETTERS}
        return {letter: wanted for letter, wanted in found.items() if wanted is not None}


class ValueRange(BaseModel):
    """An inclusive range of a predicted figure (at least one end given)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gte: FiniteFloat | None = None
    lte: FiniteFloat | None = None

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        _check_range("prediction", self.gte, self.lte, required=True)
        return self

    def holds(self, value: float | None) -> bool:
        """Whether ``value`` (None: not predicted) is within the range."""
        if value is None:
            return False
        return (self.gte is None or value >= self.gte) and (self.lte is None or value <= self.lte)


CHURN_BANDS = ("low", "medium", "high", "new")  # lealta.prediction.bands.BANDS


class PredictionCondition(_Spec):
    """The contact's predicted value of the latest ``clv`` run: ``p_alive`` (probability of
    still being a customer) and ``clv`` (value over the run's horizon) each an optional
    ``{gte, lte}``, ``churn_band`` one of low, medium, high, new; at least one given, all
    holding. A contact the latest run did not score does not match."""

    kind: Literal["prediction"] = "prediction"
    p_alive: ValueRange | None = None
    clv: ValueRange | None = None
    churn_band: Literal["low", "medium", "high", "new"] | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Self:
        if self.p_alive is None and self.clv is None and self.churn_band is None:
            raise ValueError("prediction condition: give p_alive, clv or churn_band")
        return self

    def holds(self, found: Any) -> bool:
        """Whether ``found`` (``p_alive``, ``clv``, ``churn_band``; None: none) matches."""
        if found is None:
            return False
        return (
            (self.p_alive is None or self.p_alive.holds(found["p_alive"]))
            and (self.clv is None or self.clv.holds(found["clv"]))
            and (self.churn_band is None or found["churn_band"] == self.churn_band)
        )


class ConsentCondition(_Spec):
    """The consent decision in force for ``channel`` is ``status`` (``granted`` by default)."""

    kind: Literal["consent"] = "consent"
    channel: str = Field(min_length=1)
    status: Literal["granted", "denied", "pending"] = "granted"


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


class MessageCondition(_Spec):
    """An e-mail from ``template`` was opened (or clicked).

    That is an ``Email Opened`` (``Email Clicked``) event whose ``template`` property is
    ``template``: in a workflow, after the run entered; elsewhere at any time; in both, in the
    last ``within_days`` days when given.
    """

    kind: Literal["message"] = "message"
    template: str = Field(min_length=1)
    action: Literal["opened", "clicked"] = "opened"
    within_days: int | None = Field(default=None, ge=1)


class PurchasedSinceEntered(_Spec):
    """An ``Order Completed`` event happened after the run entered (workflows only)."""

    kind: Literal["purchased_since_entered"] = "purchased_since_entered"


class BoughtCondition(_Spec):
    """What the contact bought, from their orders, is within ``gte``..``lte``.

    The orders are those placed at or before ``now`` (and after ``now - within_days`` when
    given). With ``product`` (a ``product_id``) and/or ``category``, only the order lines of
    that product and category count. ``measure`` says what is measured: ``orders`` (orders
    with a counted line, or every order without a product or category), ``quantity`` (the
    counted lines' quantities, 1 when a line has none) or ``amount`` (without a product or
    category the orders' totals, else the counted lines' price times quantity; to the cent).
    Without ``gte`` and ``lte`` the measure must be above 0: "bought shoes".
    """

    kind: Literal["bought"] = "bought"
    product: str | None = Field(default=None, min_length=1, max_length=200)
    category: str | None = Field(default=None, min_length=1, max_length=200)
    measure: Literal["orders", "quantity", "amount"] = "orders"
    within_days: int | None = Field(default=None, ge=1)
    gte: FiniteFloat | None = Field(default=None, ge=0)
    lte: FiniteFloat | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        _check_range("bought", self.gte, self.lte, required=False)
        return self

    def in_range(self, measured: float) -> bool:
        """Whether the measured figure passes the condition's bounds."""
        if self.gte is None and self.lte is None:
            return measured > 0
        return (self.gte is None or measured >= self.gte) and (
            self.lte is None or measured <= self.lte
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


class LoyaltyPointsCondition(_Spec):
    """The contact's loyalty points balance now is within ``gte``..``lte`` (whole points,
    both inclusive, at least one given); a contact without a ledger entry has 0 points."""

    kind: Literal["loyalty_points"] = "loyalty_points"
    gte: int | None = Field(default=None, ge=0)
    lte: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        _check_range("loyalty_points", self.gte, self.lte, required=True)
        return self


class NextBestCondition(_Spec):
    """The contact's next-best suggestions of the latest affinity run (``contact_next_best``,
    see :mod:`lealta.affinity.next_best`) hold ``category`` (a run by category) or
    ``product`` (a run by product, its ``product_id``) among their first ``top`` ranks (1:
    it is *the* next-best item). Exactly one of ``category`` and ``product``; names match
    exactly. A contact without suggestions does not match."""

    kind: Literal["next_best"] = "next_best"
    category: str | None = Field(default=None, min_length=1, max_length=200)
    product: str | None = Field(default=None, min_length=1, max_length=200)
    top: int = Field(default=1, ge=1, le=100)

    @model_validator(mode="after")
    def _one_item(self) -> Self:
        if (self.category is None) == (self.product is None):
            raise ValueError("next_best condition: give category or product (one of them)")
        return self

    @property
    def wanted(self) -> tuple[str, str]:
        """The suggestion wanted: (``category`` or ``product``, the item)."""
        if self.category is not None:
            return "category", self.category
        assert self.product is not None  # one of them, checked at validation
        return "product", self.product

    def holds(self, suggested: Sequence[tuple[str, str]]) -> bool:
        """Whether ``suggested`` ((kind, item) pairs, best rank first) has it in its top."""
        return self.wanted in suggested[: self.top]


class AudienceCondition(_Spec):
    """The contact is a member of the saved audience named ``audience`` (as of its latest
    refresh)."""

    kind: Literal["audience"] = "audience"
    audience: str = Field(min_length=1, max_length=100)


class AllOf(_Spec):
    """Every condition holds (true when there are none)."""

    kind: Literal["all"] = "all"
    conditions: list[ConditionSpec]


class AnyOf(_Spec):
    """At least one condition holds (false when there are none)."""

    kind: Literal["any"] = "any"
    conditions: list[ConditionSpec]


class Not(_Spec):
    """The condition does not hold."""

    kind: Literal["not"] = "not"
    condition: ConditionSpec


ConditionSpec = Annotated[
    AttributeCondition
    | TagCondition
    | ListCondition
    | StageCondition
    | ScoreCondition
    | SegmentCondition
    | ClusterCondition
    | RfmCondition
    | ConsentCondition
    | EventCountCondition
    | MessageCondition
    | PurchasedSinceEntered
    | BoughtCondition
    | LoyaltyTierCondition
    | LoyaltyPointsCondition
    | AudienceCondition
    | PredictionCondition
    | NextBestCondition
    | AllOf
    | AnyOf
    | Not,
    Field(discriminator="kind"),
]
for _model in (AllOf, AnyOf, Not):
    _model.model_rebuild()

_ADAPTER: TypeAdapter[ConditionSpec] = TypeAdapter(ConditionSpec)


def parse(data: Any, *, field: str = "condition") -> ConditionSpec:
    """A condition from stored or submitted data; ``InvalidInput`` naming ``field`` and the
    place in the tree of the first problem."""
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise InvalidInput(f"{field}: {describe_errors(exc)}", field=field) from None


def dump(condition: ConditionSpec) -> dict[str, Any]:
    """``condition`` as JSON-ready data that :func:`parse` reads back."""
    dumped: dict[str, Any] = _ADAPTER.dump_python(
        condition, mode="json", by_alias=True, exclude_none=True
    )
    return dumped


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a condition document."""
    return _ADAPTER.json_schema(by_alias=True)


def walk(condition: Any) -> Iterator[Any]:
    """Every node of ``condition``, the root first then depth first."""
    pending = [condition]
    while pending:
        current = pending.pop()
        yield current
        if isinstance(current, AllOf | AnyOf):
            pending.extend(reversed(current.conditions))
        elif isinstance(current, Not):
            pending.append(current.condition)


def leaves(condition: Any) -> Iterator[Any]:
    """The tests of ``condition``: every node but ``all``, ``any`` and ``not``, in
    :func:`walk`'s order."""
    return (node for node in walk(condition) if not isinstance(node, AllOf | AnyOf | Not))


def run_only(condition: Any) -> list[str]:
    """The tests in ``condition`` that need a workflow run's entry time (named in words);
    empty when it can be tested outside a workflow (an audience)."""
    found = []
    for node in walk(condition):
        if isinstance(node, PurchasedSinceEntered):
            found.append("purchased_since_entered")
        elif isinstance(node, EventCountCondition) and node.since_entered:
            found.append(f"event_count of {node.event!r} with since_entered")
    return found


def unknown_tiers(condition: Any, tier_names: Sequence[str]) -> list[str]:
    """The tier names ``condition`` (and the conditions inside it) mentions that are not
    among ``tier_names`` (case-insensitive), for a clear refusal when a workflow is saved."""
    known = {name.casefold() for name in tier_names}
    return [
        name
        for node in walk(condition)
        if isinstance(node, LoyaltyTierCondition)
        for name in node.names()
        if name.casefold() not in known
    ]


def audiences_named(condition: Any) -> list[str]:
    """The saved audiences ``condition`` tests membership of, in order of appearance."""
    return list(
        dict.fromkeys(
            node.audience for node in walk(condition) if isinstance(node, AudienceCondition)
        )
    )
