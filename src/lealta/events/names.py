"""Matching events by their exact name over everyone, through ``ix_events_name_time``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func

from lealta.events.tables import Event


def named(names: Iterable[str]) -> tuple[Any, ...]:
    """Conditions for the events of exactly these names (case counts), found through
    ``ix_events_name_time`` (lower-cased name and time, migration 0023): the lower-cased match
    lets the database use the index, the exact one keeps the meaning. There is no index on
    the exact name (migration 0025)."""
    exact = sorted(set(names))
    return (func.lower(Event.name).in_(sorted({n.lower() for n in exact})), Event.name.in_(exact))
