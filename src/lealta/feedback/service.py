"""Recording what happened to a sent message: one interaction row and one timeline event.

:func:`record` is the single entry point for opens, clicks, deliveries, bounces, complaints,
unsubscribes, survey answers and conversions, whoever observed them (the public links, a
provider's webhook, the attribution job). It stores a
:class:`~lealta.channels.tables.MessageInteraction` and appends the matching event to the
contact's history, in the caller's transaction.

**Idempotency.** With a ``dedupe_key`` (a provider's event id, ``<outbox>:<order>`` for a
conversion) a second call stores nothing and returns ``None``. Without one every call is a new
interaction: each load of the open pixel is an open, which is what "total opens" counts; unique
opens are the distinct messages with at least one.

**Event names** depend on the channel for the kinds that are the channel's own
(:func:`event_name`): ``Email Opened``, ``Email Clicked``, ``SMS Clicked``, ``Push Opened`` …;
the others are the same on every channel: ``Unsubscribed``, ``Complaint Received``,
``Survey Answered``, ``Message Converted``. Every event carries ``outbox_id``, ``channel``,
``template``, ``run_id`` and, for messages sent by a workflow, ``workflow`` and ``step``, so
automations (``message`` conditions match ``template``) and reports can tie it to the send.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.channels.tables import MessageInteraction, OutboxMessage
from lealta.contacts.tables import Contact
from lealta.errors import InvalidInput, NotFound
from lealta.events.tables import Event
from lealta.identity.service import survivor
from lealta.storage.upsert import insert_ignoring

KINDS = (
    "delivered",
    "bounced",
    "opened",
    "clicked",
    "unsubscribed",
    "complained",
    "converted",
    "answered",
)
# How each channel is named in event names ("Email Opened", "Push Opened" …).
CHANNEL_LABELS = {
    "email": "Email",
    "sms": "SMS",
    "push": "Push",
    "webpush": "Web Push",
    "web_push": "Web Push",
    "onsite": "On-site Message",
}
_CHANNEL_VERBS = {
    "delivered": "Delivered",
    "bounced": "Bounced",
    "opened": "Opened",
    "clicked": "Clicked",
}
_SHARED_NAMES = {
    "unsubscribed": "Unsubscribed",
    "complained": "Complaint Received",
    "converted": "Message Converted",
    "answered": "Survey Answered",
}
LONGEST_KEY = 200


def event_name(channel: str, kind: str) -> str:
    """The timeline event an interaction of ``kind`` on ``channel`` appends.

    >>> event_name("email", "opened"), event_name("sms", "clicked"), event_name("push", "answered")
    ('Email Opened', 'SMS Clicked', 'Survey Answered')
    """
    if kind in _SHARED_NAMES:
        return _SHARED_NAMES[kind]
    label = CHANNEL_LABELS.get(channel, "Message")
    return f"{label} {_CHANNEL_VERBS[kind]}"


def record(
    session: Session,
    *,
    outbox_id: int,
    kind: str,
    at: dt.datetime,
    url: str | None = None,
    details: Mapping[str, Any] | None = None,
    dedupe_key: str | None = None,
    order_id: str | None = None,
    revenue: Decimal | None = None,
) -> MessageInteraction | None:
    """Store an interaction with message ``outbox_id`` and append its event to the timeline.

    Returns the new row, or ``None`` when nothing was written: ``dedupe_key`` was recorded
    before, or the contact has been erased. ``details`` go to the row and, merged in, to the
    event's properties.
    Raises ``InvalidInput`` (field ``kind``) for an unknown kind and ``NotFound`` when there is
    no such message.
    """
    if kind not in KINDS:
        raise InvalidInput(
            f"unknown interaction {kind!r}; choose from {', '.join(KINDS)}", field="kind"
        )
    if dedupe_key is not None and not 0 < len(dedupe_key) <= LONGEST_KEY:
        raise InvalidInput(f"dedupe_key must be 1 to {LONGEST_KEY} characters", field="dedupe_key")
    message = session.get(OutboxMessage, outbox_id)
    if message is None:
        raise NotFound(f"no message {outbox_id}")
    if _erased(session, message.contact_id):
        return None  # an erased person is not tracked any more
    moment = _utc(at)
    row = {
        "outbox_id": message.id,
        "contact_id": message.contact_id,
        "kind": kind,
        "at": moment,
        "url": url,
        "order_id": order_id,
        "revenue": revenue,
        "details": dict(details or {}),
        "dedupe_key": dedupe_key,
    }
    if dedupe_key is None:
        interaction: MessageInteraction | None = MessageInteraction(**row)
        session.add(interaction)
        session.flush()
    else:
        if _by_key(session, dedupe_key) is not None:
            return None
        # Two transactions racing with one key both get the row; the event stays single
        # because its id derives from the row's.
        insert_ignoring(session, MessageInteraction.__table__, [row], conflict=["dedupe_key"])
        interaction = _by_key(session, dedupe_key)
    assert interaction is not None
    append_event(session, message, event_name(message.channel, kind), interaction, moment)
    return interaction


def _erased(session: Session, contact_id: str) -> bool:
    contact = session.get(Contact, contact_id)
    return contact is None or contact.erased_at is not None


def _by_key(session: Session, dedupe_key: str) -> MessageInteraction | None:
    return session.scalar(
        select(MessageInteraction).where(MessageInteraction.dedupe_key == dedupe_key)
    )


def interaction_event_id(interaction: MessageInteraction) -> str:
    """The ``message_id`` of the event an interaction appended (unique per interaction)."""
    return f"interaction:{interaction.id}"


def context(message: OutboxMessage) -> dict[str, Any]:
    """What every event about ``message`` says of it: ids, channel, template, workflow, step."""
    payload = message.payload or {}
    found = {
        "outbox_id": message.id,
        "channel": message.channel,
        "template": message.template,
        "run_id": message.run_id,
        "workflow": payload.get("workflow"),
        "step": payload.get("step"),
    }
    return {name: value for name, value in found.items() if value is not None}


def append_event(
    session: Session,
    message: OutboxMessage,
    name: str,
    interaction: MessageInteraction,
    at: dt.datetime,
    *,
    message_id: str | None = None,
) -> None:
    """Append event ``name`` about ``interaction`` to the contact's history (once per id)."""
    properties: dict[str, Any] = {**context(message), "interaction": interaction.kind}
    if interaction.url is not None:
        properties["url"] = interaction.url
    if interaction.order_id is not None:
        properties["order_id"] = interaction.order_id
    if interaction.revenue is not None:
        properties["revenue"] = float(interaction.revenue)
    properties.update(interaction.details or {})
    add_event(
        session,
        contact_id=message.contact_id,
        name=name,
        properties=properties,
        at=at,
        message_id=message_id or interaction_event_id(interaction),
    )


def add_event(
    session: Session,
    *,
    contact_id: str,
    name: str,
    properties: Mapping[str, Any],
    at: dt.datetime,
    message_id: str,
) -> None:
    """Insert one ``track`` event for the surviving profile of ``contact_id`` (skipped when
    ``message_id`` exists: whoever records it first wins)."""
    try:
        owner = survivor(session, contact_id).id
    except LookupError:
        owner = contact_id
    insert_ignoring(
        session,
        Event.__table__,
        [
            {
                "message_id": message_id,
                "contact_id": owner,
                "type": "track",
                "name": name,
                "properties": dict(properties),
                "context": {"source": "lealta"},
                "occurred_at": at,
                "received_at": at,
            }
        ],
        conflict=["message_id"],
    )


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
