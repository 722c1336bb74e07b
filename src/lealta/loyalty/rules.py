"""How a customer qualifies for a tier (or for the programme at all), as data. Pure.

A rule is a mapping with exactly one of these keys (plus an optional ``label``, shown as the
reason a customer qualified instead of the generated wording)::

    score_sum: 12                        # the RFM (or RFMP) score sum is 12 or better
    scores: {r: 4, m: 4}                 # each named score is this good or better
    orders: 10                           # 10 or more orders in the window …
    window_days: 730                     # … of the last 730 days (default: the programme's)
    spend: 1500                          # 1,500 or more spent in the window
    points: 2000                         # 2,000 or more status points earned in the window
    all: [rule, rule, …]                 # every rule holds
    any: [rule, rule, …]                 # at least one holds

Status points (the ``points`` rule) are airline-style: the points a customer **earned** in
the window, whatever they did with them since. They are the ledger's ``earn`` credits (points
for orders) and ``bonus`` credits (points for events such as reviews) written in the window,
less what returns took back of those very orders (a returned order earns no status, whenever
it comes back). Redeeming points, their expiry and manual debits do not lower status: the
customer earned them. Manual credits (``adjust`` entries) do not count either: points given
by hand are goodwill, not purchases, and a tier by decision is a tier override with its
reason and expiry (:mod:`lealta.loyalty.overrides`), not a hidden ledger entry. A profile
merged into another brings its earned points to the survivor's status (its balance moves by
``adjust`` entries, which are not counted twice). See :mod:`lealta.loyalty.status_points`.

"Or better" follows the programme's convention (``best``): with 5 = best a score of 4 or
better is 4 or 5 and a sum of 12 or better is 12 to 15; with 1 = best a score of 2 or better
is 1 or 2, and a sum of 6 or better is 3 to 6 (a lower sum is better).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    FiniteFloat,
    Tag,
)

Dimension = Literal["r", "f", "m", "p"]
DIMENSION_NAMES: dict[str, str] = {"r": "R", "f": "F", "m": "M", "p": "P"}
Label = Annotated[str, Field(min_length=1, max_length=120)]
WindowDays = Annotated[int, Field(ge=1, le=3660)]
RULE_KINDS = ("score_sum", "scores", "orders", "spend", "points", "all", "any")
STATUS_POINTS = (
    "Status points: the points the customer earned in the window (order and bonus credits, "
    "less what returns took back of those orders). Redemptions, expiry and manual debits do "
    "not lower them; manual credits do not count."
)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: Label | None = Field(
        default=None, description="Wording shown as the reason a customer qualified."
    )


class ScoreSumRule(_Rule):
    """The score sum (R+F+M, or R+F+M+P) is ``score_sum`` or better."""

    score_sum: int = Field(ge=1, description="Score sum threshold, in the programme's convention.")


class ScoresRule(_Rule):
    """Each named score is at least as good as its threshold (``{r: 4, m: 4}``)."""

    scores: dict[Dimension, int] = Field(
        min_length=1, description="Score threshold per dimension, in the programme's convention."
    )


class OrdersRule(_Rule):
    """At least ``orders`` orders in the last ``window_days`` days."""

    orders: int = Field(ge=1, description="Fewest orders in the window.")
    window_days: WindowDays | None = Field(
        default=None, description="Rolling window in days (default: the programme's)."
    )


class SpendRule(_Rule):
    """At least ``spend`` (in the programme's currency) spent in the last ``window_days`` days."""

    spend: FiniteFloat = Field(gt=0, description="Least spend in the window.")
    window_days: WindowDays | None = Field(
        default=None, description="Rolling window in days (default: the programme's)."
    )


class PointsRule(_Rule):
    """At least ``points`` status points earned in the last ``window_days`` days (see the
    module docstring: order and bonus credits, less returns; spending points keeps status)."""

    points: int = Field(ge=1, le=1_000_000_000, description=f"Fewest points. {STATUS_POINTS}")
    window_days: WindowDays | None = Field(
        default=None, description="Rolling window in days (default: the programme's)."
    )


class AllRule(_Rule):
    """Every rule of ``all`` holds."""

    all: list[Rule] = Field(min_length=1, max_length=20)


class AnyRule(_Rule):
    """At least one rule of ``any`` holds."""

    any: list[Rule] = Field(min_length=1, max_length=20)


def _rule_kind(value: Any) -> str | None:
    """The rule's kind: its one key among :data:`RULE_KINDS` (None when none or several)."""
    if isinstance(value, Mapping):
        found = [kind for kind in RULE_KINDS if kind in value]
        return found[0] if len(found) == 1 else None
    for kind in RULE_KINDS:
        if hasattr(value, kind):
            return kind
    return None


Rule = Annotated[
    Annotated[ScoreSumRule, Tag("score_sum")]
    | Annotated[ScoresRule, Tag("scores")]
    | Annotated[OrdersRule, Tag("orders")]
    | Annotated[SpendRule, Tag("spend")]
    | Annotated[PointsRule, Tag("points")]
    | Annotated[AllRule, Tag("all")]
    | Annotated[AnyRule, Tag("any")],
    Discriminator(
        _rule_kind,
        custom_error_type="rule_kind",
        custom_error_message="a rule has exactly one of the keys "
        "score_sum, scores, orders, spend, points, all, any",
    ),
]
AllRule.model_rebuild()
AnyRule.model_rebuild()

QualifyingRule = ScoreSumRule | ScoresRule | OrdersRule | SpendRule | PointsRule | AllRule | AnyRule
Leaf = ScoreSumRule | ScoresRule | OrdersRule | SpendRule | PointsRule


def children(rule: QualifyingRule) -> list[QualifyingRule]:
    """The rules inside an ``all``/``any`` rule (none for a leaf)."""
    if isinstance(rule, AllRule):
        return list(rule.all)
    if isinstance(rule, AnyRule):
        return list(rule.any)
    return []


def leaves(rule: QualifyingRule, where: str) -> Iterator[tuple[Leaf, str]]:
    """Every leaf rule with its place in the document, e.g. ``tiers[Gold].qualify.any[1]``."""
    if isinstance(rule, AllRule | AnyRule):
        key = "all" if isinstance(rule, AllRule) else "any"
        for index, child in enumerate(children(rule)):
            yield from leaves(child, f"{where}.{key}[{index}]")
    else:
        yield rule, where


def windows(rule: QualifyingRule, default_days: int) -> set[int]:
    """The window lengths (days) the rule's ``orders`` and ``spend`` parts read."""
    return {
        leaf.window_days or default_days
        for leaf, _ in leaves(rule, "")
        if isinstance(leaf, OrdersRule | SpendRule)
    }


def points_windows(rule: QualifyingRule, default_days: int) -> set[int]:
    """The window lengths (days) the rule's ``points`` parts read."""
    return {
        leaf.window_days or default_days
        for leaf, _ in leaves(rule, "")
        if isinstance(leaf, PointsRule)
    }
