"""The loyalty programme as versioned data: tiers, how to qualify, benefits, status rules. Pure.

A programme is YAML or JSON validated by pydantic (the JSON Schema is :func:`json_schema`;
``examples/genius.yaml`` is a complete one)::

    version: 1
    name: Friends of the shop
    best: 5                 # scores as Lealta computes them (5 = best); 1 = best also works
    window_days: 365        # default window of the orders, spend and points rules
    eligibility: {score_sum: 5}
    tiers:                  # lowest first
      - name: Member        # the lowest tier may omit qualify: every eligible customer
        benefits: [{type: free_shipping, code: FREESHIP, min_order: 50}]
      - name: Gold
        qualify: {any: [{score_sum: 12}, {spend: 1000}]}
        benefits: [{type: percent_discount, code: GOLD10, percent: 10}]

An optional ``points:`` section adds a points ledger (earning per currency unit with tier
multipliers, bonus points for events, expiry, redemption into vouchers): see
:class:`PointsRules` and :mod:`lealta.loyalty.points`.

A customer below the ``eligibility`` rule is in no tier. Among eligible customers, tiers are
tried from the highest down; the first whose ``qualify`` rule holds is the customer's tier.
Qualifying rules are described in :mod:`lealta.loyalty.rules`, benefits in
:mod:`lealta.loyalty.benefits`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lealta.errors import InvalidInput
from lealta.loyalty.benefits import BENEFIT_TYPES, Benefit, BenefitModel
from lealta.loyalty.rules import (
    RULE_KINDS,
    Leaf,
    PointsRule,
    QualifyingRule,
    Rule,
    ScoresRule,
    ScoreSumRule,
    leaves,
    points_windows,
    windows,
)
from lealta.scoring.rules import Condition
from lealta.yaml_input import load_yaml

Name = Annotated[str, Field(min_length=1, max_length=64)]
DIMENSIONS = {"rfm": ("r", "f", "m"), "rfmp": ("r", "f", "m", "p")}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(_Model):
    """One status tier: its name, how a customer qualifies, and what members get."""

    name: Name
    description: str = Field(default="", max_length=500)
    qualify: Rule | None = Field(
        default=None,
        description="How an eligible customer reaches the tier; only the lowest tier may "
        "omit it (every eligible customer is in it).",
    )
    benefits: list[Benefit] = Field(default_factory=list, max_length=50)


class StatusRules(_Model):
    """How long a reached tier is kept and how a customer falls (applied at each review).

    ``keep_days`` or ``keep_until`` (not both) keep a tier once reached; without either a
    tier lasts as long as the customer qualifies. ``grace_days`` more pass before a
    downgrade takes effect, and a review takes a customer down ``max_steps_down`` tiers at
    most (``null``: straight to the tier they qualify for).
    """

    keep_days: int | None = Field(default=None, ge=1, le=3660)
    keep_until: Literal["end_of_year", "end_of_next_year"] | None = None
    grace_days: int = Field(default=0, ge=0, le=365)
    max_steps_down: int | None = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _one_way_to_keep(self) -> Self:
        if self.keep_days is not None and self.keep_until is not None:
            raise ValueError("give keep_days or keep_until, not both")
        return self

    def kept_until(self, reached: dt.date) -> dt.date | None:
        """The last day a tier reached on ``reached`` is kept whatever happens (None: no
        guarantee; the tier lasts while the customer qualifies)."""
        if self.keep_days is not None:
            return reached + dt.timedelta(days=self.keep_days - 1)
        if self.keep_until == "end_of_year":
            return dt.date(reached.year, 12, 31)
        if self.keep_until == "end_of_next_year":
            return dt.date(reached.year + 1, 12, 31)
        return None


class BonusRule(_Model):
    """Bonus points for an event (a review, a referral, an app opening …), with caps.

    Caps count the points this rule gave the contact on the event's day (UTC), in its
    calendar month, and ever; an event that would pass a cap gets what is left under it.
    """

    event: Name = Field(description="The event's name, e.g. 'Review Submitted'.")
    name: Name | None = Field(
        default=None, description="The rule's name in the ledger and caps (default: the event)."
    )
    where: list[Condition] = Field(
        default_factory=list,
        max_length=20,
        description="Conditions on the event's properties, as in workflow triggers.",
    )
    points: int = Field(ge=1, le=1_000_000, description="Points per event.")
    max_per_day: int | None = Field(default=None, ge=1, description="Points cap per day.")
    max_per_month: int | None = Field(default=None, ge=1, description="Points cap per month.")
    max_lifetime: int | None = Field(default=None, ge=1, description="Points cap ever.")

    @property
    def label(self) -> str:
        """The rule's name (its event's when none is given)."""
        return self.name or self.event


class RedeemOption(_Model):
    """What a customer may turn points into: a voucher of the existing vouchers module."""

    code: Name = Field(description="The option's code, named in a redemption (e.g. 'EUR5').")
    points: int = Field(ge=1, le=100_000_000, description="Points the voucher costs.")
    kind: Literal["amount", "percent", "free_shipping"] = Field(
        description="The voucher: an amount off, a percentage off, or free shipping."
    )
    value: float = Field(
        default=0, ge=0, le=1_000_000, description="Amount (programme currency) or percent."
    )
    valid_days: int | None = Field(
        default=None, ge=1, le=3660, description="The voucher expires this many days after."
    )

    @model_validator(mode="after")
    def _value_fits(self) -> Self:
        if self.kind == "percent" and not 0 < self.value <= 100:
            raise ValueError("a percent voucher's value is above 0 and at most 100")
        if self.kind == "amount" and self.value <= 0:
            raise ValueError("an amount voucher's value must be above 0")
        return self


class PointsRules(_Model):
    """The points ledger's rules: earning, bonuses, expiry, redemption, the value of a point."""

    per_unit: float = Field(
        default=1, gt=0, le=1000, description="Points per currency unit of an order (floored)."
    )
    multipliers: dict[str, float] = Field(
        default_factory=dict,
        description="Per tier name: the earning multiplier of its members (default 1).",
    )
    bonuses: list[BonusRule] = Field(default_factory=list, max_length=50)
    expire_after_days: int | None = Field(
        default=None, ge=1, le=3660, description="Earned points expire after (none: never)."
    )
    warn_days: int = Field(
        default=30,
        ge=0,
        le=365,
        description="'Loyalty Points Expiring' this many days before points expire.",
    )
    redeem: list[RedeemOption] = Field(default_factory=list, max_length=50)
    min_balance: int = Field(
        default=0, ge=0, description="A redemption needs at least this balance before it."
    )
    point_value: float = Field(
        default=0.01,
        ge=0,
        le=1000,
        description="What one point is worth in the programme currency (the liability report).",
    )
    earn_lookback_days: int = Field(
        default=30,
        ge=1,
        le=3660,
        description="Orders placed (and events that occurred) more than this many days ago "
        "earn nothing: switching points on does not credit years of history.",
    )

    def option(self, code: str) -> RedeemOption:
        """The redemption option called ``code`` (case-insensitive).

        Raises
        ------
        InvalidInput
            When there is none (``field="option"``).
        """
        for option in self.redeem:
            if option.code.casefold() == code.casefold():
                return option
        known = ", ".join(o.code for o in self.redeem) or "none"
        raise InvalidInput(
            f"no redemption option {code!r}; the options are {known}", field="option"
        )

    def multiplier(self, tier: str | None) -> float:
        """The earning multiplier of a member of ``tier`` (1 for no tier or none set)."""
        if tier is None:
            return 1.0
        for name, factor in self.multipliers.items():
            if name.casefold() == tier.casefold():
                return factor
        return 1.0


class _Placed(ValueError):
    """A programme-wide problem found at ``where`` (a path such as ``tiers[Gold].qualify``)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where


class LoyaltyProgram(_Model):
    """The whole programme; see the module docstring."""

    version: Literal[1] = 1
    name: Name
    description: str = Field(default="", max_length=2000)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$", description="ISO 4217 code.")
    best: Literal[5, 1] = Field(
        default=5, description="Which score is best in this document: 5 (Lealta's) or 1."
    )
    dimensions: Literal["rfm", "rfmp"] = Field(
        default="rfm", description="Scores summed into the score sum: RFM, or RFMP."
    )
    levels: int = Field(default=5, ge=2, le=10, description="Score levels per dimension.")
    window_days: int = Field(
        default=365,
        ge=1,
        le=3660,
        description="Default window of the orders, spend and points rules.",
    )
    eligibility: Rule | None = Field(
        default=None, description="Below this a customer is in no tier (none: everyone)."
    )
    tiers: list[Tier] = Field(min_length=1, max_length=20, description="Lowest tier first.")
    benefits_accumulate: bool = Field(
        default=True,
        description="A tier also gives the benefits of the tiers below it; a benefit of the "
        "same type replaces the lower one.",
    )
    status: StatusRules = StatusRules()
    points: PointsRules | None = Field(
        default=None, description="The points ledger (none: the programme has no points)."
    )

    @model_validator(mode="after")
    def _check_programme(self) -> Self:
        seen: set[str] = set()
        for index, tier in enumerate(self.tiers):
            key = tier.name.casefold()
            if key in seen:
                raise _Placed(f"tiers[{index}].name", f"duplicate tier name {tier.name!r}")
            seen.add(key)
            if tier.qualify is None and index > 0:
                raise _Placed(
                    f"tiers[{tier.name}].qualify",
                    "only the lowest tier may leave out qualify (every eligible customer)",
                )
        for leaf, where in self._leaves():
            self._check_scores(leaf, where)
            if isinstance(leaf, PointsRule) and self.points is None:
                raise _Placed(
                    f"{where}.points",
                    "a points rule needs the programme's points ledger: add a `points:` "
                    "section (`points: {}` earns 1 point per currency unit)",
                )
        self._check_codes()
        if self.points is not None:
            self._check_points(self.points)
        return self

    def _check_points(self, points: PointsRules) -> None:
        names = {name.casefold() for name in self.tier_names()}
        for tier, factor in points.multipliers.items():
            if tier.casefold() not in names:
                raise _Placed(f"points.multipliers.{tier}", f"no tier {tier!r}")
            if not 0 <= factor <= 100:
                raise _Placed(f"points.multipliers.{tier}", "a multiplier is 0 to 100")
        codes: set[str] = set()
        for index, option in enumerate(points.redeem):
            if option.code.casefold() in codes:
                raise _Placed(f"points.redeem[{index}].code", f"{option.code!r} appears twice")
            codes.add(option.code.casefold())
        rules: set[str] = set()
        for index, bonus in enumerate(points.bonuses):
            if bonus.label.casefold() in rules:
                raise _Placed(
                    f"points.bonuses[{index}].name",
                    f"two bonus rules are called {bonus.label!r}; name them apart",
                )
            rules.add(bonus.label.casefold())

    def _leaves(self) -> Iterator[tuple[Leaf, str]]:
        if self.eligibility is not None:
            yield from leaves(self.eligibility, "eligibility")
        for tier in self.tiers:
            if tier.qualify is not None:
                yield from leaves(tier.qualify, f"tiers[{tier.name}].qualify")

    def _check_scores(self, leaf: Leaf, where: str) -> None:
        dims = DIMENSIONS[self.dimensions]
        if isinstance(leaf, ScoreSumRule):
            low, high = self.score_sum_range
            if not low <= leaf.score_sum <= high:
                raise _Placed(
                    f"{where}.score_sum",
                    f"{leaf.score_sum} is outside {low}..{high}, the score sums of "
                    f"{self.dimensions.upper()} with {self.levels} levels",
                )
        elif isinstance(leaf, ScoresRule):
            for dim, score in leaf.scores.items():
                if dim not in dims:
                    raise _Placed(
                        f"{where}.scores.{dim}",
                        "a payment score needs dimensions: rfmp",
                    )
                if not 1 <= score <= self.levels:
                    raise _Placed(
                        f"{where}.scores.{dim}", f"{score} is outside the scores 1..{self.levels}"
                    )

    def _check_codes(self) -> None:
        first: dict[str, tuple[str, BenefitModel]] = {}
        for tier in self.tiers:
            codes: set[str] = set()
            for index, benefit in enumerate(tier.benefits):
                where = f"tiers[{tier.name}].benefits[{index}].code"
                if benefit.code in codes:
                    raise _Placed(where, f"code {benefit.code!r} appears twice in the tier")
                codes.add(benefit.code)
                earlier = first.setdefault(benefit.code, (tier.name, benefit))
                if earlier[1] != benefit:
                    raise _Placed(
                        where,
                        f"code {benefit.code!r} means a different benefit in tier "
                        f"{earlier[0]!r}; one code, one benefit",
                    )

    @property
    def dimension_names(self) -> tuple[str, ...]:
        """The scored dimensions: ``("r", "f", "m")`` or with ``"p"``."""
        return DIMENSIONS[self.dimensions]

    @property
    def score_sum_range(self) -> tuple[int, int]:
        """The lowest and highest possible score sum."""
        count = len(self.dimension_names)
        return count, count * self.levels

    def tier_names(self) -> list[str]:
        """The tiers' names, lowest first."""
        return [tier.name for tier in self.tiers]

    def tier(self, name: str) -> Tier:
        """The tier called ``name`` (case-insensitive).

        Raises
        ------
        InvalidInput
            When the programme has no such tier.
        """
        for tier in self.tiers:
            if tier.name.casefold() == name.casefold():
                return tier
        known = ", ".join(self.tier_names())
        raise InvalidInput(f"no tier {name!r}; the tiers are {known}", field="tier")

    def windows(self) -> list[int]:
        """Every window length (days) that orders and spend rules read, ascending."""
        rules = [t.qualify for t in self.tiers if t.qualify is not None]
        if self.eligibility is not None:
            rules.append(self.eligibility)
        found: set[int] = set()
        for rule in rules:
            found |= windows(rule, self.window_days)
        return sorted(found)

    def points_windows(self) -> list[int]:
        """Every window length (days) that points rules read, ascending."""
        found: set[int] = set()
        for rule in self._rules():
            found |= points_windows(rule, self.window_days)
        return sorted(found)

    def points_rule_places(self) -> list[str]:
        """Where the programme's points rules are written (``tiers[Gold].qualify.points``)."""
        return [f"{where}.points" for leaf, where in self._leaves() if isinstance(leaf, PointsRule)]

    def _rules(self) -> list[QualifyingRule]:
        rules = [t.qualify for t in self.tiers if t.qualify is not None]
        return [*rules, self.eligibility] if self.eligibility is not None else rules

    def benefits_of(self, name: str) -> list[BenefitModel]:
        """What members of tier ``name`` get, the lower tiers' benefits included when they
        accumulate (a higher tier's benefit replaces lower ones of the same type)."""
        target = self.tier(name)
        if not self.benefits_accumulate:
            return list(target.benefits)
        kept: list[BenefitModel] = []
        for tier in self.tiers:
            types = {b.type for b in tier.benefits}
            kept = [b for b in kept if b.type not in types] + list(tier.benefits)
            if tier is target:
                break
        return kept

    def to_lealta_score(self, score: int) -> int:
        """A score threshold of this programme in Lealta's 5 = best convention."""
        return score if self.best == 5 else self.levels + 1 - score

    def to_lealta_sum(self, total: int) -> int:
        """A score sum threshold of this programme in Lealta's 5 = best convention."""
        low, high = self.score_sum_range
        return total if self.best == 5 else low + high - total


def load_program(source: str | Mapping[str, Any]) -> LoyaltyProgram:
    """A loyalty programme from YAML/JSON text or a parsed mapping.

    Raises
    ------
    InvalidInput
        When the text does not parse or the programme is invalid. The message lists every
        problem as ``where: what`` (``tiers[Gold].qualify.score_sum: …``); ``field`` is the
        first problem's place.
    """
    data: Any = load_yaml(source, field="program") if isinstance(source, str) else source
    if not isinstance(data, Mapping):
        kind = "an empty document" if data is None else type(data).__name__
        raise InvalidInput(f"a loyalty programme must be a mapping, not {kind}", field="program")
    try:
        return LoyaltyProgram.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(error, data) for error in exc.errors()]
        text = "; ".join(f"{where}: {what}" if where else what for where, what in problems)
        raise InvalidInput(
            f"invalid loyalty programme: {text}", field=problems[0][0] or "program"
        ) from None


def _problem(error: Any, data: Mapping[str, Any]) -> tuple[str, str]:
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, _Placed):
        return cause.where, str(cause).removeprefix(f"{cause.where}: ")
    message = str(cause) if cause is not None else error["msg"]
    return _place(error["loc"], data), message


def _place(loc: tuple[Any, ...], data: Mapping[str, Any]) -> str:
    """A pydantic location as a readable path: tiers by name, union tags left out."""
    parts: list[str] = []
    tagged = False  # the next step may be a union's tag, which is no place in the document
    node: Any = data
    for step in loc:
        if tagged and isinstance(step, str) and step in (*RULE_KINDS, *BENEFIT_TYPES):
            tagged = False
            continue
        previous = parts[-1] if parts else ""
        if isinstance(step, int):
            name = _tier_name(node, step) if previous == "tiers" else None
            parts[-1] = f"{previous}[{name or step}]"
        else:
            parts.append(str(step))
        tagged = step in ("qualify", "eligibility") or (
            isinstance(step, int) and previous in ("all", "any", "benefits")
        )
        node = _child(node, step)
    return ".".join(parts)


def _child(node: Any, step: Any) -> Any:
    if isinstance(node, Mapping):
        return node.get(step)
    if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    return None


def _tier_name(tiers: Any, index: int) -> str | None:
    tier = _child(tiers, index)
    name = tier.get("name") if isinstance(tier, Mapping) else None
    return name if isinstance(name, str) and name else None


def dump(program: LoyaltyProgram) -> dict[str, Any]:
    """``program`` as JSON-able data that :func:`load_program` reads back as an equal one."""
    return program.model_dump(mode="json", exclude_none=True)


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of loyalty programmes (for editors and API clients)."""
    return LoyaltyProgram.model_json_schema()


__all__ = [
    "BonusRule",
    "LoyaltyProgram",
    "PointsRules",
    "QualifyingRule",
    "RedeemOption",
    "StatusRules",
    "Tier",
    "dump",
    "json_schema",
    "load_program",
]
