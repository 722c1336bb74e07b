"""Every choice that defines an RFM(P) computation, as one immutable value.

The defaults are Lealta's conventions; presets (``r-rfm``, ``pymc``) replace them to reproduce
other tools. Pure data: no I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Literal

from lealta.errors import InvalidInput

Purchase = Literal["order", "day", "row"]
Monetary = Literal["sum", "mean"]
Payment = Literal["promptness", "method"]
Dimension = Literal["r", "f", "m", "p"]
Scheme = Literal["quantile", "r-rfm", "pymc"]
DIMENSIONS: tuple[Dimension, ...] = ("r", "f", "m", "p")


@dataclass(frozen=True)
class RFMOptions:
    """How recency, frequency, monetary and payment are measured and scored.

    Attributes
    ----------
    as_of
        The analysis date. Purchases on or after it are excluded; recency is the number of
        days from the last purchase's date to it. Default: the day after the last purchase.
    window_days
        Only purchases in the ``window_days`` days before ``as_of`` count.
    since
        Only purchases on or after this date count (a season, with ``as_of`` as its end).
    purchase
        What one purchase is: an ``order`` (distinct order id; default), a ``day`` (distinct
        calendar days with a purchase) or a ``row`` of the input.
    monetary
        ``sum``: total spent (default); ``mean``: average value of a purchase.
    bins
        Number of score levels for quantile scoring (default 5).
    thresholds
        Per dimension, ascending break points replacing quantile scoring: a value ``v`` falls
        in the interval ``(b[i-1], b[i]]``; ``len(b) + 1`` levels.
    best_high
        ``True``: the best score is the highest (5 = best, default); ``False``: 1 = best.
    reverse_recency
        Rank the customer who bought longest ago as best (durable goods).
    payment
        ``promptness`` (days late, lower is better) or ``method`` (a ranking of payment
        methods, higher is better); ``None`` for plain RFM.
    method_ranking
        Payment method → value (higher is better) for ``payment="method"``.
    date_format
        strftime-style format of the date column; detected when ``None``.
    cancel_pattern
        Regular expression on the order id marking cancellations (UCI: ``C536379``);
        empty to disable.
    decimal_comma
        Numbers are written with a decimal comma and dots between thousands (``1.234,56``).
    scheme
        ``quantile`` (Lealta's scoring, or ``thresholds``), or the data-dependent cut points
        of another tool (``r-rfm``, ``pymc``; see :mod:`lealta.segmentation.cutpoints`).
    as_of_inclusive
        Purchases on the as-of day itself count, and the default as-of date is the day of the
        last purchase (pymc-marketing's observation period end).
    keep_after_as_of
        Purchases after the as-of date are kept (R ``rfm``), giving negative recency.
    """

    as_of: dt.date | None = None
    window_days: int | None = None
    since: dt.date | None = None
    purchase: Purchase = "order"
    monetary: Monetary = "sum"
    bins: int = 5
    thresholds: dict[str, tuple[float, ...]] = field(default_factory=dict)
    best_high: bool = True
    reverse_recency: bool = False
    payment: Payment | None = None
    method_ranking: dict[str, float] = field(default_factory=dict)
    date_format: str | None = None
    cancel_pattern: str = r"^[Cc][0-9]"
    decimal_comma: bool = False
    scheme: Scheme = "quantile"
    as_of_inclusive: bool = False
    keep_after_as_of: bool = False

    def __post_init__(self) -> None:
        if not 2 <= self.bins <= 10:
            raise InvalidInput("bins must be between 2 and 10", field="bins")
        if self.window_days is not None and self.window_days <= 0:
            raise InvalidInput("the window must be a positive number of days", field="window")
        if self.since and self.as_of and self.since >= self.as_of:
            raise InvalidInput("--since must be before --as-of", field="since")
        for dim, breaks in self.thresholds.items():
            if dim not in DIMENSIONS:
                raise InvalidInput(f"unknown dimension {dim!r} in thresholds", field="thresholds")
            if not breaks or list(breaks) != sorted(set(breaks)):
                raise InvalidInput(
                    f"thresholds for {dim} must be strictly increasing numbers",
                    field="thresholds",
                )
        if self.payment == "method" and not self.method_ranking:
            raise InvalidInput(
                "payment by method needs a ranking of methods, e.g. card=5,invoice=2",
                field="payment_ranking",
            )

    def levels(self, dim: str) -> int:
        """How many score levels ``dim`` has."""
        breaks = self.thresholds.get(dim)
        return len(breaks) + 1 if breaks else self.bins

    def with_(self, **changes: object) -> RFMOptions:
        """A copy with ``changes`` applied (validated again)."""
        return replace(self, **changes)  # type: ignore[arg-type]
