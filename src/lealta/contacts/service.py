"""Contacts: create, read, change; tags, lists, consent and attribute declarations.

Every function takes a session from the unit of work and never commits. Reads follow merges:
asking for a merged contact's id gives its survivor. An erased contact is gone for good
(:class:`ContactErased`, answered 410 by the API).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lealta.automations import signals
from lealta.contacts.attributes import BUILT_IN, IDENTITY_TRAITS, check_name, coerce, coerce_all
from lealta.contacts.consent import record_consent
from lealta.contacts.schemas import (
    AttributeDefinitionIn,
    AttributeOut,
    ContactIn,
    ContactPatch,
    ListIn,
    ListOut,
)
from lealta.contacts.tables import (
    CHANNELS,
    AttributeDefinition,
    Contact,
    ContactList,
    ContactTag,
    Identifier,
    ListMembership,
)
from lealta.errors import Conflict, InvalidInput, NotFound
from lealta.identity.normalize import KINDS, normalize
from lealta.identity.service import survivor
from lealta.lifecycle import service as lifecycle
from lealta.rulesets.service import lifecycle_model


class ContactErased(NotFound):
    """The contact existed but was erased (answered ``410 Gone``)."""

    def __init__(self, contact_id: str, erased_at: dt.datetime) -> None:
        stamp = erased_at.replace(tzinfo=erased_at.tzinfo or dt.UTC).isoformat()
        super().__init__(f"contact {contact_id} was erased on {stamp}; nothing is held any more")
        self.contact_id = contact_id
        self.erased_at = erased_at


class FieldConflict(Conflict):
    """A conflict caused by one field of the request (answered 409 naming it)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


# -- reading -------------------------------------------------------------------------------


def get(session: Session, contact_id: str) -> tuple[Contact, str | None]:
    """The live contact ``contact_id`` is (or was merged into), and the merged id if it was.

    Raises
    ------
    NotFound
        No such contact.
    ContactErased
        The contact was erased.
    """
    try:
        contact = survivor(session, contact_id)
    except LookupError:
        raise NotFound(f"no contact {contact_id!r}") from None
    if contact.erased_at is not None:
        raise ContactErased(contact.id, contact.erased_at)
    return contact, (contact_id if contact.id != contact_id else None)


def get_live(session: Session, contact_id: str) -> Contact:
    """The live contact ``contact_id`` leads to (see :func:`get`)."""
    return get(session, contact_id)[0]


def person_ids(session: Session, contact_id: str) -> list[str]:
    """``contact_id`` and every contact merged into it, directly or through other merges."""
    found = [contact_id]
    frontier = [contact_id]
    while frontier:
        merged = session.scalars(select(Contact.id).where(Contact.merged_into.in_(frontier))).all()
        frontier = [m for m in merged if m not in found]
        found.extend(frontier)
    return found


def declared_types(session: Session) -> dict[str, str]:
    """Declared attribute types by name (the built-in ones are not included)."""
    rows = session.execute(select(AttributeDefinition.name, AttributeDefinition.type))
    return dict(rows.all())


# -- writing -------------------------------------------------------------------------------


def create(session: Session, data: ContactIn, *, now: dt.datetime, region: str) -> Contact:
    """A new contact in the lifecycle's initial stage.

    Raises
    ------
    InvalidInput
        No identifier, a malformed one, a bad attribute value, an unknown list or channel.
    FieldConflict
        An identifier already belongs to another contact.
    """
    wanted = _identifiers(data.identifiers.given(), region)
    if not wanted:
        raise InvalidInput(
            "a contact needs at least one identifier: email, phone, user_id or external_id",
            field="identifiers",
        )
    for kind, value in wanted.items():
        _ensure_free(session, kind, value, owner=None)
    attributes = _coerced(session, data.attributes)
    contact = Contact(
        created_at=now,
        updated_at=now,
        attributes={k: v for k, v in attributes.items() if v is not None},
    )
    session.add(contact)
    session.flush()
    for kind, value in wanted.items():
        session.add(Identifier(contact_id=contact.id, kind=kind, value=value, created_at=now))
    for tag in data.tags:
        add_tag(session, contact, tag, now=now)
    for slug in data.lists:
        join_list(session, contact, slug, source=data.source, confirmed=False, now=now)
    for channel, status in data.consent.items():
        _check_channel(channel, field=f"consent.{channel}")
        record_consent(session, contact.id, channel, status, source=data.source, at=now)
    lifecycle.start(session, contact, lifecycle_model(session), at=now)
    session.flush()
    return contact


def update(
    session: Session, contact: Contact, patch: ContactPatch, *, now: dt.datetime, region: str
) -> Contact:
    """Merge ``patch`` into ``contact``: attributes set or (null) removed, identifiers added
    or (null) removed; at least one identifier must remain."""
    if patch.attributes:
        changed = _coerced(session, patch.attributes)
        attributes = dict(contact.attributes)
        for name, value in changed.items():
            if value is None:
                attributes.pop(name, None)
            else:
                attributes[name] = value
        contact.attributes = attributes
    if patch.identifiers:
        _change_identifiers(session, contact, patch.identifiers, now=now, region=region)
    contact.updated_at = now
    session.flush()
    return contact


def _change_identifiers(
    session: Session,
    contact: Contact,
    changes: Mapping[str, str | None],
    *,
    now: dt.datetime,
    region: str,
) -> None:
    for kind in changes:
        if kind not in KINDS:
            raise InvalidInput(
                f"unknown identifier kind {kind!r}; known: {', '.join(KINDS)}",
                field=f"identifiers.{kind}",
            )
    removed = [kind for kind, value in changes.items() if value is None]
    added = _identifiers({k: v for k, v in changes.items() if v is not None}, region)
    if removed:
        session.execute(
            delete(Identifier).where(
                Identifier.contact_id == contact.id, Identifier.kind.in_(removed)
            )
        )
    for kind, value in added.items():
        if _ensure_free(session, kind, value, owner=contact.id):
            session.add(Identifier(contact_id=contact.id, kind=kind, value=value, created_at=now))
    session.flush()
    left = session.scalar(
        select(func.count()).select_from(Identifier).where(Identifier.contact_id == contact.id)
    )
    if not left:
        raise InvalidInput(
            "a contact must keep at least one identifier", field=f"identifiers.{removed[0]}"
        )


def _identifiers(given: Mapping[str, str], region: str) -> dict[str, str]:
    wanted: dict[str, str] = {}
    for kind, value in given.items():
        try:
            wanted[kind] = normalize(kind, value, region)
        except InvalidInput as error:
            raise InvalidInput(str(error), field=f"identifiers.{kind}") from None
    return wanted


def _ensure_free(session: Session, kind: str, value: str, *, owner: str | None) -> bool:
    """True when (kind, value) is nobody's; False when ``owner`` has it; raises otherwise."""
    holder = session.scalar(
        select(Identifier.contact_id).where(Identifier.kind == kind, Identifier.value == value)
    )
    if holder is None:
        return True
    if holder == owner:
        return False
    raise FieldConflict(
        f"{kind} {value!r} already belongs to contact {survivor(session, holder).id}",
        field=f"identifiers.{kind}",
    )


def _coerced(session: Session, values: Mapping[str, Any]) -> dict[str, Any]:
    for name in values:
        if name in IDENTITY_TRAITS:
            raise InvalidInput(
                f"{name!r} is an identifier, not an attribute: send it under 'identifiers'",
                field=f"attributes.{name}",
            )
    good, _ = coerce_all(values, declared_types(session), strict=True)
    return good


# -- tags ----------------------------------------------------------------------------------


def add_tag(
    session: Session, contact: Contact, tag: str, *, now: dt.datetime, by: str | None = None
) -> bool:
    """Tag ``contact`` (a ``Tag Added`` event, with ``by`` when a person did it); False when it
    already had the tag."""
    tag = _check_tag(tag)
    if session.get(ContactTag, (contact.id, tag)) is not None:
        return False
    session.add(ContactTag(contact_id=contact.id, tag=tag, created_at=now))
    session.flush()
    signals.tag_added(session, contact.id, tag, now=now, by=by)
    return True


def remove_tag(
    session: Session,
    contact: Contact,
    tag: str,
    *,
    now: dt.datetime | None = None,
    by: str | None = None,
) -> bool:
    """Remove a tag (a ``Tag Removed`` event when ``now`` is given); False when the contact did
    not have it."""
    row = session.get(ContactTag, (contact.id, tag.strip()))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    if now is not None:
        signals.tag_removed(session, contact.id, row.tag, now=now, by=by)
    return True


def _check_tag(tag: str) -> str:
    tag = tag.strip()
    if not tag or len(tag) > 100:
        raise InvalidInput("a tag is 1 to 100 characters", field="tag")
    return tag


# -- lists ---------------------------------------------------------------------------------


def create_list(session: Session, data: ListIn, *, now: dt.datetime) -> ContactList:
    """A new list; its slug must be unused."""
    if session.scalar(select(ContactList.id).where(ContactList.slug == data.slug)) is not None:
        raise FieldConflict(f"a list {data.slug!r} already exists", field="slug")
    row = ContactList(
        slug=data.slug, name=data.name, double_opt_in=data.double_opt_in, created_at=now
    )
    session.add(row)
    session.flush()
    return row


def list_lists(session: Session) -> list[ListOut]:
    """Every list with its member counts by status, by slug."""
    counts: dict[int, dict[str, int]] = {}
    rows = session.execute(
        select(ListMembership.list_id, ListMembership.status, func.count())
        .join(Contact, Contact.id == ListMembership.contact_id)
        .where(Contact.erased_at.is_(None), Contact.merged_into.is_(None))
        .group_by(ListMembership.list_id, ListMembership.status)
    )
    for list_id, status, count in rows:
        counts.setdefault(list_id, {})[status] = int(count)
    return [
        ListOut(
            slug=row.slug,
            name=row.name,
            double_opt_in=row.double_opt_in,
            created_at=row.created_at,
            members={
                status: counts.get(row.id, {}).get(status, 0)
                for status in ("subscribed", "pending", "unsubscribed")
            },
        )
        for row in session.scalars(select(ContactList).order_by(ContactList.slug))
    ]


def find_list(session: Session, slug: str) -> ContactList:
    """The list ``slug``; NotFound otherwise."""
    row = session.scalar(select(ContactList).where(ContactList.slug == slug))
    if row is None:
        raise NotFound(f"no list {slug!r}")
    return row


def join_list(
    session: Session,
    contact: Contact,
    slug: str,
    *,
    source: str,
    confirmed: bool,
    now: dt.datetime,
) -> ListMembership:
    """Subscribe ``contact`` (pending on a double opt-in list unless ``confirmed``).

    A subscribed member stays subscribed; a pending or unsubscribed one is (re)subscribed.
    """
    listed = find_list(session, slug)
    status = "pending" if listed.double_opt_in and not confirmed else "subscribed"
    membership = session.get(ListMembership, (listed.id, contact.id))
    if membership is None:
        membership = ListMembership(
            list_id=listed.id,
            contact_id=contact.id,
            status=status,
            source=source,
            created_at=now,
            updated_at=now,
        )
        session.add(membership)
    elif membership.status != "subscribed":
        membership.status = status
        membership.source = source
        membership.updated_at = now
    else:
        return membership  # already subscribed: nothing happened
    session.flush()
    if status == "subscribed":
        signals.list_joined(session, contact.id, slug, source=source, now=now)
    return membership


def leave_list(session: Session, contact: Contact, slug: str, *, now: dt.datetime) -> None:
    """Mark ``contact`` unsubscribed from ``slug`` (the row is kept as a record)."""
    listed = find_list(session, slug)
    membership = session.get(ListMembership, (listed.id, contact.id))
    if membership is None:
        raise NotFound(f"contact {contact.id} is not on list {slug!r}")
    if membership.status != "unsubscribed":
        membership.status = "unsubscribed"
        membership.updated_at = now
    session.flush()


# -- consent -------------------------------------------------------------------------------


def set_consent(
    session: Session,
    contact: Contact,
    channel: str,
    status: str,
    *,
    source: str,
    proof: Mapping[str, Any],
    now: dt.datetime,
) -> None:
    """Record a consent decision for ``channel`` (see :func:`record_consent`)."""
    _check_channel(channel, field="channel")
    record_consent(session, contact.id, channel, status, source=source, at=now, proof=proof)


def _check_channel(channel: str, *, field: str) -> None:
    if channel not in CHANNELS:
        raise InvalidInput(
            f"unknown channel {channel!r}; choose from {', '.join(CHANNELS)}", field=field
        )


# -- attribute declarations ----------------------------------------------------------------


def declare_attribute(
    session: Session, name: str, data: AttributeDefinitionIn, *, now: dt.datetime
) -> AttributeOut:
    """Declare (or re-declare) the type of attribute ``name``.

    Existing values are rewritten in the type's canonical form.

    Raises
    ------
    FieldConflict
        Some contacts hold values that do not fit the type (how many is said).
    """
    check_name(name)
    if name in IDENTITY_TRAITS:
        raise InvalidInput(f"{name!r} is an identifier, not an attribute", field="name")
    rewrites, misfits, example = _fit_existing(session, name, data.type)
    if misfits:
        raise FieldConflict(
            f"{misfits} contact(s) hold values of {name!r} that are not a {data.type} "
            f"(e.g. {example!r}); fix or remove them first",
            field="type",
        )
    for contact, value in rewrites:
        contact.attributes = {**contact.attributes, name: value}
    row = session.get(AttributeDefinition, name)
    if row is None:
        row = AttributeDefinition(name=name, created_at=now)
        session.add(row)
    row.type = data.type
    row.description = data.description
    session.flush()
    return AttributeOut(name=name, type=row.type, description=row.description, built_in=False)


def _fit_existing(
    session: Session, name: str, kind: str
) -> tuple[list[tuple[Contact, Any]], int, Any]:
    rewrites: list[tuple[Contact, Any]] = []
    misfits = 0
    example: Any = None
    holders = session.scalars(
        select(Contact).where(
            Contact.erased_at.is_(None),
            Contact.merged_into.is_(None),
            Contact.attributes[name].as_string().is_not(None),
        )
    )
    for contact in holders:
        value = contact.attributes.get(name)
        if value is None:
            continue
        try:
            fitted = coerce(name, kind, value)
        except InvalidInput:
            misfits += 1
            example = value if example is None else example
            continue
        if fitted != value or type(fitted) is not type(value):
            rewrites.append((contact, fitted))
    return rewrites, misfits, example


def list_attributes(session: Session) -> list[AttributeOut]:
    """Declared attributes, then the built-in ones not re-declared, by name."""
    declared = {
        row.name: AttributeOut(
            name=row.name, type=row.type, description=row.description, built_in=False
        )
        for row in session.scalars(select(AttributeDefinition))
    }
    for name, kind in BUILT_IN.items():
        declared.setdefault(
            name, AttributeOut(name=name, type=kind, description="built in", built_in=True)
        )
    return [declared[name] for name in sorted(declared)]
