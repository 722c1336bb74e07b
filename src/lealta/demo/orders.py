"""A planned shop's orders, drawn one week at a time and assembled into Arrow record batches.

Each week draws from its own seeded generator, so the orders are sorted by date, need memory
for one batch only and do not depend on the batch size. :meth:`DemoShop.line_batches` spreads
the same orders over product lines (:mod:`lealta.demo.baskets`), one row per line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

from lealta.demo.catalogue import (
    CATEGORIES,
    CATEGORY_SHARES,
    CHANNEL_SHARES,
    CHANNELS,
    COUNTRIES,
    PAYMENT_METHODS,
    PAYMENT_SHARES,
    SCHEMA,
    Columns,
    Floats,
    Ints,
)
from lealta.demo.names import NAME_LISTS

#: One row per order line: the order's columns (but ``items``), then the line's product.
ORDER_COLUMNS = [name for name in SCHEMA.names if name not in ("amount", "items", "category")]
LINE_SCHEMA = pa.schema(
    [
        *(SCHEMA.field(name) for name in ORDER_COLUMNS),
        ("product_id", pa.string()),
        ("product_name", pa.string()),
        ("category", pa.string()),
        ("quantity", pa.int64()),
        ("price", pa.float64()),
        ("amount", pa.float64()),
    ]
)

_CATEGORY_PRICE = np.array([32.0, 64.0, 38.0, 19.0, 129.0, 15.0])
# The category a customer's next order often turns to after one of each category (in the order
# of CATEGORIES): apparel then shoes, shoes then apparel, home then beauty, beauty then home,
# electronics stays (accessories after a device), outlet then apparel; so the demo has items
# bought in sequence (trousers, then shoes weeks later: see lealta.demo.baskets).
_NEXT_CATEGORY = np.array([1, 0, 3, 2, 4, 0])
_FOLLOW_UP = 0.35  # share of the orders after another that turn to its next category
_OUTLET, _STORE, _CARD, _INVOICE, _BANK_TRANSFER = 5, 2, 0, 2, 3
_ONLINE_HOURS = np.array(
    [2, 1, 1, 1, 1, 1, 2, 4, 6, 7, 8, 9, 10, 9, 8, 8, 8, 9, 11, 13, 14, 13, 9, 5]
)
_STORE_HOURS = np.array([0] * 9 + [5, 7, 9, 10, 9, 9, 10, 11, 11, 9, 6] + [0] * 4)


def sample_days(cum: Floats, lo: Ints, hi: Ints, u: Floats) -> Ints:
    """Days in [lo, hi] drawn by the seasonal weights whose running total is ``cum``."""
    target = cum[lo] + u * (cum[hi + 1] - cum[lo])
    return np.clip(np.searchsorted(cum, target, side="right") - 1, lo, hi).astype(np.int64)


def _keep_or_draw(rng: np.random.Generator, preferred: Ints, keep: float, p: Floats) -> Ints:
    """A customer's preferred choice most of the time, otherwise one by the shop-wide shares."""
    drawn = rng.choice(len(p), size=len(preferred), p=p)
    return np.where(rng.random(len(preferred)) < keep, preferred, drawn).astype(np.int64)


def _pick(rng: np.random.Generator, weights: Ints, n: int) -> Ints:
    """``n`` indices of ``weights`` drawn in proportion to them."""
    cdf = np.cumsum(weights) / weights.sum()
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int64)


def _payment_delay(rng: np.random.Generator, terms: Ints) -> Ints:
    """Days from order to payment: mostly within terms, some late by days or weeks, a few very."""
    n = len(terms)
    kind = rng.random(n)
    on_time = np.floor(terms * rng.beta(4.0, 1.5, n))  # most pay shortly before the due date
    days_late = terms + rng.geometric(1 / 6, n)
    weeks_late = terms + 14 + rng.exponential(14.0, n)
    very_late = terms + np.minimum(60 + rng.exponential(45.0, n), 180)  # then debt collection
    delay = np.select([kind < 0.74, kind < 0.92, kind < 0.98], [on_time, days_late, weeks_late])
    return np.where(kind < 0.98, delay, very_late).astype(np.int64)


_DIGITS = np.frombuffer(b"".join(f"{i:04d}".encode() for i in range(10_000)), np.uint32)


def _numbered(prefix: str, numbers: Ints, width: int) -> Any:
    """``prefix`` + zero-padded ``numbers`` as an Arrow string array, built byte-wise for speed."""
    groups = -(-width // 4)  # four digits at a time from a lookup table
    digits = np.empty((len(numbers), groups), np.uint32)
    rest = numbers.copy()
    for group in range(groups - 1, -1, -1):
        digits[:, group] = _DIGITS[rest % 10_000]
        rest //= 10_000
    chars = np.empty((len(numbers), len(prefix) + width), np.uint8)
    chars[:, : len(prefix)] = np.frombuffer(prefix.encode(), np.uint8)
    chars[:, len(prefix) :] = digits.view(np.uint8)[:, 4 * groups - width :]
    offsets = np.arange(len(numbers) + 1, dtype=np.int32) * chars.shape[1]
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(chars)]
    return pa.Array.from_buffers(pa.string(), len(numbers), buffers)


def _follow_up(rng: np.random.Generator, week: Columns, previous: Ints) -> Columns:
    """The week's orders, some turned to the next category of the customer's last one before
    the week (sales stay in the outlet); ``previous`` is then moved on to this week's last."""
    who, category = week["customer"], week["category"]
    before = previous[who]
    turn = (before >= 0) & (category != _OUTLET) & (rng.random(len(who)) < _FOLLOW_UP)
    category = np.where(turn, _NEXT_CATEGORY[np.maximum(before, 0)], category)
    customers, from_end = np.unique(who[::-1], return_index=True)  # orders are in time order
    previous[customers] = category[len(who) - 1 - from_end]
    return week | {"category": category}


@dataclass(frozen=True, eq=False)
class DemoShop:
    """A planned shop: its customers, when and how often they buy; :meth:`batches` has the orders.

    Customer arrays are in sign-up order (by first possible order day), as are customer ids.
    """

    seed: int
    start: date
    cum: Floats  # running total of the days' order volume, one longer than the period
    month: Ints  # of each day, 0 = January
    first: Ints
    last: Ints
    counts: Ints
    channel: Ints
    payment: Ints
    category: Ints
    terms: Ints  # days to pay an invoice or bank transfer
    price_level: Floats
    basket: Floats  # mean items per order
    country: Ints
    first_name: Ints  # index into the first of NAME_LISTS
    last_name: Ints
    email: Any  # pa.StringArray

    @property
    def orders(self) -> int:
        """Number of orders the shop will produce."""
        return int(self.counts.sum())

    @property
    def customers(self) -> int:
        """Number of customers with at least one order."""
        return len(self.counts)

    def batches(self, batch_rows: int = 250_000) -> Iterator[Any]:
        """Orders by date as ``pa.RecordBatch`` of at least ``batch_rows`` rows (but the last).

        The rows do not depend on ``batch_rows``, only on the plan.
        """
        days, width = len(self.month), max(7, len(str(self.orders)))
        remaining, pending, done = self.counts.copy(), list[Columns](), 0
        previous = np.full(self.customers, -1, np.int64)  # each customer's last category so far
        for week, monday in enumerate(range(0, days, 7)):
            rng = np.random.default_rng([self.seed, 1, week])
            follow = np.random.default_rng([self.seed, 2, week])
            columns = self._week(rng, monday, min(monday + 7, days), remaining)
            pending.append(_follow_up(follow, columns, previous))
            rows = sum(len(part["customer"]) for part in pending)
            if rows >= batch_rows or (monday + 7 >= days and rows):
                yield self._assemble(pending, done, width)
                pending, done = [], done + rows

    def line_batches(self, batch_rows: int = 250_000) -> Iterator[tuple[int, Any]]:
        """The orders of :meth:`batches` as product lines: ``(orders, batch)`` pairs whose
        ``batch`` (of :data:`LINE_SCHEMA`) holds the lines of ``orders`` orders.

        An order's lines share its amount (the last line takes the rounding), so an order's
        line amounts add up to the order's amount; the products follow what goes together and
        what comes next (:class:`lealta.demo.baskets.BasketMaker`, seeded by the shop's seed).
        """
        from lealta.demo.baskets import BasketMaker

        maker = BasketMaker(np.random.default_rng([self.seed, 3]))
        for batch in self.batches(batch_rows):
            yield batch.num_rows, order_lines_batch(batch, maker)

    def _week(self, rng: np.random.Generator, lo: int, hi: int, remaining: Ints) -> Columns:
        """This week's orders, drawn so that each customer's orders follow the seasonal curve."""
        cum, last = self.cum, self.last
        known = int(np.searchsorted(self.first, hi))  # customers signed up before the week ends
        who = np.flatnonzero((last[:known] >= lo) & (remaining[:known] > 0))
        since, until = np.maximum(self.first[who], lo), np.minimum(last[who], hi - 1)
        share = (cum[until + 1] - cum[since]) / (cum[last[who] + 1] - cum[since])
        counts = rng.binomial(remaining[who], np.minimum(share, 1.0))
        remaining[who] -= counts
        who = np.repeat(who, counts)
        day = sample_days(
            cum, np.repeat(since, counts), np.repeat(until, counts), rng.random(len(who))
        )
        channel = _keep_or_draw(rng, self.channel[who], 0.8, CHANNEL_SHARES)
        hours = np.where(
            channel == _STORE,
            _pick(rng, _STORE_HOURS, len(who)),
            _pick(rng, _ONLINE_HOURS, len(who)),
        )
        second = day * 86_400 + hours * 3600 + rng.integers(0, 3600, len(who))
        order = np.argsort(second, kind="stable")
        who, day, channel, second = who[order], day[order], channel[order], second[order]
        columns = {"customer": who, "second": second, "channel": channel}
        return columns | self._basket(rng, who, day) | self._payment(rng, who, day, channel)

    def _basket(self, rng: np.random.Generator, who: Ints, day: Ints) -> Columns:
        n = len(who)
        category = _keep_or_draw(rng, self.category[who], 0.55, CATEGORY_SHARES)
        on_sale = np.isin(self.month[day], (0, 6)) & (rng.random(n) < 0.2)  # January, July sales
        category = np.where(on_sale, _OUTLET, category)
        items = 1 + rng.poisson(self.basket[who] - 1.0)
        price = self.price_level[who] * rng.lognormal(0.0, 0.3, n)  # times the category's
        return {"category": category, "items": items, "price": price}

    def _payment(self, rng: np.random.Generator, who: Ints, day: Ints, channel: Ints) -> Columns:
        method = _keep_or_draw(rng, self.payment[who], 0.85, PAYMENT_SHARES)
        method = np.where(channel == _STORE, _CARD, method)  # store tills take cards
        deferred = np.flatnonzero((method == _INVOICE) | (method == _BANK_TRANSFER))
        terms = self.terms[who[deferred]]
        due, paid = day.copy(), day.copy()
        due[deferred] += terms
        paid[deferred] += _payment_delay(rng, terms)
        return {"payment": method, "due": due, "paid": paid}

    def _assemble(self, parts: list[Columns], done: int, width: int) -> Any:
        column = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
        who, n = column["customer"], len(column["customer"])
        epoch_day = int((np.datetime64(self.start, "D") - np.datetime64(0, "D")).astype(np.int64))
        unpaid = column["paid"] >= len(self.month)  # not paid by the end of the export
        price = _CATEGORY_PRICE[column["category"]] * column["price"]
        amount = np.maximum(np.round(column["items"] * price, 2), 0.5)
        arrays = [
            _numbered("SO-", np.arange(done + 1, done + n + 1, dtype=np.int64), width),
            _numbered("C", who + 1, max(6, len(str(self.customers)))),
            self.email.take(who),
            pa.array(NAME_LISTS[0][0]).take(self.first_name[who]),
            pa.array(NAME_LISTS[1][0]).take(self.last_name[who]),
            pa.array(column["second"] + epoch_day * 86_400, pa.timestamp("s")),
            pa.array(amount, pa.float64()),
            pa.repeat("EUR", n),
            pa.array(column["items"], pa.int64()),
            pa.array(CATEGORIES).take(column["category"]),
            pa.array(CHANNELS).take(column["channel"]),
            pa.array(PAYMENT_METHODS).take(column["payment"]),
            pa.array((column["due"] + epoch_day).astype(np.int32), pa.date32()),
            pa.array((column["paid"] + epoch_day).astype(np.int32), pa.date32(), mask=unpaid),
            pa.array(COUNTRIES).take(self.country[who]),
        ]
        return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


def order_lines_batch(orders: Any, maker: Any) -> Any:
    """The product lines of a batch of orders, drawn by ``maker`` (a ``BasketMaker``) in the
    batch's order; each line repeats its order's columns."""
    table = orders.to_pydict()
    take: list[int] = []
    product: dict[str, list[Any]] = {name: [] for name in LINE_SCHEMA.names[len(ORDER_COLUMNS) :]}
    for row, (customer, category, items, amount) in enumerate(
        zip(table["customer_id"], table["category"], table["items"], table["amount"], strict=True)
    ):
        lines = maker.lines(customer, category, items, amount)
        shares = [round(line["price"] * line["quantity"], 2) for line in lines]
        shares[-1] = round(amount - sum(shares[:-1]), 2)
        for line, share in zip(lines, shares, strict=True):
            take.append(row)
            product["product_id"].append(line["product_id"])
            product["product_name"].append(line["name"])
            product["category"].append(line["category"])
            product["quantity"].append(line["quantity"])
            product["price"].append(line["price"])
            product["amount"].append(share)
    repeated = orders.select(ORDER_COLUMNS).take(pa.array(take, pa.int64()))
    arrays = [
        *repeated.columns,
        *(pa.array(v, LINE_SCHEMA.field(k).type) for k, v in product.items()),
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=LINE_SCHEMA)
