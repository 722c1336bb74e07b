"""Every choice that defines an affinity computation, as one immutable value. Pure data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from lealta.errors import InvalidInput

By = Literal["category", "product"]
Score = Literal["sum", "max"]
BY: tuple[By, ...] = ("category", "product")


@dataclass(frozen=True)
class AffinityOptions:
    """What counts, over which period, and how much is enough.

    Attributes
    ----------
    by
        Pair ``category`` values (default) or ``product`` ids.
    as_of
        The end of the analysis period: lines on or after this day are left out. Default: the
        day after the last usable line.
    window_days
        Only lines in the ``window_days`` days before ``as_of`` count (from midnight of
        ``as_of - window_days``, included). ``None``: every line before ``as_of``.
    min_count
        A pair (and each of its items) needs at least this many baskets (together) or
        customers (sequence). Default 2.
    min_support
        A pair (and each of its items) needs at least this share of baskets (together) or
        customers (sequence), from 0 to 1. Default 0.
    gap_days
        Sequence only: the later item's first purchase must come at most this many days
        after the earlier one's (``None``: any time later in the window).
    top
        Next-best items kept per customer.
    score
        How a next-best item's score gathers the confidences pointing to it: ``sum``
        (default) or ``max``.
    rules_per_item
        Next-best: only each held item's this many most confident sequence rules count
        (default 50).
    """

    by: By = "category"
    as_of: dt.date | None = None
    window_days: int | None = None
    min_count: int = 2
    min_support: float = 0.0
    gap_days: int | None = None
    top: int = 3
    score: Score = "sum"
    rules_per_item: int = 50

    def __post_init__(self) -> None:
        if self.by not in BY:
            raise InvalidInput(f"by takes category or product, not {self.by!r}", field="by")
        if self.window_days is not None and self.window_days <= 0:
            raise InvalidInput("the window must be a positive number of days", field="window")
        if self.min_count < 1:
            raise InvalidInput("the minimum count must be at least 1", field="min_count")
        if not 0.0 <= self.min_support <= 1.0:
            raise InvalidInput("the minimum support is a share from 0 to 1", field="min_support")
        if self.gap_days is not None and self.gap_days <= 0:
            raise InvalidInput("the gap must be a positive number of days", field="gap")
        if not 1 <= self.top <= 100:
            raise InvalidInput("top takes 1 to 100 items per customer", field="top")
        if self.rules_per_item < 1:
            raise InvalidInput("rules per item takes at least 1", field="rules_per_item")
        if self.score not in ("sum", "max"):
            raise InvalidInput(f"score takes sum or max, not {self.score!r}", field="score")
