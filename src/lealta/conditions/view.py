"""What a condition sees of one person: the contact view and its events and orders. Pure.

The per-person side of the condition language (:mod:`lealta.conditions.person`) reads these;
the set-wise side (:mod:`lealta.conditions.sql`) reads the same facts from the tables. Loaders
(:mod:`lealta.conditions.views`) fill only the parts a condition needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

from lealta.errors import InvalidInput


def aware_utc(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC; ``InvalidInput`` naming ``what`` when it has no time zone."""
    if moment.utcoffset() is None:
        raise InvalidInput(f"{what} must be timezone-aware", field=what)
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class EventView:
    """One event of the contact as conditions see it; ``occurred_at`` is converted to UTC."""

    name: str | None
    type: str
    occurred_at: datetime
    properties: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "occurred_at", aware_utc(self.occurred_at, "occurred_at"))


@dataclass(frozen=True, slots=True)
class OrderView:
    """One order of the contact (a row of ``orders``): when, its total and its lines.

    ``items`` are the order's lines as stored (``product_id``, ``category``, ``quantity``
    (1 when absent), ``price`` (of one unit; 0 when absent) …).
    """

    placed_at: datetime
    amount: Decimal
    items: Sequence[Mapping[str, Any]] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "placed_at", aware_utc(self.placed_at, "placed_at"))
        object.__setattr__(self, "amount", Decimal(str(self.amount)))
        object.__setattr__(self, "items", tuple(self.items))


def _when(event: EventView) -> datetime:
    return event.occurred_at


@dataclass(frozen=True, slots=True)
class ContactView:
    """What is known of a contact when a condition is tested.

    ``lists`` maps list slugs to membership status (``subscribed``, ``pending``,
    ``unsubscribed``); ``consent`` maps channels to the decision in force (``granted``,
    ``denied``, ``pending``). ``segment`` is the RFM segment, ``cluster`` the K-Means cluster's
    name, ``rfm`` the RFM(P) scores by letter (``r``, ``f``, ``m``, ``p``; empty when never
    scored). ``timezone`` is the contact's IANA time zone when known (None: the workflow's).
    ``events`` are the recent events the loader read, oldest first; ``orders`` the contact's
    orders. ``tier`` is the contact's loyalty tier (None: in no tier) and ``tier_ranks`` the
    ranks of the programme's tiers in force by case-folded name (1 = lowest), for
    ``loyalty_tier``. ``points`` is the contact's loyalty points balance now (the running
    balance of their latest ledger entry; 0 without one), for ``loyalty_points``.
    ``audiences`` are the names of the saved audiences the contact is a member of.
    ``prediction`` is the latest ``clv`` run's ``p_alive``, ``clv`` and ``churn_band`` for
    the contact (None: not scored), for ``prediction``. ``next_best`` are the contact's
    next-best suggestions of the latest affinity run, ``(kind, item)`` best rank first
    (``kind``: ``category`` or ``product``), for ``next_best``.
    """

    id: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    lists: Mapping[str, str] = field(default_factory=dict)
    stage: str | None = None
    score: float = 0.0
    segment: str | None = None
    cluster: str | None = None
    consent: Mapping[str, str] = field(default_factory=dict)
    timezone: str | None = None
    events: Sequence[EventView] = ()
    tier: str | None = None
    tier_ranks: Mapping[str, int] = field(default_factory=dict)
    points: int = 0
    rfm: Mapping[str, int] = field(default_factory=dict)
    orders: Sequence[OrderView] = ()
    audiences: frozenset[str] = frozenset()
    prediction: Mapping[str, Any] | None = None
    next_best: Sequence[tuple[str, str]] = ()

    def __post_init__(self) -> None:
        events = tuple(self.events)
        if any(a.occurred_at > b.occurred_at for a, b in pairwise(events)):
            events = tuple(sorted(events, key=_when))
        object.__setattr__(self, "events", events)  # oldest first, always
        object.__setattr__(self, "orders", tuple(self.orders))
        object.__setattr__(self, "next_best", tuple(self.next_best))
