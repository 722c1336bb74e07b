"""Delivering due outbox messages through their channels, exactly once as far as people see.

One pass (:func:`dispatch_due`) works in three steps:

1. **Claim** (one transaction): due rows are locked (``FOR UPDATE SKIP LOCKED``, so several
   workers share the outbox on PostgreSQL) and each is decided. Unknown channel → ``failed``;
   erased or merged contact, or no consent for the channel → ``suppressed``; inside the
   contact's quiet hours → stays ``pending`` with ``not_before`` moved to the end of them;
   over a frequency cap → ``suppressed``. The rest become ``sending`` (``attempts + 1``) with a
   lease: ``not_before`` is set :data:`SENDING_LEASE` ahead. This commits **before** any
   channel is called.
2. **Send**: each claimed message goes to its channel, outside any transaction.
3. **Record** (one transaction per message): ``sent`` with ``sent_at`` and the provider id in
   ``payload["provider_id"]``; on a transient error back to ``pending`` after an exponential
   backoff (``2**attempts`` minutes, at most 6 hours) or ``failed`` after
   :data:`MAX_ATTEMPTS`; on a permanent error ``failed``.

**A crash between sending and recording** leaves the row in ``sending``. Once its lease has
passed, a later pass claims it again like a pending row and sends it with the **same
idempotency key**; the channel contract (:class:`lealta.channels.base.Channel`) says a
repeated key is not delivered again, so the person gets one message. Consent and the other
checks are made again first: a message whose consent was withdrawn meanwhile is not re-sent.
Every state change is a compare-and-set on ``(status, attempts)``, so two workers that read
the same row (SQLite takes no row locks) cannot both send it.

**Frequency caps suppress rather than postpone.** A message over the cap is dropped with the
reason in ``error`` and a ``Message Suppressed`` event: marketing messages are timely, and
deferring them would pile them up and deliver stale content in a burst when the window
reopens. Workflows see the event and can branch on it. Messages being sent count toward caps.

Each final outcome appends an event to the contact's history (``Message Sent``, ``Message
Failed``, ``Message Suppressed``; message id ``outbox:<id>:<status>``) so the timeline and
automations see it. Consent for the channel is required, except on channels that do not
message the person (``requires_consent = False``, e.g. a webhook to the shop's own system;
see :func:`messages_people`). An erased or merged contact is never delivered to.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from lealta.bootstrap import Services
from lealta.channels.base import Channel, Delivery
from lealta.channels.policy import FrequencyCap, QuietHours, SentTime, breached, next_allowed
from lealta.channels.tables import OutboxMessage
from lealta.contacts.consent import may_contact
from lealta.contacts.profiles import identifiers_by_kind
from lealta.contacts.tables import Contact
from lealta.errors import PermanentChannelError, TransientChannelError
from lealta.events.tables import Event
from lealta.identity.service import survivor
from lealta.storage.retry import in_transaction
from lealta.storage.upsert import insert_ignoring

log = logging.getLogger(__name__)

SENDING_LEASE = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 8
MAX_BACKOFF = dt.timedelta(hours=6)
# The identifier a channel cannot do without (channels not named here need none).
ADDRESS_KIND = {"email": "email", "sms": "phone"}
RECIPIENT_ATTRIBUTES = ("first_name", "last_name", "name", "language", "timezone")
EVENT_NAMES = {
    "sent": "Message Sent",
    "failed": "Message Failed",
    "suppressed": "Message Suppressed",
}


@dataclass
class DispatchReport:
    """What one pass did: messages claimed, and how each ended for now."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    suppressed: int = 0
    postponed: int = 0

    def add(self, other: DispatchReport) -> None:
        """Add the counts of ``other`` to these."""
        for name in ("claimed", "sent", "retrying", "failed", "suppressed", "postponed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Claim:
    deliveries: list[Delivery] = field(default_factory=list)
    report: DispatchReport = field(default_factory=DispatchReport)


def dispatch_due(
    services: Services,
    channels: Mapping[str, Channel],
    *,
    limit: int = 100,
    caps: Sequence[FrequencyCap] = (),
    quiet: QuietHours | None = None,
) -> DispatchReport:
    """Deliver up to ``limit`` due messages (see the module docstring for the whole story)."""
    now = services.clock.now()
    claim = in_transaction(
        services.uow, lambda session: _claim(session, channels, now, limit, caps, quiet)
    )
    report = claim.report
    for delivery in claim.deliveries:
        outcome, detail = _send(channels[delivery.channel], delivery)
        counted = in_transaction(
            services.uow,
            lambda session, d=delivery, o=outcome, t=detail: _record(  # type: ignore[misc]
                session, d, o, t, services.clock.now()
            ),
        )
        if counted:
            setattr(report, counted, getattr(report, counted) + 1)
    return report


def dispatch_all(
    services: Services,
    channels: Mapping[str, Channel],
    *,
    batch: int = 100,
    caps: Sequence[FrequencyCap] = (),
    quiet: QuietHours | None = None,
) -> DispatchReport:
    """Passes of :func:`dispatch_due` until nothing is due; the counts summed."""
    total = DispatchReport()
    while True:
        report = dispatch_due(services, channels, limit=batch, caps=caps, quiet=quiet)
        total.add(report)
        if report.claimed == 0:
            return total


# -- claiming --------------------------------------------------------------------------------


def _claim(
    session: Session,
    channels: Mapping[str, Channel],
    now: dt.datetime,
    limit: int,
    caps: Sequence[FrequencyCap],
    quiet: QuietHours | None,
) -> _Claim:
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(("pending", "sending")), OutboxMessage.not_before <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claim = _Claim()
    claim.report.claimed = len(rows)
    if not rows:
        return claim
    ids = sorted({row.contact_id for row in rows})
    contact_query = select(Contact).where(Contact.id.in_(ids)).order_by(Contact.id)
    if caps:  # one decision per person at a time, or two workers could both fill the cap
        contact_query = contact_query.with_for_update()
    contacts = {c.id: c for c in session.scalars(contact_query)}
    identifiers = identifiers_by_kind(session, ids)
    for row in rows:
        contact = contacts.get(row.contact_id)
        recipient = _recipient(contact, identifiers)
        status, detail = _decide(session, row, contact, recipient, channels, now, caps, quiet)
        if status == "send":
            delivery = _mark_sending(session, row, recipient, now)
            if delivery is not None:
                claim.deliveries.append(delivery)
        elif status == "postpone":
            if _change(session, row, status="pending", not_before=detail):
                claim.report.postponed += 1
        elif _change(session, row, status=status, error=str(detail)):
            _event(session, row, status, now, reason=str(detail))
            setattr(claim.report, status, getattr(claim.report, status) + 1)
    return claim


def _decide(
    session: Session,
    row: OutboxMessage,
    contact: Contact | None,
    recipient: Mapping[str, Any],
    channels: Mapping[str, Channel],
    now: dt.datetime,
    caps: Sequence[FrequencyCap],
    quiet: QuietHours | None,
) -> tuple[str, Any]:
    """(``send`` | ``postpone`` | ``failed`` | ``suppressed``, reason or new ``not_before``)."""
    if row.channel not in channels:
        return "failed", f"no channel named {row.channel!r} is configured"
    if contact is None or contact.erased_at is not None:
        return "suppressed", "contact erased"
    if contact.merged_into is not None:
        return "suppressed", f"contact merged into {contact.merged_into}"
    if not messages_people(channels[row.channel]):
        return "send", None
    if not may_contact(session, contact.id, row.channel):
        return "suppressed", f"no consent for {row.channel}"
    needed = ADDRESS_KIND.get(row.channel)
    if needed and not recipient.get(needed):
        return "failed", f"contact has no {needed}"
    if quiet is not None:
        allowed_at = next_allowed(now, _timezone(contact), quiet)
        if allowed_at > now:
            return "postpone", allowed_at
    if caps:
        personal = [name for name, channel in channels.items() if messages_people(channel)]
        earlier = _sent_times(session, row, now, caps, personal)
        cap = breached(earlier, now, caps, channel=row.channel)
        if cap is not None:
            return "suppressed", f"frequency cap reached: {cap.describe()}"
    return "send", None


def _timezone(contact: Contact) -> str | None:
    zone = (contact.attributes or {}).get("timezone")
    return str(zone) if zone else None


def messages_people(channel: Channel) -> bool:
    """False for channels that do not reach the person (a webhook to the shop's own system):
    consent, the address check, quiet hours and frequency caps do not apply to them, and
    they do not count toward caps. Channels say so with ``requires_consent = False``."""
    return bool(getattr(channel, "requires_consent", True))


def _sent_times(
    session: Session,
    row: OutboxMessage,
    now: dt.datetime,
    caps: Sequence[FrequencyCap],
    personal: Sequence[str],
) -> list[SentTime]:
    """The contact's messages sent in the longest cap window, and those being sent (as now)."""
    start = now - max(cap.window for cap in caps)
    found = session.execute(
        select(OutboxMessage.status, OutboxMessage.sent_at, OutboxMessage.channel).where(
            OutboxMessage.contact_id == row.contact_id,
            OutboxMessage.id != row.id,
            OutboxMessage.channel.in_(personal),
            or_(
                (OutboxMessage.status == "sent") & (OutboxMessage.sent_at > start),
                OutboxMessage.status == "sending",
            ),
        )
    )
    return [(_utc(sent_at) if sent_at else now, channel) for _, sent_at, channel in found]


def _recipient(
    contact: Contact | None, identifiers: Mapping[str, Mapping[str, list[str]]]
) -> dict[str, Any]:
    """The first identifier of each kind, and the attributes templates use."""
    if contact is None:
        return {}
    recipient: dict[str, Any] = {
        kind: values[0] for kind, values in identifiers.get(contact.id, {}).items() if values
    }
    for name in RECIPIENT_ATTRIBUTES:
        value = (contact.attributes or {}).get(name)
        if value is not None:
            recipient.setdefault(name, value)
    return recipient


def _mark_sending(
    session: Session, row: OutboxMessage, recipient: Mapping[str, Any], now: dt.datetime
) -> Delivery | None:
    """Lease ``row`` for sending and commit to it; ``None`` when another worker got it."""
    attempt = row.attempts + 1
    lease = now + SENDING_LEASE
    if not _change(session, row, status="sending", attempts=attempt, not_before=lease):
        return None
    return Delivery(
        outbox_id=row.id,
        idempotency_key=row.idempotency_key,
        contact_id=row.contact_id,
        channel=row.channel,
        template=row.template,
        payload=dict(row.payload or {}),
        recipient=dict(recipient),
        attempt=attempt,
    )


def _change(session: Session, row: OutboxMessage, **values: Any) -> bool:
    """Update ``row`` only if nobody changed it since it was read (compare-and-set)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row.id,
            OutboxMessage.status == row.status,
            OutboxMessage.attempts == row.attempts,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


# -- sending and recording -----------------------------------------------------------------


def _send(channel: Channel, delivery: Delivery) -> tuple[str, str]:
    """(``sent``, provider id) or (``retry`` | ``failed``, error)."""
    try:
        return "sent", channel.send(delivery)
    except PermanentChannelError as exc:
        return "failed", str(exc) or type(exc).__name__
    except TransientChannelError as exc:
        return "retry", str(exc) or type(exc).__name__
    except Exception as exc:  # a channel bug or an unexpected library error: retried, logged
        log.exception("channel %s raised on outbox message %s", channel.name, delivery.outbox_id)
        return "retry", f"{type(exc).__name__}: {exc}"


def _record(
    session: Session, delivery: Delivery, outcome: str, detail: str, now: dt.datetime
) -> str | None:
    """Store the outcome of a send; the report counter it adds to (``None``: superseded)."""
    row = session.get(OutboxMessage, delivery.outbox_id)
    if row is None or row.status != "sending" or row.attempts != delivery.attempt:
        return None  # another worker took the row over after the lease ran out
    if outcome == "sent":
        _change(
            session,
            row,
            status="sent",
            sent_at=now,
            error=None,
            payload={**(row.payload or {}), "provider_id": detail},
        )
        _event(session, row, "sent", now, provider_id=detail)
        return "sent"
    if outcome == "retry" and delivery.attempt < MAX_ATTEMPTS:
        wake = now + backoff(delivery.attempt)
        _change(session, row, status="pending", not_before=wake, error=detail)
        return "retrying"
    if outcome == "retry":
        detail = f"gave up after {delivery.attempt} attempts: {detail}"
    _change(session, row, status="failed", error=detail)
    _event(session, row, "failed", now, reason=detail)
    return "failed"


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed try: ``2**attempts`` minutes, ≤ 6 h."""
    return min(dt.timedelta(minutes=2 ** min(attempts, 20)), MAX_BACKOFF)


def _event(
    session: Session, row: OutboxMessage, status: str, now: dt.datetime, **extra: Any
) -> None:
    """Append the outcome to the contact's history (once, whoever records it)."""
    try:
        contact_id = survivor(session, row.contact_id).id
    except LookupError:
        contact_id = row.contact_id
    properties = {
        "channel": row.channel,
        "template": row.template,
        "outbox_id": row.id,
        "run_id": row.run_id,
        **{k: v for k, v in extra.items() if v is not None},
    }
    insert_ignoring(
        session,
        Event.__table__,
        [
            {
                "message_id": f"outbox:{row.id}:{status}",
                "contact_id": contact_id,
                "type": "track",
                "name": EVENT_NAMES[status],
                "properties": properties,
                "context": {"source": "lealta"},
                "occurred_at": now,
                "received_at": now,
            }
        ],
        conflict=["message_id"],
    )


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
