"""Per customer, the items people with their basket go on to buy, minus what they hold.

Definitions
-----------
held
    The items a customer bought in the analysis window (any basket, any quantity).
candidate
    An item B the customer does not hold, with at least one sequence rule A → B (see
    :func:`lealta.affinity.pairs.in_sequence`) whose A the customer holds. Only each A's
    ``rules_per_item`` (default 50) most confident rules count (equal confidences by B's
    name): with many products, every held item would otherwise reach every other one, and
    the weakest rules never decide the first ranks.
score
    ``sum`` (default): the sum of ``confidence(A → B)`` over the held items A with a rule to
    B — more evidence from more of the basket ranks higher; not a probability, it may pass 1.
    ``max``: the highest such confidence alone. Rounded to 12 decimals.
rank
    1 for the highest score, then 2, 3 …; equal scores go alphabetically by item. Only the
    first ``top`` ranks are kept. A customer with no candidate has no row.
"""

from __future__ import annotations

from typing import Any

import ibis

from lealta.affinity.options import AffinityOptions

NEXT_BEST_COLUMNS = ("customer_id", "rank", "item", "score")
SCORE_DIGITS = 12


def held_items(lines: Any) -> Any:
    """One row per (``customer_id``, ``item``) bought in the window."""
    return lines.select("customer_id", "item").distinct()


def strongest_rules(rules: Any, per_item: int) -> Any:
    """Each item's ``per_item`` most confident rules (``item_a``, ``item_b``, ``confidence``);
    equal confidences by ``item_b``."""
    order = ibis.window(group_by="item_a", order_by=[ibis.desc(rules.confidence), rules.item_b])
    ranked = rules.mutate(_n=ibis.row_number().over(order))
    return ranked.filter(ranked._n < per_item).select("item_a", "item_b", "confidence")


def next_best(lines: Any, rules: Any, options: AffinityOptions) -> Any:
    """Top ``options.top`` items per customer from sequence ``rules`` (module definitions).

    ``rules`` is a table of :func:`~lealta.affinity.pairs.in_sequence` (``item_a``,
    ``item_b``, ``confidence``, …).
    """
    held = held_items(lines)
    arrows = strongest_rules(rules, options.rules_per_item)
    reached = held.join(arrows, held.item == arrows.item_a).select(
        "customer_id", item=arrows.item_b, confidence=arrows.confidence
    )
    fresh = reached.anti_join(held, ["customer_id", "item"])
    gather = fresh.confidence.sum() if options.score == "sum" else fresh.confidence.max()
    # rounded: engines add in different orders, and a tie must stay a tie on every engine
    scored = fresh.group_by("customer_id", "item").aggregate(score=gather.round(SCORE_DIGITS))
    order = ibis.window(group_by="customer_id", order_by=[ibis.desc(scored.score), scored.item])
    ranked = scored.mutate(rank=(ibis.row_number().over(order) + 1).cast("int64"))
    return (
        ranked.filter(ranked["rank"] <= options.top)
        .select(*NEXT_BEST_COLUMNS)
        .order_by(["customer_id", "rank"])
    )
