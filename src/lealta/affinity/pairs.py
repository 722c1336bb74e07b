"""Pairs of items bought together (one basket) and in sequence (a later basket), set-wise.

Table in, table out: every function takes the canonical *lines* table of
:mod:`lealta.affinity.lines` (``customer_id``, ``basket``, ``ts``, ``item``; one row per order
line, already cleaned and limited to the analysis window) and returns an ibis expression, so
DuckDB and Spark run the very same plan.

Definitions
-----------
basket
    The lines of one customer sharing a ``basket`` key: the order id, or the calendar day of
    the line when the input has no order id. An item is *in* a basket when at least one of its
    lines holds it; quantities and repeated lines do not count twice.
basket time
    The earliest ``ts`` of the basket's lines (all items of a basket share it).
together, for items A ≠ B (ordered: A → B and B → A are two rows)
    ``n_ab`` baskets hold both; ``n_a``, ``n_b`` baskets hold A, B; ``n`` baskets in all.
    ``support = n_ab / n``, ``confidence = n_ab / n_a`` (P(B in basket | A in basket)),
    ``lift = confidence / (n_b / n) = n_ab * n / (n_a * n_b)``.
in sequence, A → B
    A customer goes from A to B when the basket time of their first B is strictly after that
    of their first A and, with a gap of G days, at most G days after it (exactly G days
    counts; a B first bought in the same basket as A, or at the same time, does not).
    ``n_ab`` customers go from A to B; ``n_a``, ``n_b`` customers bought A, B at all in the
    window; ``n`` customers in all. ``support = n_ab / n``, ``confidence = n_ab / n_a``
    (the share of A's buyers who then bought B), ``lift = confidence / (n_b / n)``.
thresholds
    A pair is kept when ``n_ab >= min_count`` and ``support >= min_support``. Items below the
    same thresholds are left out before pairing (no pair can pass where one item fails).
order
    Rows come by ``lift`` (highest first), then ``n_ab`` (highest), then ``item_a``,
    ``item_b`` (alphabetical), so ties always come out in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis

from lealta.affinity.options import AffinityOptions

PAIR_COLUMNS = (
    "item_a",
    "item_b",
    "n_ab",
    "n_a",
    "n_b",
    "n",
    "support",
    "confidence",
    "lift",
)


def basket_items(lines: Any) -> Any:
    """One row per (``customer_id``, ``basket``, ``item``) with the basket's time ``ts``."""
    keys = [lines.customer_id, lines.basket]
    timed = lines.mutate(basket_ts=lines.ts.min().over(ibis.window(group_by=keys)))
    return timed.group_by("customer_id", "basket", "item").aggregate(ts=timed.basket_ts.min())


def together(lines: Any, options: AffinityOptions) -> Any:
    """Pairs of items held by the same basket (see the module's definitions)."""
    held = basket_items(lines).select("customer_id", "basket", "item")
    total = held.select("customer_id", "basket").distinct().aggregate(n=ibis._.count())
    return _pairs(held, ["customer_id", "basket"], total, options, None)


def in_sequence(lines: Any, options: AffinityOptions) -> Any:
    """Pairs A → B where customers first bought B after first buying A (module definitions)."""
    items = basket_items(lines)
    first = items.group_by("customer_id", "item").aggregate(ts=items.ts.min())
    total = first.aggregate(n=first.customer_id.nunique())
    gap = options.gap_days

    def later(ts_a: Any, ts_b: Any) -> Any:
        after = ts_b > ts_a
        if gap is None:
            return after
        return after & (ts_b <= ts_a + ibis.interval(days=gap))

    return _pairs(first, ["customer_id"], total, options, later)


def _pairs(
    held: Any,
    keys: list[str],
    total: Any,
    options: AffinityOptions,
    later: Callable[[Any, Any], Any] | None,
) -> Any:
    """Count pairs of ``held`` rows sharing ``keys`` (and, with ``later``, in time order).

    ``held`` has one row per (keys…, item), with ``ts`` when ``later`` is given; ``total``
    is a one-row table with ``n``; ``later(ts_a, ts_b)`` says when B follows A.
    """
    counts = held.group_by("item").aggregate(count=ibis._.count()).cross_join(total)
    counts = counts.filter(
        (counts["count"] >= options.min_count)
        & (counts["count"].cast("float64") / counts.n >= options.min_support)
    )
    kept = held.semi_join(counts.select("item"), "item")
    a = kept.rename(item_a="item")
    b = kept.rename(item_b="item")
    if later is not None:
        a = a.rename(ts_a="ts")
        b = b.rename(ts_b="ts")
    joined = a.join(b, [*keys, a.item_a != b.item_b])
    if later is not None:
        joined = joined.filter(later(joined.ts_a, joined.ts_b))
    pairs = joined.group_by("item_a", "item_b").aggregate(n_ab=ibis._.count())
    pairs = pairs.filter(pairs.n_ab >= options.min_count)
    count_a = counts.select(item_a="item", n_a="count", n="n")
    count_b = counts.select(item_b="item", n_b="count")
    figures = pairs.join(count_a, "item_a").join(count_b, "item_b")
    n_ab, n_a, n_b, n = (figures[c].cast("float64") for c in ("n_ab", "n_a", "n_b", "n"))
    figures = figures.mutate(support=n_ab / n, confidence=n_ab / n_a, lift=(n_ab * n) / (n_a * n_b))
    figures = figures.filter(figures.support >= options.min_support)
    return figures.select(*PAIR_COLUMNS).order_by(
        [ibis.desc("lift"), ibis.desc("n_ab"), "item_a", "item_b"]
    )
