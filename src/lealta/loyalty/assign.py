"""Each customer's tier, score sum, reason and progress, as one ibis expression. Pure.

Table in, table out, like the RFM code: :func:`assign_tiers` builds a projection of the facts
table that DuckDB (or Spark, or a database) evaluates in one pass, so a million customers take
seconds. Intermediate results (each rule's truth, each way's shortfall) are columns of
staged projections, so the SQL stays small however many tiers and rules there are.

The facts table has one row per customer with

* ``r_score``, ``f_score``, ``m_score`` (and ``p_score`` for RFMP): scores from 1 to the
  programme's ``levels`` in Lealta's convention (5 = best), as :mod:`lealta.segmentation`
  computes them; null when the customer has no score (their score rules do not hold);
* ``orders_{d}d`` and ``spend_{d}d`` for every window ``d`` of the programme
  (:meth:`~lealta.loyalty.program.LoyaltyProgram.windows`), as of the analysis date, see
  :func:`lealta.loyalty.facts.window_facts`;
* ``points_{d}d`` for every window ``d`` of its points rules
  (:meth:`~lealta.loyalty.program.LoyaltyProgram.points_windows`): status points earned in
  the window, see :mod:`lealta.loyalty.status_points` (null counts as none);
* any other columns, passed through.

Definitions
-----------
score sum
    The sum of the programme's dimensions in the programme's convention: with 1 = best each
    score ``s`` reads ``levels + 1 - s``. Null when any of them is missing.
tier
    Null when the customer fails ``eligibility``; else the highest tier whose ``qualify``
    holds (the lowest tier without ``qualify`` takes every eligible customer); null when none.
qualified_by
    For a tier whose rule is ``any``, the first alternative that holds, in words; else the
    whole rule in words (:func:`lealta.loyalty.wording.describe`).
progress
    Toward the next tier up (the lowest tier for a customer in none). Each way of reaching it
    (an alternative of its ``any``, or combination of ``all``) whose score conditions already
    hold counts; what is missing is more orders, more spend and/or more status points (a new
    order counts in every window). ``orders_to_next`` is the fewest more orders that alone
    would reach the tier, ``spend_to_next`` the least more spend that alone would,
    ``points_to_next`` the fewest more points that alone would; ``progress`` lists the ways
    in words: ``2 more orders or €140 to Gold``, ``320 more points to Gold``. Null where the
    missing part is a score (not something one more purchase is sure to change) or there is
    no tier above.
"""

from __future__ import annotations

import functools
import itertools
import operator
from typing import Any

from lealta.errors import MissingColumn
from lealta.loyalty.facts import orders_column, points_column, spend_column
from lealta.loyalty.program import LoyaltyProgram
from lealta.loyalty.rules import (
    AllRule,
    AnyRule,
    Leaf,
    OrdersRule,
    PointsRule,
    QualifyingRule,
    ScoresRule,
    ScoreSumRule,
    children,
    leaves,
)
from lealta.loyalty.wording import describe

OUTPUT_COLUMNS = (
    "score_sum", "eligible", "tier", "tier_rank", "qualified_by", "next_tier",
    "orders_to_next", "spend_to_next", "points_to_next", "progress",
)  # fmt: skip
HELPER_PREFIX = "_loyalty_"


def required_columns(program: LoyaltyProgram) -> list[str]:
    """The facts columns :func:`assign_tiers` reads for ``program``."""
    scores = [f"{dim}_score" for dim in program.dimension_names]
    windows = [(orders_column(d), spend_column(d)) for d in program.windows()]
    points = [points_column(d) for d in program.points_windows()]
    return [*scores, *itertools.chain.from_iterable(windows), *points]


def assign_tiers(facts: Any, program: LoyaltyProgram) -> Any:
    """``facts`` plus the programme's scores and :data:`OUTPUT_COLUMNS` (see the module).

    Added columns: ``r``, ``f``, ``m`` (``p``) in the programme's convention, ``score_sum``,
    ``eligible`` (bool), ``tier`` (name), ``tier_rank`` (1 = lowest tier), ``qualified_by``,
    ``next_tier``, ``orders_to_next`` (int), ``spend_to_next`` (float), ``points_to_next``
    (int) and ``progress``.

    Raises
    ------
    MissingColumn
        When ``facts`` lacks a column the programme reads.
    """
    import ibis

    from lealta.loyalty.progress import add_progress

    missing = [c for c in required_columns(program) if c not in facts.columns]
    if missing:
        raise MissingColumn(f"the facts lack {', '.join(missing)}", field=missing[0])
    judge = Judge(program)
    table = facts.mutate(**judge.leaf_columns(facts))
    tiers = list(enumerate(program.tiers, start=1))
    table = table.mutate(
        **{_col("eligible"): judge.holds(table, program.eligibility)},
        **{_col(f"q{rank}"): judge.holds(table, tier.qualify) for rank, tier in tiers},
    )
    eligible = table[_col("eligible")]
    placed = [(eligible & table[_col(f"q{rank}")], rank, tier) for rank, tier in tiers]
    table = table.mutate(
        **judge.programme_scores(table),
        eligible=eligible,
        tier_rank=ibis.cases(
            *((ok, ibis.literal(r, "int64")) for ok, r, _ in reversed(placed)),
            else_=ibis.null("int64"),
        ),
        qualified_by=ibis.cases(
            *((ok, judge.reason(table, tier.qualify)) for ok, _, tier in reversed(placed)),
            else_=ibis.null("string"),
        ),
    )
    table = add_progress(table, program, judge)
    added = [*program.dimension_names, *OUTPUT_COLUMNS]
    kept = [c for c in table.columns if not c.startswith(HELPER_PREFIX) and c not in added]
    return table.select(*kept, *added)


def _col(name: str) -> str:
    return f"{HELPER_PREFIX}{name}"


class Judge:
    """The truth of a programme's rules over a facts table, one helper column per leaf rule.

    :meth:`leaf_columns` computes each distinct leaf once; :meth:`holds` then combines those
    columns, so that rules repeated across tiers, reasons and progress cost nothing more.
    """

    def __init__(self, program: LoyaltyProgram) -> None:
        self.program = program
        self._names: dict[str, str] = {}
        rules = [program.eligibility, *(tier.qualify for tier in program.tiers)]
        for rule in rules:
            for leaf, _ in leaves(rule, "") if rule is not None else ():
                self._names.setdefault(self._key(leaf), _col(f"leaf{len(self._names)}"))

    def _key(self, leaf: Leaf) -> str:
        return leaf.model_copy(update={"label": None}).model_dump_json()

    def leaf_columns(self, facts: Any) -> dict[str, Any]:
        """Every distinct leaf rule's truth (a missing value makes it false), by column name."""
        found: dict[str, Any] = {}
        rules = [self.program.eligibility, *(tier.qualify for tier in self.program.tiers)]
        for rule in rules:
            for leaf, _ in leaves(rule, "") if rule is not None else ():
                found[self._names[self._key(leaf)]] = self._leaf(facts, leaf).fill_null(False)
        return found

    def holds(self, table: Any, rule: QualifyingRule | None) -> Any:
        """Whether ``rule`` holds (true for no rule), from the leaf columns of ``table``."""
        import ibis

        if rule is None:
            return ibis.literal(True)
        if isinstance(rule, AllRule | AnyRule):
            parts = [self.holds(table, child) for child in children(rule)]
            both = operator.and_ if isinstance(rule, AllRule) else operator.or_
            return functools.reduce(both, parts)
        return table[self._names[self._key(rule)]]

    def _leaf(self, t: Any, rule: Leaf) -> Any:
        program = self.program
        if isinstance(rule, ScoreSumRule):
            return self.lealta_sum(t) >= program.to_lealta_sum(rule.score_sum)
        if isinstance(rule, ScoresRule):
            tests = [
                t[f"{dim}_score"] >= program.to_lealta_score(score)
                for dim, score in rule.scores.items()
            ]
            return functools.reduce(operator.and_, tests)
        days = rule.window_days or program.window_days
        if isinstance(rule, OrdersRule):
            return t[orders_column(days)] >= rule.orders
        if isinstance(rule, PointsRule):
            return t[points_column(days)].fill_null(0) >= rule.points
        return t[spend_column(days)] >= rule.spend

    def lealta_sum(self, t: Any) -> Any:
        """The score sum in Lealta's convention (null when a score is missing)."""
        scores = [t[f"{dim}_score"].cast("int64") for dim in self.program.dimension_names]
        return functools.reduce(operator.add, scores)

    def programme_scores(self, t: Any) -> dict[str, Any]:
        """Each score and the score sum in the programme's convention."""
        program = self.program
        out = {}
        for dim in program.dimension_names:
            score = t[f"{dim}_score"].cast("int64")
            out[dim] = score if program.best == 5 else program.levels + 1 - score
        low, high = program.score_sum_range
        total = self.lealta_sum(t)
        out["score_sum"] = total if program.best == 5 else low + high - total
        return out

    def reason(self, table: Any, rule: QualifyingRule | None) -> Any:
        """Why a customer meeting ``rule`` qualified, in words."""
        import ibis

        program = self.program
        if rule is None:
            base = program.eligibility
            text = f"eligible ({describe(base, program)})" if base else "every customer"
            return ibis.literal(text)
        if isinstance(rule, AnyRule) and not rule.label:
            return ibis.cases(
                *((self.holds(table, c), ibis.literal(describe(c, program))) for c in rule.any),
                else_=ibis.null("string"),
            )
        return ibis.literal(describe(rule, program))
