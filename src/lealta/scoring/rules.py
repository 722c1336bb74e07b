"""Lead-scoring rules as data: the event fed to rules, conditions, rules and the model. Pure.

Rules are pydantic models so that a shop can keep them in YAML or JSON::

    half_life_days: 30
    max_score: 100
    thresholds: [25, 50, 75]
    rules:
      - id: pricing-page
        type: page
        where: [{property: url, op: matches, value: "*/pricing*"}]
        points: 5
        max_points_per_period: 20
        period_days: 7

``Condition`` and ``EventRule`` are shared with :mod:`lealta.lifecycle`: there is one
implementation of event matching.
"""

from __future__ import annotations

import fnmatch
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, Literal, Self, TypeVar

from pydantic import (
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

from lealta.errors import InvalidInput
from lealta.yaml_input import load_yaml

Op = Literal[
    "equals",
    "not_equals",
    "contains",
    "starts_with",
    "ends_with",
    "matches",
    "regex",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "exists",
]

_SLUG = r"^[a-z0-9][a-z0-9_-]*$"
_NUMERIC_TEXT = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_COMPARISONS = ("gt", "gte", "lt", "lte")
_TEXT_OPS = ("starts_with", "ends_with", "matches", "regex")


@dataclass(frozen=True, slots=True)
class ScoringEvent:
    """One event as scoring and lifecycle rules see it.

    ``key`` is the event's unique id (the message id). ``occurred_at`` must be timezone-aware;
    it is converted to UTC. For ``identify`` events the traits arrive as ``properties``.
    """

    key: str
    occurred_at: datetime
    type: str
    name: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is UTC:  # already UTC (the processor's times): as it is
            return
        if self.occurred_at.utcoffset() is None:
            raise InvalidInput(
                f"event {self.key!r}: occurred_at must be timezone-aware", field="occurred_at"
            )
        object.__setattr__(self, "occurred_at", self.occurred_at.astimezone(UTC))


def property_value(properties: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` in ``properties``, or None when it is absent.

    Parameters
    ----------
    properties
        The event's properties (or an identify's traits).
    path
        ``"url"``, ``"product.category"`` or ``"products.0.sku"`` (digits index lists).
        A key that itself contains dots is found when it is present as written.

    Returns
    -------
    Any
        The value, or None when any step is missing. A JSON ``null`` counts as absent.
    """
    if path in properties:
        return properties[path]
    current: Any = properties
    for part in path.split("."):
        if isinstance(current, Mapping):
            if part not in current:
                return None
            current = current[part]
        elif isinstance(current, Sequence) and not isinstance(current, str) and part.isdigit():
            index = int(part)
            if index >= len(current):
                return None
            current = current[index]
        else:
            return None
    return current


def as_number(value: Any) -> float | None:
    """``value`` as a float when it is a number or a numeric string, else None.

    Booleans are not numbers here, and neither are ``"nan"``, ``"inf"`` or ``"1_000"``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str) and _NUMERIC_TEXT.match(value.strip()):
        return float(value.strip())
    return None


def _same(actual: Any, expected: Any) -> bool:
    """Equality where ``"49.90"`` equals ``49.9`` but ``True`` does not equal ``1``."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if actual == expected:
        return True
    if isinstance(actual, str) and isinstance(expected, str):
        return False
    left, right = as_number(actual), as_number(expected)
    return left is not None and right is not None and left == right


class Condition(BaseModel):
    """One test on an event property; see the module docstring for the operators.

    A missing (or null) property makes every condition false except ``exists`` with value
    ``false``. ``gt``/``gte``/``lt``/``lte`` compare numbers, reading numeric strings such as
    ``"49.90"``; anything else is false. ``matches`` is a glob (``"*/pricing*"``), ``regex``
    searches anywhere in the text, ``in`` takes a list, ``contains`` also tests list members.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    property: str = Field(min_length=1)
    op: Op
    value: Any = None

    _pattern: re.Pattern[str] | None = PrivateAttr(default=None)
    _number: float | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_value(self) -> Self:
        op, value = self.op, self.value
        where = f"condition on {self.property!r}"
        if op == "exists":
            if value is not None and not isinstance(value, bool):
                raise ValueError(f"{where}: exists takes true or false, not {value!r}")
        elif op in _COMPARISONS:
            number = as_number(value)
            if number is None or math.isnan(number):
                raise ValueError(f"{where}: {op} needs a number, not {value!r}")
            self._number = number
        elif op == "in":
            if not isinstance(value, list):
                raise ValueError(f"{where}: in needs a list, not {value!r}")
        elif op in _TEXT_OPS:
            if not isinstance(value, str):
                raise ValueError(f"{where}: {op} needs a text value, not {value!r}")
            if op == "regex":
                try:
                    self._pattern = re.compile(value)
                except re.error as exc:
                    raise ValueError(f"{where}: invalid regex {value!r}: {exc}") from None
        elif value is None:
            raise ValueError(f"{where}: {op} needs a value")
        return self

    def holds(self, properties: Mapping[str, Any]) -> bool:
        """Whether the condition is true of ``properties``.

        Parameters
        ----------
        properties
            The event's properties (or an identify's traits).

        Returns
        -------
        bool
            True when the property satisfies the operator.
        """
        actual = property_value(properties, self.property)
        if self.op == "exists":
            return (actual is not None) == (self.value is not False)
        if actual is None:
            return False
        return self._test(actual)

    def _test(self, actual: Any) -> bool:
        op, value = self.op, self.value
        if op == "equals":
            return _same(actual, value)
        if op == "not_equals":
            return not _same(actual, value)
        if op == "in":
            return any(_same(actual, item) for item in value)
        if op == "contains":
            if isinstance(actual, str):
                return isinstance(value, str) and value in actual
            if isinstance(actual, Sequence):
                return any(_same(item, value) for item in actual)
            return False
        if op in _COMPARISONS:
            return self._compare(as_number(actual))
        if not isinstance(actual, str):
            return False
        if op == "starts_with":
            return actual.startswith(value)
        if op == "ends_with":
            return actual.endswith(value)
        if op == "matches":
            return fnmatch.fnmatchcase(actual, value)
        assert self._pattern is not None  # op == "regex", compiled at validation
        return self._pattern.search(actual) is not None

    def _compare(self, number: float | None) -> bool:
        limit = self._number
        if number is None or limit is None:
            return False
        if self.op == "gt":
            return number > limit
        if self.op == "gte":
            return number >= limit
        if self.op == "lt":
            return number < limit
        return number <= limit


def conditions_hold(conditions: Sequence[Condition], properties: Mapping[str, Any]) -> bool:
    """Whether every condition holds of ``properties`` (true when there are none).

    Parameters
    ----------
    conditions
        The conditions, all of which must hold.
    properties
        The event's properties (or an identify's traits).

    Returns
    -------
    bool
        True when all conditions hold.
    """
    return all(condition.holds(properties) for condition in conditions)


def describe_errors(error: ValidationError) -> str:
    """A one-line account of a pydantic validation error: ``where: what; where: what``.

    Parameters
    ----------
    error
        The pydantic error.

    Returns
    -------
    str
        Each problem as ``location: message``, without pydantic's ``Value error,`` prefixes.
    """
    parts = []
    for problem in error.errors():
        context = problem.get("ctx") or {}
        message = str(context["error"]) if "error" in context else problem["msg"]
        location = ".".join(str(step) for step in problem["loc"])
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)


class RuleBase(BaseModel):
    """What every rule has: a slug ``id``; field errors inside a rule are reported with its id.

    Subclasses' own ``mode="after"`` checks run outside that wrapper: their messages name the
    rule themselves.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_SLUG, max_length=64)
    description: str = ""

    @model_validator(mode="wrap")
    @classmethod
    def _errors_name_the_rule(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        try:
            return handler(data)
        except ValidationError as exc:
            rule_id = data.get("id") if isinstance(data, Mapping) else None
            if not isinstance(rule_id, str):
                raise
            raise ValueError(f"rule {rule_id!r}: {describe_errors(exc)}") from None


class EventRule(RuleBase):
    """A rule that matches events by name, type and conditions.

    ``event``/``events`` are names compared case-insensitively (any of them; none given means
    any name); ``type``/``types`` likewise for the event type; every ``where`` must hold.
    """

    event: str | None = None
    events: list[str] = []
    type: str | None = None
    types: list[str] = []
    where: list[Condition] = []

    _names: frozenset[str] = PrivateAttr(default=frozenset())
    _types: frozenset[str] = PrivateAttr(default=frozenset())

    @model_validator(mode="after")
    def _fold_names(self) -> Self:
        names = [*self.events, *([self.event] if self.event is not None else [])]
        kinds = [*self.types, *([self.type] if self.type is not None else [])]
        self._names = frozenset(name.casefold() for name in names)
        self._types = frozenset(kind.casefold() for kind in kinds)
        return self

    def matches(self, event: ScoringEvent) -> bool:
        """Whether ``event`` has a wanted name and type and satisfies every condition.

        Parameters
        ----------
        event
            The event.

        Returns
        -------
        bool
            True when the rule applies to the event (caps and stages aside).
        """
        if not self.named(name_and_type(event)):
            return False
        where = self.where
        return not where or conditions_hold(where, event.properties)

    def named(self, folded: tuple[str | None, str]) -> bool:
        """Whether the rule wants events of this (name, type), both case-folded (the name
        None when the event has none); its ``where`` conditions aside."""
        # Read the private state in one lookup: pydantic's attribute hook is slow on a hot path.
        private: dict[str, Any] = self.__pydantic_private__ or {}
        names = private["_names"]
        name, kind = folded
        if names and (name is None or name not in names):
            return False
        kinds = private["_types"]
        return not kinds or kind in kinds


R = TypeVar("R", bound=EventRule)


class RuleIndex(Generic[R]):
    """The rules of an ordered list an event matches, in order, without testing every rule:
    the rules wanting an event's (name, type) are found once per distinct pair and kept, so
    only their ``where`` conditions are checked per event. Pure; holds no event."""

    LIMIT = 10_000  # distinct (name, type) pairs kept; past it the index starts over

    def __init__(self, rules: Sequence[R]) -> None:
        self._rules = tuple(rules)
        self._named: dict[tuple[str | None, str], tuple[R, ...]] = {}

    def __eq__(self, other: object) -> bool:  # models holding one compare by their rules
        return isinstance(other, RuleIndex) and other._rules == self._rules

    __hash__ = None  # type: ignore[assignment]

    def named(self, event: ScoringEvent) -> tuple[R, ...]:
        """The rules that want ``event``'s name and type, in order (conditions unchecked)."""
        # by the name and type as written first: folding them costs more than the lookup
        found = self._named.get((event.name, event.type))
        if found is None:
            if len(self._named) >= self.LIMIT:
                self._named.clear()
            folded = name_and_type(event)
            found = tuple(rule for rule in self._rules if rule.named(folded))
            self._named[(event.name, event.type)] = found
        return found

    def matching(self, event: ScoringEvent) -> list[R]:
        """The rules ``event`` matches (name, type and conditions), in order."""
        properties = event.properties
        return [
            rule
            for rule in self.named(event)
            if not rule.where or conditions_hold(rule.where, properties)
        ]


def name_and_type(event: ScoringEvent) -> tuple[str | None, str]:
    """The event's name (None when it has none) and type, case-folded, as rules compare them."""
    return (event.name.casefold() if event.name is not None else None, event.type.casefold())


class ScoringRule(EventRule):
    """Points for matching events, with optional lifetime and per-period caps.

    ``max_times`` caps how often the rule scores per contact, ever. ``max_points_per_period``
    with ``period_days`` caps the absolute points it gives within each fixed period bucket
    (``floor(epoch_seconds / (period_days * 86400))``); the last award in a bucket may be partial.
    """

    points: FiniteFloat
    max_times: int | None = Field(default=None, ge=1)
    max_points_per_period: FiniteFloat | None = Field(default=None, gt=0)
    period_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check_caps(self) -> Self:
        if self.points == 0:
            raise ValueError(f"rule {self.id!r}: points must not be zero")
        if (self.max_points_per_period is None) != (self.period_days is None):
            raise ValueError(
                f"rule {self.id!r}: give both max_points_per_period and period_days, or neither"
            )
        return self


class ScoringModel(BaseModel):
    """A set of scoring rules, applied in order, plus decay, bounds and thresholds.

    ``half_life_days``: a contribution's weight halves every so many days (None: no decay).
    ``max_score``/``min_score`` clamp the score. ``thresholds`` are reported when crossed upward.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[ScoringRule]
    half_life_days: FiniteFloat | None = Field(default=None, gt=0)
    max_score: FiniteFloat | None = None
    min_score: FiniteFloat | None = None
    thresholds: list[FiniteFloat] = []

    _index: RuleIndex[ScoringRule] = PrivateAttr(default_factory=lambda: RuleIndex(()))

    @field_validator("thresholds")
    @classmethod
    def _sort_thresholds(cls, thresholds: list[float]) -> list[float]:
        ordered = sorted(thresholds)
        for lower, upper in itertools.pairwise(ordered):
            if lower == upper:
                raise ValueError(f"threshold {lower:g} is given twice")
        return ordered

    @model_validator(mode="after")
    def _check_model(self) -> Self:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)
        low, high = self.min_score, self.max_score
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_score {low:g} is above max_score {high:g}")
        self._index = RuleIndex(self.rules)
        return self

    def named(self, event: ScoringEvent) -> tuple[ScoringRule, ...]:
        """The rules wanting ``event``'s name and type, in model order (conditions unchecked)."""
        # the private state read directly: pydantic's attribute hook is slow on a hot path
        return self.__pydantic_private__["_index"].named(event)  # type: ignore[no-any-return,index]

    def matching(self, event: ScoringEvent) -> list[ScoringRule]:
        """The rules ``event`` matches, in model order."""
        # the private state read directly: pydantic's attribute hook is slow on a hot path
        return self.__pydantic_private__["_index"].matching(event)  # type: ignore[no-any-return,index]

    @classmethod
    def default(cls) -> ScoringModel:
        """The rules a shop would ship with: engagement, intent and purchases.

        Returns
        -------
        ScoringModel
            Pricing pages, page views, downloads, e-mail clicks, forms, webinars, carts and
            checkouts, big orders and unsubscribes; 30-day half-life, 0..100, thresholds
            25/50/75. A pricing page view also counts as a page view.
        """
        return cls(
            half_life_days=30,
            max_score=100,
            thresholds=[25, 50, 75],
            rules=[
                ScoringRule(
                    id="pricing-page",
                    description="Viewed a pricing page",
                    type="page",
                    where=[Condition(property="url", op="matches", value="*/pricing*")],
                    points=5,
                    max_points_per_period=20,
                    period_days=7,
                ),
                ScoringRule(
                    id="page-view",
                    description="Viewed any page",
                    type="page",
                    points=1,
                    max_points_per_period=10,
                    period_days=1,
                ),
                ScoringRule(
                    id="file-downloaded",
                    description="Downloaded a file",
                    event="File Downloaded",
                    points=10,
                    max_times=3,
                ),
                ScoringRule(id="email-clicked", event="Email Clicked", points=3),
                ScoringRule(id="form-submitted", event="Form Submitted", points=15),
                ScoringRule(id="webinar-attended", event="Webinar Attended", points=20),
                ScoringRule(
                    id="cart-or-checkout",
                    description="Abandoned a cart or started a checkout",
                    events=["Cart Abandoned", "Checkout Started"],
                    points=10,
                ),
                ScoringRule(
                    id="big-order",
                    description="Completed an order of 100 or more",
                    event="Order Completed",
                    where=[Condition(property="total", op="gte", value=100)],
                    points=25,
                ),
                ScoringRule(id="unsubscribed", event="Unsubscribed", points=-20),
            ],
        )


M = TypeVar("M", bound=BaseModel)


def load_document(kind: type[M], source: str | Mapping[str, Any]) -> M:
    """Validate a YAML/JSON text or an already parsed mapping as a ``kind`` model.

    Parameters
    ----------
    kind
        The pydantic model class, e.g. ``ScoringModel``.
    source
        YAML or JSON text, or a mapping.

    Returns
    -------
    M
        The validated model.

    Raises
    ------
    InvalidInput
        When the text does not parse or the document is not a valid ``kind``; the message
        names each problem and, inside a rule, the rule id.
    """
    data: Any = source
    if isinstance(source, str):
        data = load_yaml(source)
    if not isinstance(data, Mapping):
        raise InvalidInput(f"a {kind.__name__} must be a mapping, not {type(data).__name__}")
    try:
        return kind.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]["loc"] if exc.errors() else ()
        raise InvalidInput(
            f"invalid {kind.__name__}: {describe_errors(exc)}",
            field=str(first[0]) if first else None,
        ) from exc


def load_model(source: str | Mapping[str, Any]) -> ScoringModel:
    """A scoring model from YAML/JSON text or a mapping.

    Parameters
    ----------
    source
        YAML or JSON text, or a mapping with ``rules`` and the model's other fields.

    Returns
    -------
    ScoringModel
        The validated model.

    Raises
    ------
    InvalidInput
        When the text does not parse or the model is invalid.
    """
    return load_document(ScoringModel, source)
