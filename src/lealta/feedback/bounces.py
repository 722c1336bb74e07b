"""Bounces, complaints and deliveries from e-mail providers: acting on them.

``POST /v1/feedback/bounces`` hands the body to :func:`receive`, which reads it
(:mod:`lealta.feedback.providers`: generic JSON, Amazon SES via SNS, SendGrid, Mailgun,
Postmark) and applies each event in the caller's transaction.

**Which message.** The outbox row named by the ``X-Lealta-Message`` header (or a
``lealta_message`` custom argument) when the provider echoes it, else the row whose
``provider_id`` is the event's ``Message-ID`` (with or without angle brackets) or the
provider's own id. Failing both, the latest e-mail sent to the address's contact in the
:data:`RECENT` days before the event (``details.matched_by = "recent"``).

**Effects.** A hard bounce or a complaint suppresses the address on ``email``; a complaint also
withdraws the contact's e-mail consent; a soft bounce suppresses only once :data:`SOFT_LIMIT`
soft bounces of the address fall within :data:`SOFT_WINDOW`. Each event is recorded once:
``bounced``/``complained`` on the message (and so on the contact's timeline), or, for a message
not found, an ``Email Bounced``/``Complaint Received`` event on the contact owning the address.
The provider's event id is the dedupe key, so a replayed webhook changes nothing.

**Deliveries** (:func:`deliver`) are recorded as ``delivered`` on the message their ids name
(the header, custom argument or provider id above; never the recent-e-mail guess, which would
credit another message), once per provider event id, as SMS delivery reports are: through
:func:`~lealta.feedback.service.record`, so an ``Email Delivered`` event goes on the contact's
timeline as ``SMS Delivered`` does. They suppress nobody and change no consent. A delivery
naming no message Lealta sent is counted as ignored.

**Authorisation** of providers that cannot send credentials: :func:`webhook_token`, a secret
derived from the secret key, passed as ``?token=``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.channels.tables import OutboxMessage
from lealta.contacts.consent import consents_in_force, record_consent
from lealta.events.tables import Event
from lealta.feedback.providers import FeedbackEvent, parse
from lealta.feedback.service import add_event, event_name, record
from lealta.feedback.suppressions import suppress
from lealta.identity.service import find_contact, survivor

SOFT_LIMIT = 3
SOFT_WINDOW = dt.timedelta(days=30)
RECENT = dt.timedelta(days=7)


# -- the shared secret -----------------------------------------------------------------------


def webhook_token(secret_key: str) -> str:
    """The ``token`` query parameter that authorises providers unable to send a header."""
    digest = hmac.new(secret_key.encode(), b"lealta-feedback-webhook", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def token_matches(secret_key: str, token: str) -> bool:
    """Whether ``token`` is :func:`webhook_token` (compared in constant time)."""
    return hmac.compare_digest(webhook_token(secret_key).encode(), token.encode())


# -- acting on them (service) ----------------------------------------------------------------


@dataclass
class Received:
    """What :func:`receive` did with a webhook body (``events``: bounces, complaints, and
    deliveries of messages Lealta sent; ``ignored``: everything else)."""

    provider: str
    events: int = 0
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    unmatched: int = 0
    suppressed: list[str] = field(default_factory=list)
    subscribe_url: str | None = None


def receive(
    session: Session,
    document: Any,
    *,
    now: dt.datetime,
    provider: str | None = None,
    soft_limit: int = SOFT_LIMIT,
    soft_window: dt.timedelta = SOFT_WINDOW,
) -> Received:
    """Parse a webhook body and apply its events (see the module docstring); never commits."""
    parsed = parse(document, now=now, provider=provider)
    outcome = Received(parsed.provider, ignored=parsed.ignored)
    outcome.subscribe_url = parsed.subscribe_url
    for event in parsed.events:
        if event.kind == "delivery":
            deliver(session, event, outcome)
        else:
            outcome.events += 1
            apply(session, event, outcome, soft_limit=soft_limit, soft_window=soft_window)
    return outcome


def deliver(session: Session, event: FeedbackEvent, outcome: Received) -> None:
    """Record a delivery once on the e-mail it names; ignored when it names none of ours."""
    owner = find_contact(session, "email", event.email)
    message = named_message(session, event, owner.id if owner is not None else None)
    if message is None:
        outcome.ignored += 1
        return
    outcome.events += 1
    details = {
        "address": event.email,
        "provider": event.provider,
        "feedback_id": event.event_id,
        **{k: v for k, v in event.details.items() if v is not None},
    }
    written = record(
        session,
        outbox_id=message.id,
        kind="delivered",
        at=event.occurred_at,
        details=details,
        dedupe_key=event.dedupe_key,
    )
    if written is None:
        outcome.duplicates += 1
    else:
        outcome.applied += 1


def apply(
    session: Session,
    event: FeedbackEvent,
    outcome: Received,
    *,
    soft_limit: int = SOFT_LIMIT,
    soft_window: dt.timedelta = SOFT_WINDOW,
) -> None:
    """Record one event once, then suppress and withdraw consent as it calls for."""
    owner = find_contact(session, "email", event.email)
    message, matched_by = find_message(session, event, owner.id if owner is not None else None)
    details = {
        "address": event.email,
        "provider": event.provider,
        "reason": event.reason[:500],
        "feedback_id": event.event_id,
        **({"bounce_type": event.bounce_type} if event.bounce_type else {}),
        **({"matched_by": matched_by} if matched_by != "id" else {}),
        **{k: v for k, v in event.details.items() if v is not None},
    }
    kind = "bounced" if event.kind == "bounce" else "complained"
    # Consent and soft-bounce counts belong to whoever owns the address now; to the message's
    # contact when nobody does.
    contact_id = owner.id if owner is not None else (message.contact_id if message else None)
    if message is not None:
        written = record(
            session,
            outbox_id=message.id,
            kind=kind,
            at=event.occurred_at,
            details=details,
            dedupe_key=event.dedupe_key,
        )
        if written is None:
            outcome.duplicates += 1
            return
    else:
        outcome.unmatched += 1
        if contact_id is not None and not _note_once(session, contact_id, event, kind, details):
            outcome.duplicates += 1
            return
    outcome.applied += 1
    _act(session, event, contact_id, outcome, soft_limit, soft_window)


def find_message(
    session: Session, event: FeedbackEvent, owner_id: str | None
) -> tuple[OutboxMessage | None, str]:
    """The e-mail the event is about, and how it was found (``id``, ``recent`` or ``none``);
    ``owner_id`` is the contact owning the address, whose recent e-mails are the fallback."""
    named = named_message(session, event, owner_id)
    if named is not None:
        return named, "id"
    if owner_id is None:
        return None, "none"
    recent = session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.contact_id == owner_id,
            OutboxMessage.channel == "email",
            OutboxMessage.status == "sent",
            OutboxMessage.sent_at <= event.occurred_at,
            OutboxMessage.sent_at >= event.occurred_at - RECENT,
        )
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        .limit(1)
    )
    return (recent, "recent") if recent is not None else (None, "none")


def named_message(
    session: Session, event: FeedbackEvent, owner_id: str | None
) -> OutboxMessage | None:
    """The e-mail the event's outbox id or message ids name; among several sharing a provider
    id, the latest to ``owner_id``'s contact."""
    if event.outbox_id is not None:
        row = session.get(OutboxMessage, event.outbox_id)
        if row is not None and row.channel == "email":
            return row
    if event.message_ids:
        spellings = [s for bare in event.message_ids for s in (bare, f"<{bare}>")]
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.provider_id.in_(spellings))
            .order_by(OutboxMessage.id.desc())
            .limit(20)
        ).all()
        # A provider's request id may be shared by several recipients: the owner's comes first.
        mine = [row for row in rows if row.contact_id == owner_id]
        if mine or rows:
            return (mine or rows)[0]
    return None


def _note_once(
    session: Session,
    contact_id: str,
    event: FeedbackEvent,
    kind: str,
    details: Mapping[str, Any],
) -> bool:
    """Put an event about a message we cannot find on the contact's timeline; False if the
    same provider event was noted before."""
    message_id = event.dedupe_key
    if session.scalar(select(Event.id).where(Event.message_id == message_id)) is not None:
        return False
    add_event(
        session,
        contact_id=contact_id,
        name=event_name("email", kind),
        properties={"channel": "email", "interaction": kind, **details},
        at=event.occurred_at,
        message_id=message_id,
    )
    return True


def _act(
    session: Session,
    event: FeedbackEvent,
    contact_id: str | None,
    outcome: Received,
    soft_limit: int,
    soft_window: dt.timedelta,
) -> None:
    source = f"webhook:{event.provider}"
    facts = {"feedback_id": event.event_id, "reason": event.reason[:500]}
    if event.kind == "complaint":
        _suppress(session, event, "complaint", source, facts, outcome)
        if contact_id is not None:
            _withdraw(session, contact_id, event)
    elif event.bounce_type == "hard":
        _suppress(session, event, "bounce", source, facts, outcome)
    elif contact_id is not None:
        count = soft_bounces(session, contact_id, event.email, event.occurred_at, soft_window)
        if count >= soft_limit:
            facts = {**facts, "soft_bounces": str(count)}
            _suppress(session, event, "bounce", source, facts, outcome)


def _suppress(
    session: Session,
    event: FeedbackEvent,
    reason: str,
    source: str,
    facts: Mapping[str, Any],
    outcome: Received,
) -> None:
    suppress(
        session,
        channel="email",
        address=event.email,
        reason=reason,
        source=source,
        details=facts,
        at=event.occurred_at,
    )
    if event.email not in outcome.suppressed:
        outcome.suppressed.append(event.email)


def _withdraw(session: Session, contact_id: str, event: FeedbackEvent) -> None:
    """Withdraw e-mail consent, unless already withdrawn (a replay adds no second row)."""
    contact = survivor(session, contact_id)
    current = consents_in_force(session, contact.id).get("email")
    if current is not None and current.status == "denied":
        return
    record_consent(
        session,
        contact.id,
        "email",
        "denied",
        source="complaint",
        at=event.occurred_at,
        proof={"provider": event.provider, "feedback_id": event.event_id},
    )


def soft_bounces(
    session: Session,
    contact_id: str,
    email: str,
    until: dt.datetime,
    window: dt.timedelta = SOFT_WINDOW,
) -> int:
    """Soft bounces of ``email`` on the contact's timeline in the ``window`` up to ``until``."""
    try:
        owner = survivor(session, contact_id).id
    except LookupError:
        owner = contact_id
    rows = session.scalars(
        select(Event.properties).where(
            Event.contact_id == owner,
            Event.name == event_name("email", "bounced"),
            Event.occurred_at > until - window,
            Event.occurred_at <= until,
        )
    )
    return sum(
        1 for p in _dicts(rows) if p.get("bounce_type") == "soft" and p.get("address") == email
    )


def _dicts(rows: Iterable[Any]) -> Iterator[Mapping[str, Any]]:
    for row in rows:
        if isinstance(row, Mapping):
            yield row
