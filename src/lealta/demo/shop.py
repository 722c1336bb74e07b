"""A seeded synthetic shop: customers of several archetypes and their orders, as Arrow data.

Customers are planned first (archetype, active period, number of orders, preferences; see
:mod:`lealta.demo.plan`). Orders are then drawn one week at a time, each week from its own
seeded generator (:mod:`lealta.demo.orders`), so the output is sorted by order date, needs
memory for one batch only and does not depend on the batch size. :mod:`lealta.demo.files`
writes them to a file.

This module is the demo data's public entry point and re-exports what callers need.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

from lealta.demo.catalogue import CATEGORIES, CHANNELS, COUNTRIES, PAYMENT_METHODS, SCHEMA
from lealta.demo.files import FORMATS, XLSX_MAX_ROWS, check_target, write_orders, write_shop
from lealta.demo.orders import DemoShop
from lealta.demo.plan import plan_shop

__all__ = [
    "CATEGORIES",
    "CHANNELS",
    "COUNTRIES",
    "FORMATS",
    "PAYMENT_METHODS",
    "SCHEMA",
    "XLSX_MAX_ROWS",
    "DemoShop",
    "check_target",
    "generate_orders",
    "iter_orders",
    "plan_shop",
    "write_orders",
    "write_shop",
]


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
