"""Unsubscribing from a message and the preference page's choices: consent and lists.

**Unsubscribe** (:func:`unsubscribe`) withdraws consent for the channel the message came on
(``denied``, source ``unsubscribe-link``), leaves the list named in the message's payload
(``list``) if any, and records an ``unsubscribed`` interaction with an ``Unsubscribed`` event,
once per message however often the link is posted. The dispatcher checks consent at the
moment of sending, so nothing more goes out on that channel.

**Preferences** (:func:`preferences`, :func:`change`) show and change consent per channel and
membership of the *public* lists: those a sign-up form offers, which people could join
themselves. Lists only filled by the shop (segments copied to a list, internal lists) are
never shown, so their names cannot leak. Only changes are recorded: ticking a channel already
granted writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.channels.tables import OutboxMessage
from lealta.contacts import service as contacts
from lealta.contacts.consent import consents_in_force, record_consent
from lealta.contacts.tables import CHANNELS, Contact, ContactList, ListMembership
from lealta.errors import NotFound
from lealta.feedback.service import add_event, record
from lealta.forms.tables import Form

# The consent channel each sending channel needs (push via a browser is ``web_push``).
CONSENT_CHANNELS = {
    "email": "email",
    "sms": "sms",
    "push": "push",
    "webpush": "web_push",
    "web_push": "web_push",
}
CHANNEL_LABELS = {
    "email": "E-mail",
    "sms": "Text messages (SMS)",
    "push": "App notifications",
    "web_push": "Browser notifications",
    "ads": "Advertising with my e-mail or phone (e.g. on social networks)",
}
UNSUBSCRIBE_SOURCE = "unsubscribe-link"
PREFERENCES_SOURCE = "preference-page"
PREFERENCES_UPDATED = "Preferences Updated"


@dataclass(frozen=True)
class Unsubscribed:
    """What an unsubscribe did: the consent channel withdrawn and the list left, if any."""

    contact_id: str
    channel: str | None
    list_slug: str | None


@dataclass(frozen=True)
class Option:
    """One choice on the preference page."""

    key: str
    label: str
    chosen: bool


@dataclass(frozen=True)
class Preferences:
    """A person's choices: consent per channel, membership per public list."""

    contact_id: str
    channels: tuple[Option, ...]
    lists: tuple[Option, ...]


def unsubscribe(
    session: Session, *, outbox_id: int, at: dt.datetime, proof: Mapping[str, Any]
) -> Unsubscribed:
    """Stop message ``outbox_id``'s channel (and list) for its recipient; ``NotFound`` when the
    message or the person is gone."""
    message = session.get(OutboxMessage, outbox_id)
    if message is None:
        raise NotFound(f"no message {outbox_id}")
    contact = contacts.get_live(session, message.contact_id)
    channel = CONSENT_CHANNELS.get(message.channel)
    if channel is not None:
        _decide(session, contact.id, channel, "denied", UNSUBSCRIBE_SOURCE, at, proof)
    slug = (message.payload or {}).get("list")
    left = slug if isinstance(slug, str) and _leave(session, contact, slug, at) else None
    details = {"unsubscribed_channel": channel} if channel else {}
    if left is not None:
        details["list"] = left
    record(
        session,
        outbox_id=outbox_id,
        kind="unsubscribed",
        at=at,
        details=details,
        dedupe_key=f"unsubscribe:{outbox_id}",
    )
    return Unsubscribed(contact.id, channel, left)


def contact_of(session: Session, outbox_id: int) -> str:
    """The live contact message ``outbox_id`` went to (``NotFound`` when gone)."""
    message = session.get(OutboxMessage, outbox_id)
    if message is None:
        raise NotFound(f"no message {outbox_id}")
    return contacts.get_live(session, message.contact_id).id


def preferences(session: Session, contact_id: str) -> Preferences:
    """The choices in force for ``contact_id`` (a merged id gives its survivor's)."""
    contact = contacts.get_live(session, contact_id)
    consents = consents_in_force(session, contact.id)
    channels = tuple(
        Option(name, CHANNEL_LABELS[name], _granted(consents, name)) for name in CHANNELS
    )
    memberships = _memberships(session, contact.id)
    lists = tuple(
        Option(row.slug, row.name, memberships.get(row.id) in ("subscribed", "pending"))
        for row in public_lists(session)
    )
    return Preferences(contact.id, channels, lists)


def change(
    session: Session,
    contact_id: str,
    *,
    channels: Collection[str],
    lists: Collection[str],
    at: dt.datetime,
    proof: Mapping[str, Any],
) -> Preferences:
    """Make the chosen ``channels`` and public ``lists`` the person's, and no others.

    Unknown channel or list names are ignored (a stale page may name a list deleted since).
    A ``Preferences Updated`` event lists what changed, when anything did.
    """
    before = preferences(session, contact_id)
    changes: dict[str, dict[str, bool]] = {"channels": {}, "lists": {}}
    for option in before.channels:
        wanted = option.key in channels
        if wanted != option.chosen:
            status = "granted" if wanted else "denied"
            _decide(session, before.contact_id, option.key, status, PREFERENCES_SOURCE, at, proof)
            changes["channels"][option.key] = wanted
    contact = contacts.get_live(session, before.contact_id)
    for option in before.lists:
        wanted = option.key in lists
        if wanted != option.chosen:
            if wanted:
                contacts.join_list(
                    session, contact, option.key, source=PREFERENCES_SOURCE, confirmed=True, now=at
                )
            else:
                _leave(session, contact, option.key, at)
            changes["lists"][option.key] = wanted
    if changes["channels"] or changes["lists"]:
        _changed_event(session, before.contact_id, changes, at)
    return preferences(session, before.contact_id)


def public_lists(session: Session) -> list[ContactList]:
    """Lists a sign-up form offers, by name."""
    offered = select(Form.list_id).where(Form.list_id.is_not(None))
    return list(
        session.scalars(
            select(ContactList).where(ContactList.id.in_(offered)).order_by(ContactList.name)
        )
    )


def _granted(consents: Mapping[str, Any], channel: str) -> bool:
    current = consents.get(channel)
    return current is not None and current.status == "granted"


def _decide(
    session: Session,
    contact_id: str,
    channel: str,
    status: str,
    source: str,
    at: dt.datetime,
    proof: Mapping[str, Any],
) -> None:
    """Record ``status`` for ``channel`` unless it is already the decision in force."""
    current = consents_in_force(session, contact_id).get(channel)
    if current is None and status == "denied" and source == PREFERENCES_SOURCE:
        return  # never asked is already no consent
    if current is None or current.status != status:
        record_consent(session, contact_id, channel, status, source=source, at=at, proof=proof)


def _memberships(session: Session, contact_id: str) -> dict[int, str]:
    rows = session.execute(
        select(ListMembership.list_id, ListMembership.status).where(
            ListMembership.contact_id == contact_id
        )
    )
    return {int(list_id): str(status) for list_id, status in rows}


def _leave(session: Session, contact: Contact, slug: str, at: dt.datetime) -> bool:
    """Leave list ``slug``; whether the person was on it (subscribed or pending)."""
    listed = session.scalar(select(ContactList).where(ContactList.slug == slug))
    if listed is None:
        return False
    membership = session.get(ListMembership, (listed.id, contact.id))
    if membership is None or membership.status == "unsubscribed":
        return False
    contacts.leave_list(session, contact, slug, now=at)
    return True


def _changed_event(
    session: Session, contact_id: str, changes: Mapping[str, Any], at: dt.datetime
) -> None:
    add_event(
        session,
        contact_id=contact_id,
        name=PREFERENCES_UPDATED,
        properties={"source": PREFERENCES_SOURCE, **changes},
        at=at,
        message_id=f"preferences:{contact_id}:{at.astimezone(dt.UTC).isoformat()}",
    )
