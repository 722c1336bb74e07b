"""Keeping audiences: saving versions, reading, listing, archiving and deleting.

Saving a definition under a name already stored adds a version when anything changed
(like workflows); the members are recomputed by the next refresh
(:mod:`lealta.audiences.membership`). A definition is refused, naming the field, when its
list does not exist, when it refers to an audience that does not exist, or when audiences
would refer to each other in a circle. An audience other audiences refer to cannot be
renamed, archived or deleted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lealta.audiences.definition import AudienceDefinition, dump, load_definition, referred
from lealta.audiences.tables import Audience, AudienceMember, AudienceSize, AudienceVersion
from lealta.conditions import audiences_named
from lealta.conditions.sql import members_query
from lealta.contacts.tables import ContactList
from lealta.errors import Conflict, InvalidInput, NotFound


@dataclass(frozen=True)
class Saved:
    """The outcome of saving a definition."""

    audience: Audience
    created: bool
    changed: bool


def save(
    session: Session,
    source: str | Mapping[str, Any],
    *,
    now: dt.datetime,
    audience_id: int | None = None,
) -> Saved:
    """Store a definition (YAML/JSON text or mapping): a new audience, or a new version of the
    audience of that name (of ``audience_id`` when given: a rename, unless others refer to it).

    Raises
    ------
    InvalidInput
        The definition is invalid (``field`` names where), its list or an audience it refers
        to does not exist, or the references would go round in a circle.
    NotFound
        ``audience_id`` is given and does not exist.
    Conflict
        The name is another audience's, or a rename of an audience others refer to.
    """
    definition = load_definition(source)
    members_query(definition.condition, now=now)  # what SQL cannot test is refused now
    if audience_id is not None:
        audience: Audience | None = get(session, audience_id)
    else:
        audience = _by_name(session, definition.name)
    _check_list(session, definition)
    _check_references(session, definition, audience)
    document = dump(definition)
    if audience is None:
        return Saved(_create(session, definition, document, now), created=True, changed=True)
    if definition.name != audience.name:
        _check_rename(session, audience, definition.name)
    current = session.get(AudienceVersion, (audience.id, audience.version))
    if current is not None and current.definition == document:
        return Saved(audience, created=False, changed=False)
    audience.version += 1
    _apply(audience, definition, document, now)
    session.add(
        AudienceVersion(
            audience_id=audience.id,
            version=audience.version,
            definition=document,
            created_at=now,
        )
    )
    session.flush()
    return Saved(audience, created=False, changed=True)


def _create(
    session: Session, definition: AudienceDefinition, document: dict[str, Any], now: dt.datetime
) -> Audience:
    audience = Audience(version=1, created_at=now, refreshes=0, archived=False)
    _apply(audience, definition, document, now)
    session.add(audience)
    session.flush()
    session.add(
        AudienceVersion(audience_id=audience.id, version=1, definition=document, created_at=now)
    )
    session.flush()
    return audience


def _apply(
    audience: Audience,
    definition: AudienceDefinition,
    document: dict[str, Any],
    now: dt.datetime,
) -> None:
    audience.name = definition.name
    audience.description = definition.description
    audience.condition = document["condition"]
    audience.list_slug = definition.list_
    audience.updated_at = now


def get(session: Session, key: int | str) -> Audience:
    """The audience of id ``key`` (an int, or digits) or else of name ``key``."""
    found: Audience | None = None
    if isinstance(key, int) or key.isdigit():
        found = session.get(Audience, int(key))
    if found is None and isinstance(key, str):
        found = _by_name(session, key)
    if found is None:
        raise NotFound(f"no audience {key!r}")
    return found


def definition(session: Session, audience: Audience, version: int | None = None) -> dict[str, Any]:
    """The stored definition of a version of ``audience`` (the current one by default)."""
    row = session.get(AudienceVersion, (audience.id, version or audience.version))
    if row is None:
        raise NotFound(f"audience {audience.name!r} has no version {version}")
    return dict(row.definition)


def list_(session: Session, *, archived: bool = False) -> list[Audience]:
    """The audiences by name (the archived ones too when ``archived``)."""
    query = select(Audience).order_by(Audience.name)
    if not archived:
        query = query.where(Audience.archived.is_(False))
    return list(session.scalars(query))


def archive(session: Session, audience: Audience, *, archived: bool, now: dt.datetime) -> Audience:
    """Archive (no more refreshes; members kept as they were) or bring back an audience."""
    if archived:
        _check_unreferenced(session, audience, "archived")
    audience.archived = archived
    audience.updated_at = now
    session.flush()
    return audience


def delete_(session: Session, audience: Audience) -> None:
    """Delete ``audience`` with its versions, members and sizes. Members leave without an
    ``Audience Exited`` event: the audience is gone, not the people out of it."""
    _check_unreferenced(session, audience, "deleted")
    for table in (AudienceMember, AudienceSize, AudienceVersion):
        session.execute(delete(table).where(table.audience_id == audience.id))
    session.delete(audience)
    session.flush()


def referring(session: Session, name: str) -> list[str]:
    """The names of the audiences whose condition refers to audience ``name``."""
    return sorted(
        audience.name
        for audience in session.scalars(select(Audience))
        if name in referred(audience.condition)
    )


def _by_name(session: Session, name: str) -> Audience | None:
    return session.scalar(select(Audience).where(Audience.name == name))


def _check_list(session: Session, definition: AudienceDefinition) -> None:
    if definition.list_ is None:
        return
    if session.scalar(select(ContactList.id).where(ContactList.slug == definition.list_)) is None:
        raise InvalidInput(
            f"no list {definition.list_!r}: create it first (POST /v1/lists) or leave list out",
            field="list",
        )


def _check_references(
    session: Session, definition: AudienceDefinition, audience: Audience | None
) -> None:
    """Every audience named exists, and following the references never comes back here."""
    named = set(audiences_named(definition.condition))
    if not named:
        return
    refers = {row.name: referred(row.condition) for row in session.scalars(select(Audience))}
    if audience is not None:
        refers.pop(audience.name, None)
    refers[definition.name] = named
    missing = sorted(name for name in named if name not in refers)
    if missing:
        raise InvalidInput(
            f"no audience {', '.join(repr(name) for name in missing)} to refer to",
            field="condition",
        )
    seen: set[str] = set()
    pending = sorted(named)
    while pending:
        name = pending.pop()
        if name == definition.name:
            raise InvalidInput(
                f"audience {definition.name!r} would refer to itself (through {name!r} and "
                "the audiences it names)",
                field="condition",
            )
        if name not in seen:
            seen.add(name)
            pending.extend(refers.get(name, ()))


def _check_rename(session: Session, audience: Audience, new_name: str) -> None:
    if _by_name(session, new_name) is not None:
        raise Conflict(f"there is already an audience named {new_name!r}")
    _check_unreferenced(session, audience, "renamed")


def _check_unreferenced(session: Session, audience: Audience, what: str) -> None:
    others = [name for name in referring(session, audience.name) if name != audience.name]
    if others:
        raise Conflict(
            f"audience {audience.name!r} cannot be {what}: "
            f"{', '.join(repr(name) for name in others)} refer to it"
        )
