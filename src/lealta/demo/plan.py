"""Planning a synthetic shop before any order is drawn: its seasonal calendar and customers.

Each customer gets an archetype, an active period, a number of orders and preferences; the
orders themselves are drawn later, by :meth:`lealta.demo.orders.DemoShop.batches`.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from lealta.demo.catalogue import (
    CATEGORIES,
    CATEGORY_SHARES,
    CHANNEL_SHARES,
    CHANNELS,
    PAYMENT_METHODS,
    PAYMENT_SHARES,
    Floats,
    Ints,
)
from lealta.demo.names import draw_people
from lealta.demo.orders import DemoShop, sample_days
from lealta.errors import InvalidInput

# one-time, occasional, regular, whale, lapsed, new
_ONE_TIME, _OCCASIONAL, _REGULAR, _WHALE, _LAPSED, _NEW = range(6)
_ARCHETYPE_P = np.array([0.47, 0.24, 0.16, 0.03, 0.07, 0.03])
_MONTH_FACTOR = np.array([0.9, 0.8, 0.9, 0.95, 0.95, 0.9, 0.95, 0.85, 0.95, 1.0, 1.35, 1.55])
_WEEKDAY_FACTOR = np.array([1.05, 1.0, 1.0, 1.0, 0.95, 0.9, 1.1])  # Monday first


def _check(customers: int | None, orders: int | None, seed: int, start: date, end: date) -> None:
    if (customers is None) == (orders is None):
        raise InvalidInput("give exactly one of customers or orders", field="customers")
    for name, value in (("customers", customers), ("orders", orders)):
        if value is not None and value < 1:
            raise InvalidInput(f"{name} must be at least 1, got {value}", field=name)
    if seed < 0:
        raise InvalidInput(f"seed must not be negative, got {seed}", field="seed")
    if start > end:
        raise InvalidInput(f"start {start} is after end {end}", field="start")


def _calendar(start: date, days: int) -> tuple[Ints, Floats]:
    """Month (0 = January) and relative order volume of each day."""
    day = np.datetime64(start, "D") + np.arange(days)
    month_start = day.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12
    dom = (day - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    weekday = (day.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    growth = 1 + 0.1 * np.arange(days) / 365  # the shop grows about 10 % a year
    weight = _MONTH_FACTOR[month] * _WEEKDAY_FACTOR[weekday] * growth
    black_friday = np.flatnonzero((month == 10) & (weekday == 4) & (dom >= 23) & (dom <= 29))
    for offset, boost in ((0, 3.0), (1, 1.8), (2, 1.6), (3, 2.4)):  # until Cyber Monday
        hit = black_friday + offset
        weight[hit[hit < days]] *= boost
    weight[(month == 11) & (dom >= 24) & (dom <= 26)] *= 0.5  # too late to ship for Christmas
    return month, weight


def _active_periods(rng: np.random.Generator, kind: Ints, cum: Floats) -> tuple[Ints, Ints]:
    """First and last day on which each customer may order, by archetype."""
    n, end = len(kind), len(cum) - 2
    lo, hi = np.zeros(n, np.int64), np.full(n, end, np.int64)
    hi[kind == _REGULAR], hi[kind == _WHALE] = int(end * 0.7), int(end * 0.6)
    lo[kind == _NEW] = max(0, end - 42)
    first = sample_days(cum, lo, hi, rng.random(n))
    stopped = np.maximum(end - rng.integers(200, 421, n), 0)  # lapsed: gone for 7-14 months
    joined = np.maximum(stopped - rng.integers(180, 541, n), 0)
    first = np.where(kind == _LAPSED, joined, first)
    repeat = (kind == _OCCASIONAL) | (kind == _REGULAR) | (kind == _WHALE)
    first[repeat & (rng.random(n) < 0.5)] = 0  # customers already before the export starts
    last = np.select(
        [kind == _ONE_TIME, kind == _OCCASIONAL, kind == _LAPSED],
        [first, np.minimum(first + rng.integers(30, 541, n), end), stopped],
        end,
    )
    return first, last.astype(np.int64)


def _order_counts(rng: np.random.Generator, kind: Ints, active: Floats) -> Ints:
    """Orders per customer; the archetype mix averages about ten, so orders ≈ 10 x customers.

    Regulars and whales buy at a steady rate, so their count grows with ``active``, the share of
    the export period in which they are customers (0.8 on average).
    """
    n = len(kind)

    def skewed(median: float | Floats, low: int, high: int) -> Ints:
        return np.clip(np.rint(rng.lognormal(np.log(median), 0.5, n)), low, high).astype(np.int64)

    counts: list[Ints] = [
        np.ones(n, np.int64),
        np.minimum(rng.geometric(0.6, n), 4),
        2 + rng.poisson(2.0, n),
        skewed(32 * active / 0.8, 8, 300),
        skewed(50 * active / 0.8, 12, 400),
    ]
    is_kind = [kind == k for k in (_ONE_TIME, _NEW, _OCCASIONAL, _REGULAR, _WHALE)]
    return np.select(is_kind, counts, 4 + skewed(7, 0, 200)).astype(np.int64)  # else lapsed


def _fit_total(counts: Ints, kind: Ints, total: int) -> Ints:
    """Rescale the repeat buyers' counts so that all orders add up to exactly ``total``."""
    scalable = (kind != _ONE_TIME) & (kind != _NEW)
    fixed = int(counts[~scalable].sum())
    if not scalable.any() or fixed > total:  # tiny shops: spread over everyone instead
        scalable, fixed = np.ones(len(counts), bool), 0
    share = counts[scalable] * (total - fixed) / counts[scalable].sum()
    fitted = np.floor(share).astype(np.int64)
    leftover = total - fixed - int(fitted.sum())
    fitted[np.argsort(fitted - share, kind="stable")[:leftover]] += 1  # largest remainders
    result = np.where(scalable, 0, counts)
    result[scalable] = fitted
    return result.astype(np.int64)


def plan_shop(
    *,
    customers: int | None = None,
    orders: int | None = None,
    seed: int = 7,
    start: date = date(2024, 1, 1),
    end: date = date(2025, 12, 31),
) -> DemoShop:
    """Plan a shop's customers; see :func:`lealta.demo.shop.generate_orders` for the parameters.

    Returns
    -------
    DemoShop
        The plan; ``orders`` and ``customers`` are known before any order is drawn.
    """
    _check(customers, orders, seed, start, end)
    month, weight = _calendar(start, (end - start).days + 1)
    cum = np.concatenate([[0.0], np.cumsum(weight)])
    rng = np.random.default_rng([seed, 0])
    size = customers or max(1, round((orders or 0) / 10))
    kind = rng.choice(len(_ARCHETYPE_P), size=size, p=_ARCHETYPE_P).astype(np.int64)
    first, last = _active_periods(rng, kind, cum)
    counts = _order_counts(rng, kind, (last - first + 1) / len(month))
    if orders is not None:
        counts = _fit_total(counts, kind, orders)
    whale = kind == _WHALE
    profile = {
        "channel": rng.choice(len(CHANNELS), size=size, p=CHANNEL_SHARES),
        "payment": rng.choice(len(PAYMENT_METHODS), size=size, p=PAYMENT_SHARES),
        "category": rng.choice(len(CATEGORIES), size=size, p=CATEGORY_SHARES),
        "terms": np.where(rng.random(size) < 0.8, 14, 30),
        "price_level": rng.lognormal(0.0, 0.4, size) * np.where(whale, 2.0, 1.0),
        "basket": 1 + rng.lognormal(0.0, 0.6, size) + np.where(whale, 1.0, 0.0),
        "first": first,
        "last": last,
        "counts": counts,
    }
    keep = np.flatnonzero(counts > 0)
    keep = keep[np.argsort(first[keep], kind="stable")]  # customer numbers follow sign-up order
    kept = {key: values[keep] for key, values in profile.items()}
    people = draw_people(rng, len(keep))
    return DemoShop(seed=seed, start=start, cum=cum, month=month, **kept, **people)
