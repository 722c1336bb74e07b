"""Counting who a condition holds of while it is edited: exactly, as an estimate answered
fast at a million contacts, and as a funnel (who is left after each condition of an ``all``).

The **estimate** runs the same set-wise query on a slice of the contacts: contact ids are
random hexadecimal (uuid4), so the ids between two hexadecimal bounds are a uniform random
sample of the people, found along the contacts' primary key. The slice is chosen to hold
about :data:`SAMPLE` contacts; the count in it, scaled by the share of live contacts the
slice holds, is the estimate, with a 95 % margin from the binomial spread of the sample.
When the store holds fewer than ``SAMPLE`` contacts the estimate is the exact count.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from lealta.conditions.explain import funnel_queries
from lealta.conditions.sql import members_query
from lealta.contacts.tables import Contact

SAMPLE = 10_000
ID_SPACE = 16**8  # ids are compared on their first 8 hexadecimal digits


@dataclass(frozen=True)
class Estimate:
    """An estimated count: ``count`` ± ``margin`` (95 %), from ``sampled`` contacts of
    ``contacts`` (``exact`` when every contact was looked at)."""

    count: int
    margin: int
    sampled: int
    contacts: int
    exact: bool


@dataclass(frozen=True)
class Step:
    """A funnel step: the condition's position, what it asks in words and who is left once
    it and every one before it hold."""

    index: int
    label: str
    left: int


def count(session: Session, condition: Any, *, now: dt.datetime) -> int:
    """How many live contacts ``condition`` holds of at ``now`` (one set-wise query)."""
    return _count(session, members_query(condition, now=now, setwise=True))


def estimate(
    session: Session, condition: Any, *, now: dt.datetime, sample: int = SAMPLE
) -> Estimate:
    """An estimate of :func:`count` from a slice of about ``sample`` contacts (see the module
    docstring); exact on small stores."""
    contacts = _live_contacts(session)
    if contacts <= sample:
        exact = count(session, condition, now=now)
        return Estimate(exact, 0, contacts, contacts, exact=True)
    width = max(1, ID_SPACE * sample // contacts)
    low, high = _bounds(0, width)
    in_slice = _live_contacts(session, low, high)
    if in_slice == 0:
        exact = count(session, condition, now=now)
        return Estimate(exact, 0, contacts, contacts, exact=True)
    in_range = members_query(condition, now=now).where(Contact.id >= low, Contact.id < high)
    found = _count(session, in_range)
    share = found / in_slice
    margin = 1.96 * math.sqrt(share * (1 - share) / in_slice) * contacts
    return Estimate(round(share * contacts), math.ceil(margin), in_slice, contacts, exact=False)


def funnel(session: Session, condition: Any, *, now: dt.datetime) -> list[Step]:
    """Who is left after each top-level condition of an ``all`` (cumulatively: the first,
    the first two …; :func:`lealta.conditions.explain.funnel_queries`); a single step for
    any other condition."""
    return [
        Step(index, step.label, _count(session, step.query))
        for index, step in enumerate(funnel_queries(condition, now=now))
    ]


def _count(session: Session, query: Select[Any]) -> int:
    found = query.subquery()
    return int(session.scalar(select(func.count()).select_from(found)) or 0)


def _live_contacts(session: Session, low: str | None = None, high: str | None = None) -> int:
    query = (
        select(func.count())
        .select_from(Contact)
        .where(Contact.erased_at.is_(None), Contact.merged_into.is_(None))
    )
    if low is not None and high is not None:
        query = query.where(and_(Contact.id >= low, Contact.id < high))
    return int(session.scalar(query) or 0)


def _bounds(start: int, width: int) -> tuple[str, str]:
    """The id bounds of the slice ``[start, start + width)`` of the 8-digit id space."""
    high = min(ID_SPACE, start + width)
    return f"{start:08x}", ("g" if high >= ID_SPACE else f"{high:08x}")
