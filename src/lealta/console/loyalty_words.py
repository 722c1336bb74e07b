"""The loyalty programme in a marketer's words: benefits, tier rules and status rules. Pure."""

from __future__ import annotations

from lealta.loyalty.benefits import (
    BenefitModel,
    BirthdayGift,
    EarlyAccess,
    ExclusiveOffers,
    FixedDiscount,
    FreeShipping,
    PercentDiscount,
    Previews,
    PrioritySupport,
    ShippingDiscount,
)
from lealta.loyalty.program import LoyaltyProgram, StatusRules, Tier
from lealta.loyalty.wording import describe, money


def _percent(value: float) -> str:
    return f"{value:g} %"


def benefit(item: BenefitModel, currency: str) -> str:
    """One benefit as a sentence: ``10 % off every order``, ``Free shipping on orders of
    €50 or more``; a benefit's own ``description`` follows its kind."""
    text = _kind(item, currency)
    if item.description:
        text = f"{text}: {item.description}"
    return text


def _from(min_order: float, currency: str) -> str:
    return f" on orders of {money(min_order, currency)} or more" if min_order else ""


def _kind(item: BenefitModel, currency: str) -> str:
    if isinstance(item, PercentDiscount):
        return f"{_percent(item.percent)} off every order"
    if isinstance(item, FixedDiscount):
        where = _from(item.min_order, currency) or " every order"
        return f"{money(item.amount, currency)} off{where}"
    if isinstance(item, FreeShipping):
        return "Free shipping" + (_from(item.min_order, currency) or " on every order")
    if isinstance(item, ShippingDiscount):
        off = _percent(item.percent) if item.percent else money(item.amount or 0, currency)
        return f"{off} off shipping"
    if isinstance(item, EarlyAccess):
        return f"Sales open {item.hours} hours early"
    if isinstance(item, ExclusiveOffers):
        return "Exclusive offers"
    if isinstance(item, Previews):
        return "Previews of what is new"
    if isinstance(item, PrioritySupport):
        return "Priority support"
    if isinstance(item, BirthdayGift):
        return f"Birthday gift ({item.gift})"
    return item.type.replace("_", " ").capitalize()


def qualify(tier: Tier, program: LoyaltyProgram) -> str:
    """How a customer reaches ``tier``, e.g. ``at least 5 orders in 730 days or score sum >=
    12``; the lowest tier without a rule takes every eligible customer."""
    if tier.qualify is None:
        return "every eligible customer"
    return describe(tier.qualify, program)


def eligibility(program: LoyaltyProgram) -> str:
    """Who may be in a tier at all."""
    if program.eligibility is None:
        return "Every customer with an order can be in a tier."
    return (
        f"Customers below “{describe(program.eligibility, program)}” are in no tier and are "
        "left out of loyalty campaigns."
    )


def scores(program: LoyaltyProgram) -> str:
    """How the scores in the rules read."""
    dims = " + ".join(d.upper() for d in program.dimension_names)
    low, high = program.score_sum_range
    best = "5 = best" if program.best == 5 else "1 = best"
    if program.levels != 5:
        best = f"{program.levels if program.best == 5 else 1} = best"
    return (
        f"Scores 1 to {program.levels} per dimension ({best}); the score sum is {dims}, "
        f"{low} to {high}."
    )


def status(rules: StatusRules) -> list[str]:
    """The status rules as short sentences."""
    said = []
    if rules.keep_days is not None:
        said.append(f"A tier reached is kept for {rules.keep_days} days whatever happens.")
    elif rules.keep_until == "end_of_year":
        said.append("A tier reached is kept until the end of that year.")
    elif rules.keep_until == "end_of_next_year":
        said.append("A tier reached is kept until the end of the following year.")
    else:
        said.append("A tier lasts as long as the customer qualifies for it.")
    if rules.grace_days:
        said.append(f"Then {rules.grace_days} more days to qualify again before going down.")
    if rules.max_steps_down is None:
        said.append("A review takes a customer straight down to the tier they qualify for.")
    else:
        steps = "one tier" if rules.max_steps_down == 1 else f"{rules.max_steps_down} tiers"
        said.append(f"A review takes a customer down {steps} at most.")
    return said
