"""Rules and amounts in words, as customers and marketers read them. Pure."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from lealta.loyalty.rules import (
    DIMENSION_NAMES,
    AllRule,
    AnyRule,
    OrdersRule,
    PointsRule,
    QualifyingRule,
    ScoresRule,
    ScoreSumRule,
    SpendRule,
    children,
)

if TYPE_CHECKING:
    from lealta.loyalty.program import LoyaltyProgram

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}


def currency_prefix(currency: str) -> str:
    """What an amount is written after: ``€`` for EUR, ``CHF `` for currencies without a sign."""
    return SYMBOLS.get(currency, f"{currency} ")


def money(amount: float, currency: str) -> str:
    """``amount`` as a customer reads it: ``€1,500``, ``€12.50``, ``CHF 40``."""
    whole = math.isclose(amount, round(amount))
    number = f"{round(amount):,}" if whole else f"{amount:,.2f}"
    return f"{currency_prefix(currency)}{number}"


def describe(rule: QualifyingRule, program: LoyaltyProgram) -> str:
    """The rule in words (its ``label`` when it has one), in the programme's convention.

    Examples: ``score sum >= 12``, ``R <= 2 and M <= 2`` (1 = best), ``at least 10 orders
    in 730 days``, ``at least €1,500 spent in 365 days``, ``at least 2,000 points earned in
    365 days``.
    """
    if rule.label:
        return rule.label
    better = ">=" if program.best == 5 else "<="
    if isinstance(rule, ScoreSumRule):
        return f"score sum {better} {rule.score_sum}"
    if isinstance(rule, ScoresRule):
        return " and ".join(
            f"{DIMENSION_NAMES[dim]} {better} {score}" for dim, score in rule.scores.items()
        )
    if isinstance(rule, OrdersRule):
        days = rule.window_days or program.window_days
        noun = "order" if rule.orders == 1 else "orders"
        return f"at least {rule.orders} {noun} in {days} days"
    if isinstance(rule, SpendRule):
        days = rule.window_days or program.window_days
        return f"at least {money(rule.spend, program.currency)} spent in {days} days"
    if isinstance(rule, PointsRule):
        days = rule.window_days or program.window_days
        noun = "point" if rule.points == 1 else "points"
        return f"at least {rule.points:,} {noun} earned in {days} days"
    joiner = " and " if isinstance(rule, AllRule) else " or "
    inner = AnyRule if isinstance(rule, AllRule) else AllRule
    parts = []
    for child in children(rule):
        text = describe(child, program)
        several = len(children(child)) > 1 or (
            isinstance(child, ScoresRule) and len(child.scores) > 1 and joiner == " or "
        )
        grouped = several and isinstance(child, inner | ScoresRule) and not child.label
        parts.append(f"({text})" if grouped else text)
    return joiner.join(parts)


def day_words(day: dt.date, today: dt.date) -> str:
    """A day as a customer reads it: ``31 March``, with the year when it is not this one
    (``2 January 2028``)."""
    text = f"{day.day} {day:%B}"
    return text if day.year == today.year else f"{text} {day.year}"
