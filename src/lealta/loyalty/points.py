"""Points arithmetic, pure: what an order or an event earns, what a return takes back, what
expires when. The ledger (:mod:`lealta.loyalty.ledger`) stores the entries; this module
decides their amounts.

Points are whole numbers. A contact's balance is the sum of their entries; it never goes
below 0. Credits (earned, bonus and positive adjustments) may carry an expiry day; debits
(redemptions, expiries, returns and negative adjustments) spend **the points that expire
first**, so on a day ``d`` the points still to expire by ``d`` are::

    max(0, credits expiring on or before d  -  every debit so far)

(:func:`expiring_by`). The debits are counted against the soonest-expiring credits whenever
they happened, which never expires more than the customer holds and, when a programme changes
its expiry and a later credit expires sooner than an earlier one, errs on the customer's side.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from lealta.loyalty.program import BonusRule

EARN = "earn"
BONUS = "bonus"
REDEEM = "redeem"
EXPIRE = "expire"
ADJUST = "adjust"
RETURN = "return"
KINDS = (EARN, BONUS, REDEEM, EXPIRE, ADJUST, RETURN)


def order_points(amount: Decimal | float | str, per_unit: float, multiplier: float) -> int:
    """Points an order of ``amount`` earns: ``amount * per_unit * multiplier``, floored
    (0 for a zero or negative amount)."""
    exact = Decimal(str(amount)) * Decimal(str(per_unit)) * Decimal(str(multiplier))
    return max(0, int(exact.to_integral_value(rounding=ROUND_FLOOR)))


@dataclass(frozen=True)
class Used:
    """Points a bonus rule already gave one contact: on the event's day, in its month, ever."""

    day: int = 0
    month: int = 0
    ever: int = 0

    def plus(self, points: int) -> Used:
        """These counts after ``points`` more (in the same day and month)."""
        return Used(self.day + points, self.month + points, self.ever + points)


def bonus_points(rule: BonusRule, used: Used) -> int:
    """Points an event earns under ``rule`` given what the rule already gave: its
    ``points``, cut to what is left under each cap (0 once a cap is reached)."""
    left = rule.points
    for cap, spent in (
        (rule.max_per_day, used.day),
        (rule.max_per_month, used.month),
        (rule.max_lifetime, used.ever),
    ):
        if cap is not None:
            left = min(left, cap - spent)
    return max(0, left)


@dataclass(frozen=True)
class TakeBack:
    """What a returned order takes back: ``taken`` points, and ``lost`` points that should
    have been taken but were spent already (the balance never goes below 0)."""

    taken: int
    lost: int


def take_back(earned: int, returned: int, share: Decimal | None, balance: int) -> TakeBack:
    """Points to take back for a refund of ``share`` of an order (None or 1 or more: all of
    it) that earned ``earned`` points, of which ``returned`` were taken back before, while the
    contact holds ``balance``. A partial refund takes back its share of the earned points,
    rounded up, never more than is still not taken back."""
    if share is None or share >= 1:
        due = earned - returned
    else:
        wanted = (Decimal(earned) * max(share, Decimal(0))).to_integral_value(
            rounding=ROUND_CEILING
        )
        due = min(int(wanted), earned - returned)
    due = max(0, due)
    taken = min(due, max(0, balance))
    return TakeBack(taken, due - taken)


@dataclass(frozen=True)
class Credit:
    """A credit's points and the day they expire (None: never)."""

    points: int
    expires_on: dt.date | None


def expiring_by(credits: Iterable[Credit], debits: int, day: dt.date) -> int:
    """Points of these credits still held that expire on or before ``day``, ``debits`` (all
    points ever debited, a positive number) having spent the soonest-expiring first."""
    due = sum(c.points for c in credits if c.expires_on is not None and c.expires_on <= day)
    return max(0, due - debits)


def expiring_between(
    credits: Iterable[Credit], debits: int, after: dt.date, until: dt.date
) -> list[tuple[dt.date, int]]:
    """Points that will expire on each day in (``after``, ``until``], soonest first (days
    with nothing left to expire left out); points already due by ``after`` are not counted."""
    held = list(credits)
    days = sorted({c.expires_on for c in held if c.expires_on and after < c.expires_on <= until})
    found: list[tuple[dt.date, int]] = []
    before = expiring_by(held, debits, after)
    for day in days:
        total = expiring_by(held, debits, day)
        if total > before:
            found.append((day, total - before))
        before = total
    return found


def held_lots(credits: Iterable[Credit], debits: int) -> list[Credit]:
    """The points still held, per expiry day (never-expiring ones last), once ``debits`` have
    spent the soonest-expiring first: what a merge moves to the surviving profile."""
    by_day: dict[dt.date | None, int] = {}
    for credit in credits:
        if credit.points > 0:
            by_day[credit.expires_on] = by_day.get(credit.expires_on, 0) + credit.points
    left = debits
    held: list[Credit] = []
    for day in sorted(by_day, key=lambda d: (d is None, d or dt.date.min)):
        spent = min(left, by_day[day])
        left -= spent
        if by_day[day] > spent:
            held.append(Credit(by_day[day] - spent, day))
    return held


def expiry_day(earned: dt.date, expire_after_days: int | None) -> dt.date | None:
    """The day points earned on ``earned`` expire (they are gone from that day)."""
    if expire_after_days is None:
        return None
    return earned + dt.timedelta(days=expire_after_days)


def value_of(points: int, point_value: float) -> Decimal:
    """What ``points`` are worth in the programme's currency (to the cent)."""
    return (Decimal(points) * Decimal(str(point_value))).quantize(Decimal("0.01"))
