"""A seeded synthetic shop: customers of several archetypes and their orders, as Arrow data.

Customers are planned first (archetype, active period, number of orders, preferences). Orders
are then drawn one week at a time, each week from its own seeded generator, so the output is
sorted by order date, needs memory for one batch only and does not depend on the batch size.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import NDArray

from lealta.errors import InvalidInput

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Columns = dict[str, NDArray[Any]]

SCHEMA = pa.schema(
    [
        *((name, pa.string()) for name in ("order_id", "customer_id", "email")),
        *((name, pa.string()) for name in ("first_name", "last_name")),
        ("order_date", pa.timestamp("s")),
        ("amount", pa.float64()),
        ("currency", pa.string()),
        ("items", pa.int64()),
        *((name, pa.string()) for name in ("category", "channel", "payment_method")),
        ("due_date", pa.date32()),
        ("paid_date", pa.date32()),
        ("country", pa.string()),
    ]
)
CATEGORIES = ("Apparel", "Shoes", "Home", "Beauty", "Electronics", "Outlet")
CHANNELS = ("web", "app", "store", "marketplace")
PAYMENT_METHODS = ("card", "paypal", "invoice", "bank_transfer", "cash_on_delivery")
COUNTRIES = ("DE", "AT", "FR", "BE", "NL", "ES", "IT", "PL")
FORMATS = (".csv", ".csv.gz", ".parquet", ".xlsx", ".jsonl")
XLSX_MAX_ROWS = 1_048_575  # an Excel sheet's rows, less the header

_CATEGORY_P = np.array([0.34, 0.16, 0.14, 0.14, 0.08, 0.14])
_CATEGORY_PRICE = np.array([32.0, 64.0, 38.0, 19.0, 129.0, 15.0])
_CHANNEL_P = np.array([0.50, 0.25, 0.15, 0.10])
_PAYMENT_P = np.array([0.42, 0.28, 0.15, 0.07, 0.08])
_COUNTRY_P = np.array([0.34, 0.07, 0.15, 0.05, 0.10, 0.10, 0.11, 0.08])
_COUNTRY_NAMES = np.array([0, 0, 1, 1, 2, 3, 4, 5])  # Austria borrows German names, Belgium French
_OUTLET, _STORE, _CARD, _INVOICE, _BANK_TRANSFER = 5, 2, 0, 2, 3
# one-time, occasional, regular, whale, lapsed, new
_ONE_TIME, _OCCASIONAL, _REGULAR, _WHALE, _LAPSED, _NEW = range(6)
_ARCHETYPE_P = np.array([0.47, 0.24, 0.16, 0.03, 0.07, 0.03])
_MONTH_FACTOR = np.array([0.9, 0.8, 0.9, 0.95, 0.95, 0.9, 0.95, 0.85, 0.95, 1.0, 1.35, 1.55])
_WEEKDAY_FACTOR = np.array([1.05, 1.0, 1.0, 1.0, 0.95, 0.9, 1.1])  # Monday first
_ONLINE_HOURS = np.array(
    [2, 1, 1, 1, 1, 1, 2, 4, 6, 7, 8, 9, 10, 9, 8, 8, 8, 9, 11, 13, 14, 13, 9, 5]
)
_STORE_HOURS = np.array([0] * 9 + [5, 7, 9, 10, 9, 9, 10, 11, 11, 9, 6] + [0] * 4)
_NAMES = (  # (first names, last names) of Germany, France, the Netherlands, Spain, Italy, Poland
    ("Anna,Lena,Julia,Laura,Sophie,Maria,Lukas,Jonas,Felix,Leon,Paul,Jan,Maximilian,Jürgen",
     "Müller,Schmidt,Schneider,Fischer,Weber,Meyer,Wagner,Becker,Schulz,Hoffmann,Schäfer,Koch"),
    ("Camille,Léa,Manon,Chloé,Emma,Inès,Louis,Hugo,Lucas,Jules,Théo,Gabriel",
     "Martin,Bernard,Dubois,Thomas,Robert,Richard,Petit,Durand,Leroy,Moreau,Lefèvre,Girard"),
    ("Sanne,Emma,Lotte,Fleur,Anouk,Femke,Daan,Sem,Bram,Lars,Thijs,Ruben",
     "de Jong,Jansen,de Vries,van den Berg,Bakker,Visser,Smit,Meijer,de Boer,Mulder,Bos,Vos"),
    ("Lucía,Sofía,Martina,María,Paula,Carmen,Hugo,Mateo,Martín,Pablo,Daniel,Alejandro",
     "García,Rodríguez,González,Fernández,López,Martínez,Sánchez,Pérez,Gómez,Jiménez,Ruiz"),
    ("Giulia,Sofia,Aurora,Alice,Ginevra,Chiara,Leonardo,Francesco,Alessandro,Lorenzo,Mattia",
     "Rossi,Russo,Ferrari,Esposito,Bianchi,Romano,Colombo,Ricci,Marino,Greco,Bruno,Gallo"),
    ("Zuzanna,Julia,Zofia,Hanna,Maja,Katarzyna,Antoni,Jan,Jakub,Aleksander,Franciszek,Łukasz",
     "Nowak,Kowalski,Wiśniewski,Wójcik,Kowalczyk,Kamiński,Lewandowski,Zieliński,Woźniak"),
)  # fmt: skip


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


def _sample_days(cum: Floats, lo: Ints, hi: Ints, u: Floats) -> Ints:
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
    first = _sample_days(cum, lo, hi, rng.random(n))
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


def _slug(name: str) -> str:
    plain = name.translate({ord("ł"): "l", ord("Ł"): "L", ord("ß"): "ss"})
    return unicodedata.normalize("NFKD", plain).encode("ascii", "ignore").decode().lower()


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


def _name_lists(part: int) -> tuple[list[str], Ints, Ints]:
    """All first (0) or last (1) names, and where each country's list starts and how long it is."""
    lists = [pair[part].split(",") for pair in _NAMES]
    sizes = np.array([len(names) for names in lists])
    flat = [name for names in lists for name in names]
    return flat, (np.cumsum(sizes) - sizes)[_COUNTRY_NAMES], sizes[_COUNTRY_NAMES]


def _people(rng: np.random.Generator, n: int) -> dict[str, Any]:
    """Country, first and last name (indices into :data:`_NAME_LISTS`) and e-mail of customers."""
    country = rng.choice(len(COUNTRIES), size=n, p=_COUNTRY_P)
    people: dict[str, Any] = {"country": country}
    slugs = []
    for key, (flat, start, size) in zip(("first_name", "last_name"), _NAME_LISTS, strict=True):
        people[key] = start[country] + (rng.random(n) * size[country]).astype(np.int64)
        slugs.append(pa.array([_slug(name).replace(" ", "") for name in flat]).take(people[key]))
    first, last = slugs
    local = pc.choose(
        pa.array(rng.choice(3, size=n, p=[0.5, 0.3, 0.2])),
        pc.binary_join_element_wise(first, last, "."),
        pc.binary_join_element_wise(pc.utf8_slice_codeunits(first, 0, 1), last, ""),
        pc.binary_join_element_wise(first, last, "_"),
    )
    # the trailing customer number makes each address unique, as slugs hold no digits
    number = pa.array(np.arange(1, n + 1)).cast(pa.string())
    people["email"] = pc.binary_join_element_wise(local, number, "@example.com", "")
    return people


_NAME_LISTS = (_name_lists(0), _name_lists(1))


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
    first_name: Ints  # index into the first of _NAME_LISTS
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
        for week, monday in enumerate(range(0, days, 7)):
            rng = np.random.default_rng([self.seed, 1, week])
            pending.append(self._week(rng, monday, min(monday + 7, days), remaining))
            rows = sum(len(part["customer"]) for part in pending)
            if rows >= batch_rows or (monday + 7 >= days and rows):
                yield self._assemble(pending, done, width)
                pending, done = [], done + rows

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
        day = _sample_days(
            cum, np.repeat(since, counts), np.repeat(until, counts), rng.random(len(who))
        )
        channel = _keep_or_draw(rng, self.channel[who], 0.8, _CHANNEL_P)
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
        category = _keep_or_draw(rng, self.category[who], 0.55, _CATEGORY_P)
        on_sale = np.isin(self.month[day], (0, 6)) & (rng.random(n) < 0.2)  # January, July sales
        category = np.where(on_sale, _OUTLET, category)
        items = 1 + rng.poisson(self.basket[who] - 1.0)
        price = _CATEGORY_PRICE[category] * self.price_level[who] * rng.lognormal(0.0, 0.3, n)
        amount = np.maximum(np.round(items * price, 2), 0.5)
        return {"category": category, "items": items, "amount": amount}

    def _payment(self, rng: np.random.Generator, who: Ints, day: Ints, channel: Ints) -> Columns:
        method = _keep_or_draw(rng, self.payment[who], 0.85, _PAYMENT_P)
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
        arrays = [
            _numbered("SO-", np.arange(done + 1, done + n + 1, dtype=np.int64), width),
            _numbered("C", who + 1, max(6, len(str(self.customers)))),
            self.email.take(who),
            pa.array(_NAME_LISTS[0][0]).take(self.first_name[who]),
            pa.array(_NAME_LISTS[1][0]).take(self.last_name[who]),
            pa.array(column["second"] + epoch_day * 86_400, pa.timestamp("s")),
            pa.array(column["amount"], pa.float64()),
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


def plan_shop(
    *,
    customers: int | None = None,
    orders: int | None = None,
    seed: int = 7,
    start: date = date(2024, 1, 1),
    end: date = date(2025, 12, 31),
) -> DemoShop:
    """Plan a shop's customers; see :func:`generate_orders` for the parameters.

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
        "channel": rng.choice(len(CHANNELS), size=size, p=_CHANNEL_P),
        "payment": rng.choice(len(PAYMENT_METHODS), size=size, p=_PAYMENT_P),
        "category": rng.choice(len(CATEGORIES), size=size, p=_CATEGORY_P),
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
    people = _people(rng, len(keep))
    return DemoShop(seed=seed, start=start, cum=cum, month=month, **kept, **people)


def iter_orders(
    *,
    customers: int | None = None,
    orders: int | None = None,
    seed: int = 7,
    start: date = date(2024, 1, 1),
    end: date = date(2025, 12, 31),
    batch_rows: int = 250_000,
) -> Iterator[Any]:
    """Stream the orders of :func:`generate_orders` batch by batch, for sizes beyond memory.

    Parameters
    ----------
    customers, orders, seed, start, end
        As for :func:`generate_orders`.
    batch_rows
        Rows per batch to aim at; it only changes where the stream is cut, never the rows.

    Returns
    -------
    Iterator[pa.RecordBatch]
        Orders in :data:`SCHEMA`, oldest first; each batch but the last has ``batch_rows`` rows
        or a few more.
    """
    return plan_shop(customers=customers, orders=orders, seed=seed, start=start, end=end).batches(
        batch_rows
    )


def generate_orders(
    *,
    customers: int | None = None,
    orders: int | None = None,
    seed: int = 7,
    start: date = date(2024, 1, 1),
    end: date = date(2025, 12, 31),
) -> Any:
    """Generate a synthetic shop's order export.

    Parameters
    ----------
    customers, orders
        Size of the shop; give exactly one. ``orders=N`` yields exactly N orders of about N/10
        customers; ``customers=C`` yields C customers with about 10 orders each on average.
    seed
        Same seed and size give an identical table (with the same NumPy version).
    start, end
        First and last possible order day.

    Returns
    -------
    pa.Table
        One row per order in :data:`SCHEMA`, sorted by ``order_date``.

    Raises
    ------
    InvalidInput
        Both or neither size given, a size below 1, a negative seed, or start after end.
    """
    batches = iter_orders(customers=customers, orders=orders, seed=seed, start=start, end=end)
    return pa.Table.from_batches(list(batches), schema=SCHEMA)


def check_target(path: Path, orders: int | None = None) -> str:
    """The format :func:`write_orders` would write ``orders`` orders to ``path`` in.

    Returns
    -------
    str
        One of :data:`FORMATS`.

    Raises
    ------
    InvalidInput
        The extension is none of :data:`FORMATS`, the directory does not exist, or ``orders``
        exceed the rows of an Excel sheet.
    """
    name = path.name.lower()
    suffix = next((s for s in sorted(FORMATS, key=len, reverse=True) if name.endswith(s)), None)
    if suffix is None:  # .csv.gz was tried before .csv
        raise InvalidInput(
            f"{path.name}: unknown file type; use one of {', '.join(FORMATS)}", field="path"
        )
    if suffix == ".xlsx" and orders is not None and orders > XLSX_MAX_ROWS:
        raise InvalidInput(
            f"{orders:,} orders do not fit in an Excel sheet (at most {XLSX_MAX_ROWS:,} rows); "
            "write .csv or .parquet instead",
            field="path",
        )
    if not path.parent.is_dir():
        raise InvalidInput(f"directory {path.parent} does not exist", field="path")
    return suffix


def _write_csv(
    path: Path, batches: Iterator[Any], progress: Callable[[int], None], gzip: bool = False
) -> None:
    import gzip as gz

    import pyarrow.csv as pacsv  # type: ignore[import-untyped, unused-ignore]

    with path.open("wb") as raw:
        # level 3 halves the time of the usual 6 for a sixth more bytes; mtime 0 and no file
        # name in the header keep the same seed's file byte for byte the same
        sink = gz.GzipFile("", "wb", compresslevel=3, fileobj=raw, mtime=0) if gzip else raw
        with sink, pacsv.CSVWriter(sink, SCHEMA) as writer:
            for batch in batches:
                writer.write_batch(batch)
                progress(batch.num_rows)


def _write_parquet(path: Path, batches: Iterator[Any], progress: Callable[[int], None]) -> None:
    import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

    with pq.ParquetWriter(str(path), SCHEMA, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch)
            progress(batch.num_rows)


def _write_jsonl(path: Path, batches: Iterator[Any], progress: Callable[[int], None]) -> None:
    import duckdb

    def reported() -> Iterator[Any]:
        for batch in batches:
            yield batch
            progress(batch.num_rows)

    # DuckDB writes JSON lines far faster than pandas, with dates as in the CSV; with more than
    # one thread it buffers the whole stream to keep the row order
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false; SET threads = 1")
        con.register("orders", pa.RecordBatchReader.from_batches(SCHEMA, reported()))
        target = str(path).replace("'", "''")
        try:
            con.execute(f"COPY orders TO '{target}' (FORMAT json)")
        except duckdb.IOException as exc:  # callers expect OSError for file trouble
            raise OSError(str(exc)) from exc


def _write_xlsx(path: Path, batches: Iterator[Any], progress: Callable[[int], None]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("orders")
    sheet.append(SCHEMA.names)
    for batch in batches:
        for row in zip(*(column.to_pylist() for column in batch.columns), strict=True):
            sheet.append(row)
        progress(batch.num_rows)
    book.save(path)


_WRITERS: dict[str, Callable[[Path, Iterator[Any], Callable[[int], None]], None]] = {
    ".csv": _write_csv,
    ".csv.gz": partial(_write_csv, gzip=True),
    ".parquet": _write_parquet,
    ".jsonl": _write_jsonl,
    ".xlsx": _write_xlsx,
}


def write_orders(
    path: Path,
    *,
    customers: int | None = None,
    orders: int | None = None,
    seed: int = 7,
    start: date = date(2024, 1, 1),
    end: date = date(2025, 12, 31),
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write a synthetic shop's orders to ``path``, streaming them batch by batch.

    Parameters
    ----------
    path
        Target file; its extension picks the format: .csv, .csv.gz, .parquet, .xlsx or .jsonl.
        Dates are written as ``YYYY-MM-DD HH:MM:SS`` and ``YYYY-MM-DD``.
    customers, orders, seed, start, end
        As for :func:`generate_orders`.
    progress
        Called after each written batch with the number of rows it held.

    Returns
    -------
    int
        Number of orders written.

    Raises
    ------
    InvalidInput
        Unknown extension, missing directory, more rows than an Excel sheet holds, or invalid
        sizes or dates as for :func:`generate_orders`.
    """
    check_target(path)  # fail before planning a large shop
    shop = plan_shop(customers=customers, orders=orders, seed=seed, start=start, end=end)
    return write_shop(path, shop, progress=progress)


def write_shop(path: Path, shop: DemoShop, *, progress: Callable[[int], None] | None = None) -> int:
    """Write the orders of a planned shop; see :func:`write_orders`.

    Returns
    -------
    int
        Number of orders written.
    """
    suffix = check_target(path, shop.orders)
    part = path.with_name(path.name + ".part")  # never leave a half-written file at path
    try:
        _WRITERS[suffix](part, shop.batches(), progress or (lambda rows: None))
        part.replace(path)
    finally:
        part.unlink(missing_ok=True)
    return shop.orders
