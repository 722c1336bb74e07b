"""What the synthetic shop's orders are made of: the export's columns and their value lists.

The categorical columns (category, channel, payment method, country) draw from fixed lists,
with shop-wide shares that the planning of customers and the drawing of orders both use.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import NDArray

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

#: Shop-wide shares of each entry of the lists above, in the same order.
CATEGORY_SHARES = np.array([0.34, 0.16, 0.14, 0.14, 0.08, 0.14])
CHANNEL_SHARES = np.array([0.50, 0.25, 0.15, 0.10])
PAYMENT_SHARES = np.array([0.42, 0.28, 0.15, 0.07, 0.08])
COUNTRY_SHARES = np.array([0.34, 0.07, 0.15, 0.05, 0.10, 0.10, 0.11, 0.08])
