"""The values the contact list's filters offer: stages, tags, lists, RFM segments, clusters.

Each list comes from an index, one seek per distinct value (a "loose index scan"): a million
tagged contacts with 30 distinct tags cost 31 index lookups, not a million-row DISTINCT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from lealta.contacts.tables import ContactList, ContactTag
from lealta.rulesets.service import lifecycle_model
from lealta.segmentation.tables import ContactRfm

MAX_CHOICES = 200


@dataclass(frozen=True)
class Choices:
    """What each filter can be set to (``more_tags``: there are more than listed)."""

    stages: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    more_tags: bool = False
    lists: list[tuple[str, str]] = field(default_factory=list)  # (slug, name)
    segments: list[str] = field(default_factory=list)
    clusters: list[tuple[int, str]] = field(default_factory=list)  # (number, name)


def distinct_values(
    session: Session, column: InstrumentedAttribute[Any], *, limit: int = MAX_CHOICES
) -> list[Any]:
    """The distinct non-null values of an indexed ``column``, smallest first, at most
    ``limit`` (plus one, so the caller can tell there are more)."""
    found: list[Any] = []
    while len(found) <= limit:
        after: list[ColumnElement[bool]] = [column > found[-1]] if found else [column.is_not(None)]
        value = session.scalar(select(func.min(column)).where(*after))
        if value is None:
            break
        found.append(value)
    return found


def choices(session: Session) -> Choices:
    """Every filter's choices, each from an index or a small table."""
    tags = distinct_values(session, ContactTag.tag)
    clusters = [
        (number, _cluster_name(session, number))
        for number in distinct_values(session, ContactRfm.cluster)
    ]
    lists = session.execute(select(ContactList.slug, ContactList.name).order_by(ContactList.name))
    return Choices(
        stages=[stage.name for stage in lifecycle_model(session).stages],
        tags=tags[:MAX_CHOICES],
        more_tags=len(tags) > MAX_CHOICES,
        lists=[(str(slug), str(name)) for slug, name in lists],
        segments=distinct_values(session, ContactRfm.segment),
        clusters=clusters,
    )


def _cluster_name(session: Session, number: int) -> str:
    name = session.scalar(
        select(ContactRfm.cluster_name).where(ContactRfm.cluster == number).limit(1)
    )
    return name or f"cluster {number}"
