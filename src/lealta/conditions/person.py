"""Testing a condition on one person: the contact view in, true or false out. Pure.

Each leaf kind has a measuring function that returns whether it holds and what it measured
(a count, a balance, the value found …); :func:`evaluate` keeps the answer and
:mod:`lealta.conditions.explain` puts the measure into words. Only events and orders at or
before ``now`` count.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from lealta.conditions import model
from lealta.conditions.view import ContactView, EventView, OrderView, aware_utc
from lealta.errors import InvalidInput
from lealta.scoring.rules import Condition, as_number, conditions_hold, property_value


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


def _when(event: EventView) -> datetime:
    return event.occurred_at


@dataclass(frozen=True, slots=True)
class Scene:
    """What a condition is tested against: the person, the moment, and the run's entry
    time when tested inside a workflow run (None elsewhere)."""

    contact: ContactView
    now: datetime
    entered_at: datetime | None = None

    def events_after(self, moment: datetime | None) -> Sequence[EventView]:
        """The events after ``moment`` (None: all) up to now, oldest first (a look at a long
        history reads only its end)."""
        events = self.contact.events
        start = 0 if moment is None else bisect_right(events, moment, key=_when)
        return events[start : bisect_right(events, self.now, key=_when)]

    def since(self, within_days: int | None, *, since_entered: bool = False) -> datetime | None:
        """The start (exclusive) of a window: ``within_days`` before now, the run's entry
        when ``since_entered``, the later of both; None for the whole history."""
        start = None if within_days is None else self.now - timedelta(days=within_days)
        if since_entered:
            if self.entered_at is None:
                raise InvalidInput(
                    "since_entered and purchased_since_entered need a workflow run",
                    field="condition",
                )
            start = self.entered_at if start is None else max(start, self.entered_at)
        return start


@dataclass(frozen=True, slots=True)
class Finding:
    """Whether a leaf condition held, and what was measured (see :mod:`.explain`)."""

    held: bool
    measured: Any = None


def _in_range(value: float, gte: float | None, lte: float | None) -> bool:
    return (gte is None or value >= gte) and (lte is None or value <= lte)


def _attribute(spec: model.AttributeCondition, scene: Scene) -> Finding:
    attributes = scene.contact.attributes
    return Finding(spec.test.holds(attributes), property_value(attributes, spec.name))


def _tag(spec: model.TagCondition, scene: Scene) -> Finding:
    has = spec.tag in scene.contact.tags
    return Finding(has == spec.present, has)


def _list(spec: model.ListCondition, scene: Scene) -> Finding:
    status = scene.contact.lists.get(spec.list)
    return Finding(status == spec.status, status)


def _stage(spec: model.StageCondition, scene: Scene) -> Finding:
    return Finding(scene.contact.stage in spec.in_, scene.contact.stage)


def _score(spec: model.ScoreCondition, scene: Scene) -> Finding:
    score = scene.contact.score
    return Finding(_in_range(score, spec.gte, spec.lte), score)


def _segment(spec: model.SegmentCondition, scene: Scene) -> Finding:
    return Finding(scene.contact.segment in spec.in_, scene.contact.segment)


def _cluster(spec: model.ClusterCondition, scene: Scene) -> Finding:
    return Finding(scene.contact.cluster in spec.in_, scene.contact.cluster)


def _rfm(spec: model.RfmCondition, scene: Scene) -> Finding:
    scores = scene.contact.rfm
    held = all(wanted.holds(scores.get(letter)) for letter, wanted in spec.ranges().items())
    return Finding(held, dict(scores))


def _consent(spec: model.ConsentCondition, scene: Scene) -> Finding:
    status = scene.contact.consent.get(spec.channel)
    return Finding(status == spec.status, status)


def count_events(spec: model.EventCountCondition, scene: Scene) -> int:
    """How many events the condition counts (0 or 1 with ``latest``)."""
    seen = scene.events_after(scene.since(spec.within_days, since_entered=spec.since_entered))
    named = [event for event in seen if event_matches(event, spec.event, ())]
    if spec.latest:
        named = named[-1:]  # oldest first: the last is the newest
    return sum(1 for event in named if conditions_hold(spec.where, event.properties))


def _event_count(spec: model.EventCountCondition, scene: Scene) -> Finding:
    count = count_events(spec, scene)
    return Finding(count >= spec.gte and (spec.lte is None or count <= spec.lte), count)


def _message(spec: model.MessageCondition, scene: Scene) -> Finding:
    wanted = model.MESSAGE_EVENTS[spec.action]
    start = scene.since(spec.within_days)
    if scene.entered_at is not None:
        start = scene.entered_at if start is None else max(start, scene.entered_at)
    count = sum(
        1
        for event in scene.events_after(start)
        if event_matches(event, wanted, ()) and event.properties.get("template") == spec.template
    )
    return Finding(count > 0, count)


def _purchased_since_entered(spec: model.PurchasedSinceEntered, scene: Scene) -> Finding:
    start = scene.since(None, since_entered=True)
    count = sum(
        1 for event in scene.events_after(start) if event_matches(event, model.ORDER_COMPLETED, ())
    )
    return Finding(count > 0, count)


def _line_counts(spec: model.BoughtCondition, item: Mapping[str, Any]) -> bool:
    return (spec.product is None or item.get("product_id") == spec.product) and (
        spec.category is None or item.get("category") == spec.category
    )


def _quantity(item: Mapping[str, Any]) -> Decimal:
    number = as_number(item.get("quantity"))
    return Decimal(1) if number is None else Decimal(str(number))


def _price(item: Mapping[str, Any]) -> Decimal:
    number = as_number(item.get("price"))
    return Decimal(0) if number is None else Decimal(str(item.get("price")))


def orders_in(spec: model.BoughtCondition, scene: Scene) -> list[OrderView]:
    """The contact's orders placed in the condition's window, up to now."""
    start = scene.since(spec.within_days)
    return [
        order
        for order in scene.contact.orders
        if order.placed_at <= scene.now and (start is None or order.placed_at > start)
    ]


def measure_bought(spec: model.BoughtCondition, scene: Scene) -> Decimal:
    """What :class:`BoughtCondition` measures of the contact (orders, quantity or amount)."""
    orders = orders_in(spec, scene)
    whole = spec.product is None and spec.category is None
    if whole and spec.measure == "orders":
        return Decimal(len(orders))
    if whole and spec.measure == "amount":
        return sum((order.amount for order in orders), Decimal(0)).quantize(Decimal("0.01"))
    lines = [[item for item in order.items if _line_counts(spec, item)] for order in orders]
    if spec.measure == "orders":
        return Decimal(sum(1 for counted in lines if counted))
    if spec.measure == "quantity":
        return sum((_quantity(item) for counted in lines for item in counted), Decimal(0))
    total = sum(
        (_price(item) * _quantity(item) for counted in lines for item in counted), Decimal(0)
    )
    return total.quantize(Decimal("0.01"))


def _bought(spec: model.BoughtCondition, scene: Scene) -> Finding:
    measured = measure_bought(spec, scene)
    return Finding(spec.in_range(float(measured)), measured)


def _loyalty_tier(spec: model.LoyaltyTierCondition, scene: Scene) -> Finding:
    contact = scene.contact
    if contact.tier is None:
        return Finding(False, None)
    if spec.at_least is not None:
        have = contact.tier_ranks.get(contact.tier.casefold(), 0)
        need = contact.tier_ranks.get(spec.at_least.casefold())
        return Finding(need is not None and have >= need, contact.tier)
    if spec.in_ is not None:
        return Finding(contact.tier.casefold() in {n.casefold() for n in spec.in_}, contact.tier)
    return Finding(True, contact.tier)


def _loyalty_points(spec: model.LoyaltyPointsCondition, scene: Scene) -> Finding:
    held = scene.contact.points
    return Finding(_in_range(held, spec.gte, spec.lte), held)


def _audience(spec: model.AudienceCondition, scene: Scene) -> Finding:
    return Finding(spec.audience in scene.contact.audiences, None)


def _prediction(spec: model.PredictionCondition, scene: Scene) -> Finding:
    found = scene.contact.prediction
    return Finding(spec.holds(found), None if found is None else dict(found))


def _next_best(spec: model.NextBestCondition, scene: Scene) -> Finding:
    suggested = scene.contact.next_best
    return Finding(spec.holds(suggested), [item for _kind, item in suggested[: spec.top]])


LEAVES: dict[type, Callable[[Any, Scene], Finding]] = {
    model.AttributeCondition: _attribute,
    model.TagCondition: _tag,
    model.ListCondition: _list,
    model.StageCondition: _stage,
    model.ScoreCondition: _score,
    model.SegmentCondition: _segment,
    model.ClusterCondition: _cluster,
    model.RfmCondition: _rfm,
    model.ConsentCondition: _consent,
    model.EventCountCondition: _event_count,
    model.MessageCondition: _message,
    model.PurchasedSinceEntered: _purchased_since_entered,
    model.BoughtCondition: _bought,
    model.LoyaltyTierCondition: _loyalty_tier,
    model.LoyaltyPointsCondition: _loyalty_points,
    model.AudienceCondition: _audience,
    model.PredictionCondition: _prediction,
    model.NextBestCondition: _next_best,
}


def holds(spec: Any, scene: Scene) -> bool:
    """Whether ``spec`` holds in ``scene`` (``all`` and ``any`` stop at the first answer)."""
    if isinstance(spec, model.AllOf):
        return all(holds(inner, scene) for inner in spec.conditions)
    if isinstance(spec, model.AnyOf):
        return any(holds(inner, scene) for inner in spec.conditions)
    if isinstance(spec, model.Not):
        return not holds(spec.condition, scene)
    return LEAVES[type(spec)](spec, scene).held


def evaluate(
    spec: model.ConditionSpec,
    contact: ContactView,
    *,
    now: datetime,
    entered_at: datetime | None = None,
) -> bool:
    """Whether ``spec`` holds of ``contact`` at ``now``.

    Parameters
    ----------
    spec
        The condition.
    contact
        What is known of the contact, with its recent events and its orders.
    now
        The moment of evaluation (timezone-aware); later events and orders are ignored.
    entered_at
        In a workflow, when the run entered it (timezone-aware), for ``since_entered``,
        ``message`` and ``purchased_since_entered``; None elsewhere (those first two then
        raise ``InvalidInput``: see :func:`lealta.conditions.model.run_only`).

    Returns
    -------
    bool
        True when the condition holds.
    """
    entry = None if entered_at is None else aware_utc(entered_at, "entered_at")
    return holds(spec, Scene(contact, aware_utc(now, "now"), entry))
