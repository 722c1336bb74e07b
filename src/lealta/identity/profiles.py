"""Profiles as plain rows, for code that changes thousands of them per transaction.

The tracking processor touches every person of a batch (last seen, stage, score). Loading
them as ORM instances, tracking each attribute set and flushing them cost about a fifth of its
CPU time; a :class:`Profile` is the same row with plain attributes, read by one query per
2,000 ids and written back by one ``UPDATE`` per set of columns changed
(:func:`lealta.storage.bulk.update_rows`). A profile remembers the values it was read with;
what differs is what is written. Replace the dictionaries (``attributes``, ``score_state``),
never change them in place: a change in place would not be seen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from itertools import compress
from operator import attrgetter, ne
from typing import Any, cast

from sqlalchemy import String, Table, TypeDecorator, bindparam, select, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from lealta.contacts.names import search_name
from lealta.contacts.tables import Contact
from lealta.storage.base import Moment
from lealta.storage.bulk import update_rows
from lealta.storage.keyed import KeyedSelect

# what the processor may change, in the order written
WRITTEN = (
    "attributes",
    "search_name",
    "lifecycle_stage",
    "score",
    "score_state",
    "first_seen_at",
    "last_seen_at",
)


class _SeenAt(TypeDecorator[dt.datetime]):
    """A contact's first or last seen time read as an aware UTC datetime, as the processor
    compares it. SQLite keeps it as text without a zone (SQLAlchemy's format): parsed with its
    zone at once, where SQLAlchemy's naive datetime and a ``replace`` cost four times more
    (two a profile, a profile an event). PostgreSQL gives it aware."""

    impl = Moment
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(String() if dialect.name == "sqlite" else Moment)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if type(value) is str:
            try:
                return dt.datetime.fromisoformat(value + "+00:00")
            except ValueError:  # not SQLAlchemy's text: read as SQLAlchemy would, then UTC
                value = dt.datetime.fromisoformat(value)
        return _aware(value)


# what a profile is read from, in the order :class:`Profile` takes it (:func:`from_row`)
COLUMNS = (
    Contact.id,
    Contact.created_at,
    Contact.merged_into,
    *(getattr(Contact, name) for name in WRITTEN[:-2]),
    type_coerce(Contact.first_seen_at, _SeenAt()).label("first_seen_at"),
    type_coerce(Contact.last_seen_at, _SeenAt()).label("last_seen_at"),
)
_READ = KeyedSelect(select(*COLUMNS).where(Contact.id.in_(bindparam("keys", expanding=True))))
CONTACTS = cast(Table, Contact.__table__)


class Profile:
    """One contact's row: its id, creation time, merge pointer and the :data:`WRITTEN`
    columns. Setting ``attributes`` keeps ``search_name`` in step, as on
    :class:`lealta.contacts.tables.Contact`."""

    __slots__ = (
        "_attributes",
        "_read",
        "created_at",
        "first_seen_at",
        "id",
        "last_seen_at",
        "lifecycle_stage",
        "merged_into",
        "score",
        "score_state",
        "search_name",
    )

    def __init__(
        self,
        id: str,
        created_at: dt.datetime,
        merged_into: str | None = None,
        attributes: dict[str, Any] | None = None,
        search_name: str | None = None,
        lifecycle_stage: str | None = None,
        score: float = 0.0,
        score_state: dict[str, Any] | None = None,
        first_seen_at: dt.datetime | None = None,
        last_seen_at: dt.datetime | None = None,
    ) -> None:
        self.id = id
        self.created_at = created_at
        self.merged_into = merged_into
        self._attributes = attributes if attributes is not None else {}
        self.search_name = search_name
        self.lifecycle_stage = lifecycle_stage
        self.score = score
        self.score_state = score_state if score_state is not None else {}
        self.first_seen_at = first_seen_at
        self.last_seen_at = last_seen_at
        self._read = self._values()

    @property
    def attributes(self) -> dict[str, Any]:
        return self._attributes

    @attributes.setter
    def attributes(self, value: dict[str, Any]) -> None:
        self._attributes = value
        self.search_name = search_name(value)

    def changed(self) -> tuple[str, ...]:
        """The :data:`WRITTEN` columns whose values differ from those read (or last written)."""
        now = self._values()
        if now == self._read:
            return ()
        return tuple(compress(WRITTEN, map(ne, now, self._read)))

    def _values(self) -> tuple[Any, ...]:
        return (
            self._attributes,
            self.search_name,
            self.lifecycle_stage,
            self.score,
            self.score_state,
            self.first_seen_at,
            self.last_seen_at,
        )


def load(session: Session, ids: Iterable[str]) -> dict[str, Profile]:
    """The profiles of ``ids`` (those that exist), by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    found = {}
    for row in _READ.rows(session.connection(), wanted):
        profile = from_row(row)
        found[profile.id] = profile
    return found


def from_row(row: Sequence[Any]) -> Profile:
    """The profile of a row of :data:`COLUMNS` (as converted by
    :class:`lealta.storage.keyed.KeyedSelect`)."""
    return Profile(*row)  # the seen-at times aware (:class:`_SeenAt`)


def write(session: Session, profiles: Iterable[Profile], *, now: dt.datetime) -> int:
    """Write what changed on ``profiles`` (and ``updated_at``), by one statement per set of
    columns changed; returns how many were written. The session's own copies of those
    contacts, if it holds any, are expired so that they are read again when used."""
    alike: dict[tuple[str, ...], list[Profile]] = {}
    for profile in profiles:
        names = profile.changed()
        if names:
            alike.setdefault(names, []).append(profile)
    if not alike:
        return 0
    connection = session.connection()
    written: set[str] = set()
    for names, group in alike.items():
        keys = ("id", *names)
        values = attrgetter(*keys)
        rows = [dict(zip(keys, values(p), strict=True)) for p in group]
        update_rows(connection, CONTACTS, rows, key="id", shared={"updated_at": now})
        for profile in group:
            profile._read = profile._values()
            written.add(profile.id)
    _expire(session, written)
    return len(written)


def survivor_id(session: Session, contact_id: str) -> str:
    """The id of the contact ``contact_id`` is, or was merged into (``LookupError`` when
    there is no such contact)."""
    seen: set[str] = set()
    current = contact_id
    while current not in seen:
        seen.add(current)
        found = load(session, [current]).get(current)
        if found is None:
            raise LookupError(contact_id)
        if found.merged_into is None:
            return current
        current = found.merged_into
    return current


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


def _expire(session: Session, ids: set[str]) -> None:
    # by identity key: reading ``id`` of an expired copy would load it
    held = session.identity_map.keys()
    stale = [key for key in held if key[0] is Contact and key[1][0] in ids]
    for key in stale:
        session.expire(session.identity_map[key])
