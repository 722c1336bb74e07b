"""Progress to the next tier, in numbers and words, as ibis expressions. Pure.

A tier's requirement (eligibility and its ``qualify`` rule) is spread into **ways**: each
alternative of an ``any``, combined across ``all`` (``all: [{any: [a, b]}, c]`` is the ways
``a and c`` and ``b and c``). A way is score conditions plus orders, spend and status points
needed in windows. A customer can take a way when its score conditions hold already; what is
missing is then the largest orders shortfall over its windows (a new order counts in each
window), the largest spend shortfall and the largest points shortfall. See
:mod:`lealta.loyalty.assign` for the columns this fills in.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lealta.loyalty.facts import orders_column, points_column, spend_column
from lealta.loyalty.program import LoyaltyProgram
from lealta.loyalty.rules import (
    AllRule,
    AnyRule,
    Leaf,
    OrdersRule,
    PointsRule,
    QualifyingRule,
    SpendRule,
    points_windows,
    windows,
)
from lealta.loyalty.wording import currency_prefix

if TYPE_CHECKING:
    from lealta.loyalty.assign import Judge

MAX_WAYS = 32  # ways of reaching one tier beyond which its progress is not worked out
_NONE = 10**15  # stands for "no value" inside LEAST, which not every engine lets skip nulls
_OR = " or "


@dataclass
class Way:
    """One way of reaching a tier: score conditions that must hold, and the orders, spend and
    status points needed per window (days)."""

    conditions: list[Leaf] = field(default_factory=list)
    orders: dict[int, int] = field(default_factory=dict)
    spend: dict[int, float] = field(default_factory=dict)
    points: dict[int, int] = field(default_factory=dict)

    def and_(self, other: Way) -> Way:
        """The way that takes both ``self`` and ``other``."""
        orders = dict(self.orders)
        for days, n in other.orders.items():
            orders[days] = max(n, orders.get(days, 0))
        spend = dict(self.spend)
        for days, amount in other.spend.items():
            spend[days] = max(amount, spend.get(days, 0.0))
        points = dict(self.points)
        for days, n in other.points.items():
            points[days] = max(n, points.get(days, 0))
        return Way([*self.conditions, *other.conditions], orders, spend, points)


def ways(rules: Sequence[QualifyingRule | None], default_days: int) -> list[Way] | None:
    """The ways of meeting every rule of ``rules`` (None skipped); None beyond
    :data:`MAX_WAYS`."""
    found = [Way()]
    for rule in rules:
        if rule is None:
            continue
        own = _ways_of(rule, default_days)
        if own is None or len(found) * len(own) > MAX_WAYS:
            return None
        found = [a.and_(b) for a, b in itertools.product(found, own)]
    return found


def _ways_of(rule: QualifyingRule, default_days: int) -> list[Way] | None:
    if isinstance(rule, AnyRule):
        options: list[Way] = []
        for child in rule.any:
            own = _ways_of(child, default_days)
            if own is None:
                return None
            options.extend(own)
        return options if len(options) <= MAX_WAYS else None
    if isinstance(rule, AllRule):
        return ways(rule.all, default_days)
    if isinstance(rule, OrdersRule):
        return [Way(orders={rule.window_days or default_days: rule.orders})]
    if isinstance(rule, SpendRule):
        return [Way(spend={rule.window_days or default_days: rule.spend})]
    if isinstance(rule, PointsRule):
        return [Way(points={rule.window_days or default_days: rule.points})]
    return [Way(conditions=[rule])]


def add_progress(table: Any, program: LoyaltyProgram, judge: Judge) -> Any:
    """``table`` (with ``tier_rank`` and the judge's leaf columns) plus ``next_tier``,
    ``orders_to_next``, ``spend_to_next``, ``points_to_next``, ``progress`` and ``tier``."""
    import ibis

    found = {
        rank: way_list
        for rank, tier in enumerate(program.tiers, start=1)
        if (way_list := ways([program.eligibility, tier.qualify], program.window_days))
    }
    gaps: dict[str, Any] = {}
    for rank, way_list in found.items():
        for index, way in enumerate(way_list):
            gaps.update(_way_columns(table, judge, way, f"{rank}_{index}"))
    table = table.mutate(**gaps)
    per_tier: dict[str, Any] = {}
    for rank, way_list in found.items():
        per_tier.update(_tier_columns(table, len(way_list), rank, program))
    table = table.mutate(**per_tier)
    names = dict(enumerate(program.tier_names(), start=1))
    next_rank = table.tier_rank.fill_null(0) + 1

    def pick(kind: str, dtype: str, ranks: Any) -> Any:
        return ibis.cases(
            *((next_rank == r, table[_name(kind, r)]) for r in ranks), else_=ibis.null(dtype)
        )

    words = pick("words", "string", found)
    return table.mutate(
        tier=ibis.cases(
            *((table.tier_rank == r, ibis.literal(n)) for r, n in names.items()),
            else_=ibis.null("string"),
        ),
        next_tier=ibis.cases(
            *((next_rank == r, ibis.literal(n)) for r, n in names.items()),
            else_=ibis.null("string"),
        ),
        orders_to_next=pick("orders", "int64", found),
        spend_to_next=pick("spend", "float64", found),
        points_to_next=pick("points", "int64", found),
        progress=words,
    )


def _name(kind: str, suffix: object) -> str:
    from lealta.loyalty.assign import HELPER_PREFIX

    return f"{HELPER_PREFIX}{kind}{suffix}"


def _way_columns(table: Any, judge: Judge, way: Way, suffix: str) -> dict[str, Any]:
    """Whether the way is open to the customer, and its orders, spend and points
    shortfalls."""
    import ibis

    open_ = functools.reduce(
        operator.and_, (judge.holds(table, c) for c in way.conditions), ibis.literal(True)
    )
    orders = _shortfall([(table[orders_column(d)], n) for d, n in way.orders.items()], "int64")
    spend = _shortfall([(table[spend_column(d)], x) for d, x in way.spend.items()], "float64")
    points = _shortfall([(table[points_column(d)], n) for d, n in way.points.items()], "int64")
    return {
        _name("open", suffix): open_,
        _name("og", suffix): orders,
        _name("sg", suffix): spend.round(2),
        _name("pg", suffix): points,
    }


def _shortfall(needs: list[tuple[Any, float]], dtype: str) -> Any:
    """The largest ``need - have`` (0 when every need is met or there is none)."""
    import ibis

    gaps = [ibis.greatest(need - have.fill_null(0), 0) for have, need in needs]
    if not gaps:
        return ibis.literal(0, dtype)
    return functools.reduce(ibis.greatest, gaps).cast(dtype)


def _tier_columns(table: Any, count: int, rank: int, program: LoyaltyProgram) -> dict[str, Any]:
    """Toward one tier: fewest orders alone, least spend alone, fewest points alone, and
    every open way in words."""
    import ibis

    only_orders, only_spend, only_points, texts = [], [], [], []
    for index in range(count):
        suffix = f"{rank}_{index}"
        open_, og, sg, pg = (table[_name(k, suffix)] for k in ("open", "og", "sg", "pg"))
        more_orders, more_spend, more_points = og > 0, sg > 0, pg > 0
        alone = open_ & ~(more_orders & more_spend) & ~(more_orders & more_points)
        alone = alone & ~(more_spend & more_points)
        only_orders.append(ibis.cases((alone & more_orders, og), else_=_NONE))
        only_spend.append(ibis.cases((alone & more_spend, sg), else_=_NONE))
        only_points.append(ibis.cases((alone & more_points, pg), else_=_NONE))
        text = ibis.literal("").concat(
            ibis.cases((more_orders, _orders_text(og)), else_=""),
            ibis.cases((more_orders & (more_spend | more_points), " and "), else_=""),
            ibis.cases((more_spend, _money_text(sg, program.currency)), else_=""),
            ibis.cases((more_spend & more_points, " and "), else_=""),
            ibis.cases((more_points, _points_text(pg)), else_=""),
        )
        wanted = more_orders | more_spend | more_points
        texts.append(ibis.cases((open_ & wanted, _OR + text), else_=""))
    joined = ibis.literal("").concat(*texts).nullif("")  # referenced once: no SQL fan-out
    tier_name = program.tiers[rank - 1].name
    words = joined.substr(len(_OR)).concat(f" to {tier_name}")
    return {
        _name("orders", rank): _least(only_orders).cast("int64"),
        _name("spend", rank): _least(only_spend).cast("float64"),
        _name("points", rank): _least(only_points).cast("int64"),
        _name("words", rank): words,
    }


def _least(values: list[Any]) -> Any:
    import ibis

    smallest = values[0] if len(values) == 1 else ibis.least(*values)
    return ibis.cases((smallest >= _NONE, ibis.null(smallest.type())), else_=smallest)


def _orders_text(n: Any) -> Any:
    import ibis

    return ibis.cases(
        (n == 1, ibis.literal("1 more order")), else_=n.cast("string").concat(" more orders")
    )


def _points_text(n: Any) -> Any:
    """``1 more point``, ``1,320 more points``."""
    import ibis

    return ibis.cases(
        (n == 1, ibis.literal("1 more point")), else_=_grouped(n).concat(" more points")
    )


def _money_text(amount: Any, currency: str) -> Any:
    """Whole currency units rounded up, thousands grouped: ``€1,240``."""
    import ibis

    return ibis.literal(currency_prefix(currency)).concat(_grouped(amount.ceil().cast("int64")))


def _grouped(n: Any) -> Any:
    """A non-negative integer with commas between thousands, up to 999,999,999.

    (Each branch repeats ``n`` in the SQL; a shortfall past a billion is written plainly.)
    """
    import ibis

    branches = []
    for power in (2, 1):
        pieces: list[Any] = []
        for p in range(power - 1, -1, -1):
            pieces += [",", ((n // 1000**p) % 1000).cast("string").lpad(3, "0")]
        head = (n // 1000**power).cast("string")
        branches.append(((n >= 1000**power) & (n < 10**9), head.concat(*pieces)))
    return ibis.cases(*branches, else_=n.cast("string"))


def deadline(
    order_days: Sequence[dt.date], program: LoyaltyProgram, tier: str, *, today: dt.date
) -> dt.date | None:
    """The day before which the progress to ``tier`` must be made, as it stands today.

    The rule: the orders and spend windows roll, so what a customer has now counts only
    while it stays inside its window. The progress holds until the first day one of the
    orders counted today leaves one of the windows the tier's rules (and the eligibility)
    read; from that day more is needed. An order placed on day ``X`` counts in a window of
    ``d`` days through day ``X + d - 1``: the deadline is the least ``X + d`` over the
    windows and the orders inside them. None when no order counts yet (nothing can lapse)
    or the tier reads no orders or spend.

    Points windows count too, through the orders: an order's points are credited when it is
    placed (the ledger's sweep follows within minutes), so they leave a points window on the
    day the order leaves it. Bonus points are not orders and are not followed here.
    """
    rules = [program.eligibility, program.tier(tier).qualify]
    lengths: set[int] = set()
    for rule in rules:
        if rule is not None:
            lengths |= windows(rule, program.window_days)
            lengths |= points_windows(rule, program.window_days)
    found: list[dt.date] = []
    for days in lengths:
        start = today + dt.timedelta(days=1) - dt.timedelta(days=days)
        inside = [day for day in order_days if start <= day <= today]
        if inside:
            found.append(min(inside) + dt.timedelta(days=days))
    return min(found) if found else None
