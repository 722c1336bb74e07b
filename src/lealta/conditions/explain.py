"""Why a person is in or out, condition by condition, and how many are left after each
condition of an ``all`` (the funnel that shows which rule shrinks an audience).

:func:`explain` tests every node of a tree on one person (no short cut: each condition gets
its answer) and says in words what was found and what was needed: ``'Product Viewed' 2 times
(category equals 'shoes') in the last 14 days; needs at least 3``. :func:`funnel_queries`
gives one SQL query per step; counting them is the caller's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from lealta.conditions import model
from lealta.conditions.person import LEAVES, Finding, Scene
from lealta.conditions.sql import members_query
from lealta.conditions.view import ContactView, aware_utc
from lealta.scoring.rules import Condition


@dataclass(frozen=True)
class Explanation:
    """One node's answer: whether it held, why in words, and its children's answers.
    ``path`` locates the node in the tree (``condition.conditions.1``)."""

    path: str
    kind: str
    held: bool
    why: str
    parts: tuple[Explanation, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for the API and the CLI."""
        found: dict[str, Any] = {
            "path": self.path,
            "kind": self.kind,
            "held": self.held,
            "why": self.why,
        }
        if self.parts:
            found["parts"] = [part.as_dict() for part in self.parts]
        return found


def _bounds(gte: float | None, lte: float | None, unit: str = "") -> str:
    def show(value: float) -> str:
        return f"{value:g}{unit}"

    if gte is not None and lte is not None:
        return f"exactly {show(gte)}" if gte == lte else f"between {show(gte)} and {show(lte)}"
    if gte is not None:
        return f"at least {show(gte)}"
    return f"at most {show(lte)}" if lte is not None else "more than 0"


def _window(within_days: int | None) -> str:
    return "" if within_days is None else f" in the last {within_days} days"


def _where(tests: list[Condition]) -> str:
    if not tests:
        return ""
    return " (" + ", ".join(f"{t.property} {t.op} {t.value!r}" for t in tests) + ")"


def _one_of(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)


_PLURAL = {"category": "categories", "product": "products"}


def describe(spec: Any) -> str:
    """What a condition asks, in words (a funnel step's label)."""
    return _needs(spec)


def _needs(spec: Any) -> str:
    if isinstance(spec, model.AttributeCondition):
        return f"{spec.name} {spec.op} {spec.value!r}"
    if isinstance(spec, model.TagCondition):
        return f"{'has' if spec.present else 'lacks'} the tag {spec.tag!r}"
    if isinstance(spec, model.ListCondition):
        return f"{spec.status} on the list {spec.list!r}"
    if isinstance(spec, model.StageCondition):
        return f"stage one of {_one_of(spec.in_)}"
    if isinstance(spec, model.ScoreCondition):
        return f"lead score {_bounds(spec.gte, spec.lte)}"
    if isinstance(spec, model.SegmentCondition):
        return f"RFM segment one of {_one_of(spec.in_)}"
    if isinstance(spec, model.ClusterCondition):
        return f"cluster one of {_one_of(spec.in_)}"
    if isinstance(spec, model.RfmCondition):
        return ", ".join(
            f"{letter.upper()} {_bounds(wanted.gte, wanted.lte)}"
            for letter, wanted in spec.ranges().items()
        )
    if isinstance(spec, model.ConsentCondition):
        return f"{spec.channel} consent {spec.status}"
    if isinstance(spec, model.EventCountCondition):
        latest = "the latest " if spec.latest else ""
        return (
            f"{latest}{spec.event!r}{_where(spec.where)}{_window(spec.within_days)}"
            f"{' since entering' if spec.since_entered else ''}: {_bounds(spec.gte, spec.lte)}"
        )
    if isinstance(spec, model.MessageCondition):
        return f"{spec.action} an e-mail of {spec.template!r}{_window(spec.within_days)}"
    if isinstance(spec, model.PurchasedSinceEntered):
        return "an order since entering the workflow"
    if isinstance(spec, model.BoughtCondition):
        return f"{_bought_what(spec)}: {_bounds(spec.gte, spec.lte)}"
    if isinstance(spec, model.LoyaltyTierCondition):
        if spec.at_least is not None:
            return f"loyalty tier at least {spec.at_least!r}"
        return f"loyalty tier one of {_one_of(spec.in_)}" if spec.in_ else "in a loyalty tier"
    if isinstance(spec, model.LoyaltyPointsCondition):
        return f"loyalty points {_bounds(spec.gte, spec.lte)}"
    if isinstance(spec, model.AudienceCondition):
        return f"in the audience {spec.audience!r}"
    if isinstance(spec, model.PredictionCondition):
        parts = [
            f"{label} {_bounds(wanted.gte, wanted.lte)}"
            for label, wanted in (("P(alive)", spec.p_alive), ("predicted value", spec.clv))
            if wanted is not None
        ]
        if spec.churn_band is not None:
            parts.append(f"churn risk {spec.churn_band}")
        return ", ".join(parts)
    if isinstance(spec, model.NextBestCondition):
        kind, item = spec.wanted
        if spec.top == 1:
            return f"{item!r} is the next-best {kind}"
        return f"{item!r} is among the {spec.top} next-best {_PLURAL[kind]}"
    if isinstance(spec, model.AllOf):
        return f"all of {len(spec.conditions)} conditions"
    if isinstance(spec, model.AnyOf):
        return f"any of {len(spec.conditions)} conditions"
    assert isinstance(spec, model.Not)
    return f"not ({describe(spec.condition)})"


def _bought_what(spec: model.BoughtCondition) -> str:
    measure = {"orders": "orders", "quantity": "items bought", "amount": "amount spent"}
    what = [f"product {spec.product!r}"] if spec.product else []
    what += [f"category {spec.category!r}"] if spec.category else []
    of = f" of {' in '.join(what)}" if what else ""
    return f"{measure[spec.measure]}{of}{_window(spec.within_days)}"


def _found(spec: Any, finding: Finding) -> str:
    seen = finding.measured
    if isinstance(spec, model.AttributeCondition):
        return f"{spec.name} is {seen!r}" if seen is not None else f"no {spec.name}"
    if isinstance(spec, model.TagCondition):
        return f"{'has' if seen else 'lacks'} the tag {spec.tag!r}"
    if isinstance(spec, model.ListCondition):
        return f"{seen} on the list {spec.list!r}" if seen else f"not on the list {spec.list!r}"
    if isinstance(spec, model.StageCondition):
        return f"stage {seen!r}" if seen else "no stage"
    if isinstance(spec, model.ScoreCondition):
        return f"lead score {seen:g}"
    if isinstance(spec, model.SegmentCondition | model.ClusterCondition):
        what = "RFM segment" if isinstance(spec, model.SegmentCondition) else "cluster"
        return f"{what} {seen!r}" if seen else f"no {what}"
    if isinstance(spec, model.RfmCondition):
        scores = ", ".join(f"{k.upper()} {v}" for k, v in sorted(seen.items()))
        return scores or "never RFM-scored"
    if isinstance(spec, model.ConsentCondition):
        return f"{spec.channel} consent {seen}" if seen else f"no {spec.channel} consent"
    if isinstance(spec, model.EventCountCondition):
        latest = "the latest " if spec.latest else ""
        return (
            f"{latest}{spec.event!r} {seen} time{'s' if seen != 1 else ''}{_where(spec.where)}"
            f"{_window(spec.within_days)}"
        )
    if isinstance(spec, model.MessageCondition):
        return (
            f"{spec.action} an e-mail of {spec.template!r} {seen} times{_window(spec.within_days)}"
        )
    if isinstance(spec, model.PurchasedSinceEntered):
        return f"{seen} orders since entering"
    if isinstance(spec, model.BoughtCondition):
        return f"{_bought_what(spec)}: {seen}"
    if isinstance(spec, model.LoyaltyTierCondition):
        return f"loyalty tier {seen!r}" if seen else "in no loyalty tier"
    if isinstance(spec, model.LoyaltyPointsCondition):
        return f"{seen:,} loyalty points"
    if isinstance(spec, model.PredictionCondition):
        if seen is None:
            return "no predicted value yet"
        return (
            f"P(alive) {seen['p_alive']:.2f}, predicted value {seen['clv']:,.2f}, "
            f"churn risk {seen['churn_band']}"
        )
    if isinstance(spec, model.NextBestCondition):
        if not seen:
            return "no next-best suggestions yet"
        kind = spec.wanted[0] if len(seen) == 1 else _PLURAL[spec.wanted[0]]
        return f"next-best {kind}: {_one_of(seen)}"
    assert isinstance(spec, model.AudienceCondition)
    return f"{'in' if finding.held else 'not in'} the audience {spec.audience!r}"


def _explain(spec: Any, scene: Scene, path: str) -> Explanation:
    if isinstance(spec, model.AllOf | model.AnyOf):
        parts = tuple(
            _explain(inner, scene, f"{path}.conditions.{n}")
            for n, inner in enumerate(spec.conditions)
        )
        holding = sum(part.held for part in parts)
        held = holding == len(parts) if isinstance(spec, model.AllOf) else holding > 0
        needs = "needs all" if isinstance(spec, model.AllOf) else "needs at least one"
        why = f"{holding} of {len(parts)} conditions hold; {needs}"
        return Explanation(path, spec.kind, held, why, parts)
    if isinstance(spec, model.Not):
        inner = _explain(spec.condition, scene, f"{path}.condition")
        why = f"the condition inside {'holds' if inner.held else 'does not hold'}; needs it not to"
        return Explanation(path, spec.kind, not inner.held, why, (inner,))
    finding = LEAVES[type(spec)](spec, scene)
    return Explanation(
        path, spec.kind, finding.held, f"{_found(spec, finding)}; needs {_needs(spec)}"
    )


def explain(
    condition: model.ConditionSpec,
    view: ContactView,
    now: dt.datetime,
    *,
    entered_at: dt.datetime | None = None,
) -> Explanation:
    """Whether ``condition`` holds of the person ``view`` describes at ``now``, node by node,
    with the reason in words (see the module docstring). ``entered_at`` as for
    :func:`lealta.conditions.person.evaluate`."""
    entry = None if entered_at is None else aware_utc(entered_at, "entered_at")
    return _explain(condition, Scene(view, aware_utc(now, "now"), entry), "condition")


@dataclass(frozen=True)
class FunnelStep:
    """The people left once the conditions up to this one all hold: ``label`` says what this
    step adds, ``query`` selects their ids (column ``contact_id``)."""

    label: str
    query: Select[str]


def funnel_queries(
    condition: model.ConditionSpec,
    *,
    now: dt.datetime,
    tier_ranks: Mapping[str, int] | None = None,
) -> list[FunnelStep]:
    """One step per condition of a top-level ``all`` (the first alone, then the first two …,
    the last being the whole condition); any other condition is one step."""
    if not isinstance(condition, model.AllOf) or not condition.conditions:
        return [
            FunnelStep(
                describe(condition),
                members_query(condition, now=now, tier_ranks=tier_ranks, setwise=True),
            )
        ]
    return [
        FunnelStep(
            describe(inner),
            members_query(
                model.AllOf(conditions=condition.conditions[: n + 1]),
                now=now,
                tier_ranks=tier_ranks,
                setwise=True,
            ),
        )
        for n, inner in enumerate(condition.conditions)
    ]
