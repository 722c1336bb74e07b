"""Delivering due outbox messages through their channels: each at most once, none forgotten.

One pass (:func:`dispatch_due`) works in three steps:

1. **Claim** (one transaction): due rows are read highest ``priority`` first (transactional
   messages before bulk ones), then oldest first, and locked (``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL, so several workers share the outbox; on SQLite the transaction takes the write
   lock first). Everything a decision needs is read for the whole batch in a few queries:
   contacts, identifiers, consent, the suppression list, recent sends for the caps. Then each
   row is decided. Unknown channel, or no address for it → ``failed``; erased or merged
   contact, no consent for the channel, an address on the suppression list, or over a
   frequency cap → ``suppressed``; inside the contact's quiet hours → ``held``, with
   ``not_before`` moved to their end, ``hold`` naming the rule and its setting
   (``quiet_hours 21:00-08:00``) and ``error`` saying why in words (``quiet hours 21:00-08:00
   in Europe/Rome until 2025-06-03 08:00 local time``). The rest become ``claimed``, leased until
   :data:`SENDING_LEASE` from now. This commits **before** any channel is called. Then,
   outside that transaction, each is rendered from its template for its person (a template
   error → ``failed``).
2. **Send**, a chunk at a time (:mod:`lealta.channels.attempts`), outside the claim's
   transaction, at most as fast as each channel's rate limit allows. Before a chunk goes to its
   channels its messages are marked ``sending`` (``attempts + 1``) in one commit, which also
   records the outcomes of the chunk before.
3. **Record**: ``sent`` with ``sent_at`` and the provider's id in ``provider_id``; on a
   transient error back to ``pending`` after an exponential backoff (``2**attempts`` minutes,
   at most 6 hours) or ``failed`` after :data:`MAX_ATTEMPTS`; on a permanent error ``failed``
   (and, when the provider says the person opted out, the address is put on the suppression
   list).

**A crash** leaves rows ``claimed`` or ``sending``. Once the lease has passed, a later pass
finds them. A ``claimed`` row never reached its channel: it is sent like a pending one. A
``sending`` row may or may not have reached the provider; whether it is sent again depends on
the channel. A channel whose provider recognises a repeated idempotency key (``idempotent =
True``: webhooks, whose receivers get an ``Idempotency-Key``; the test channel) gets it again
with the same key, so the person still receives it once. Any other channel (SMTP has no such
thing) would risk a duplicate, so the row is ``failed`` with reason ``interrupted`` instead:
**at most once** is kept, and at most one chunk per crashed worker is affected (the messages
it had marked ``sending``, at most :data:`~lealta.channels.attempts.SEND_CHUNK`). Consent and
the other checks are made again on every claim: a message whose consent was withdrawn
meanwhile is not sent.

**Frequency caps suppress rather than postpone**: marketing messages are timely, and deferring
them would deliver stale content in a burst when the window reopens. Messages claimed or being
sent count toward caps. **Channels that do not message people** (``requires_consent =
False``, e.g. a webhook to the shop's own system; see :func:`messages_people`) skip consent,
suppression, quiet hours and caps. ``onsite`` messages are not dispatched: the page the person
visits shows them (:mod:`lealta.onsite`). Messages for a channel Lealta knows but this worker
has not set up (no SMTP host yet, say) wait in the outbox; a channel it does not know at all
fails them.

**Held messages** are due again when their hold ends, and sooner when the quiet hours in force
are not the ones that held them (``hold`` differs: the setting was shrunk, moved or turned
off): each pass reconsiders those, so they go out at once when the new hours allow it, or are
held again until the end of the new ones. A pass reports how many it held and the earliest and
latest moment they go out (the worker logs one line for it).

Each final outcome appends an event to the contact's history (``Message Sent``, ``Message
Failed``, ``Message Suppressed``; message id ``outbox:<id>:<status>``) so the timeline and
automations see it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, literal_column, or_, select, update
from sqlalchemy.orm import Session

from lealta.bootstrap import Services
from lealta.channels import marks
from lealta.channels.attempts import (  # EVENT_NAMES, MAX_ATTEMPTS, backoff: used from here
    EVENT_NAMES as EVENT_NAMES,
)
from lealta.channels.attempts import (
    FAILED,
    OUTBOX,
    SEND_CHUNK,
    release,
    send_in_chunks,
    write_event,
)
from lealta.channels.attempts import (
    MAX_ATTEMPTS as MAX_ATTEMPTS,
)
from lealta.channels.attempts import (
    backoff as backoff,
)
from lealta.channels.base import Channel, Delivery
from lealta.channels.pacing import Pacer
from lealta.channels.policy import (
    FrequencyCap,
    QuietHours,
    SentTime,
    breached,
    hold_reason,
    next_allowed,
)
from lealta.channels.tables import OutboxMessage, Suppression
from lealta.contacts.profiles import identifiers_by_kind
from lealta.contacts.tables import Consent, Contact
from lealta.storage.keyed import one_of
from lealta.storage.retry import in_transaction

log = logging.getLogger(__name__)

SENDING_LEASE = dt.timedelta(minutes=10)
# Channels whose messages the dispatcher leaves alone (shown on the person's next page view).
NOT_DISPATCHED = ("onsite",)
# The channels Lealta knows: messages for one that is not set up wait for it (an unknown
# channel fails them).
KNOWN_CHANNELS = ("email", "sms", "push", "web_push", "webhook")
# The identifier a channel cannot do without, and under which the suppression list keeps it.
ADDRESS_KIND = {"email": "email", "sms": "phone"}
# The consent a channel needs, when it is named differently from the channel.
CONSENT_FOR = {"webpush": "web_push"}
RECIPIENT_ATTRIBUTES = ("first_name", "last_name", "name", "language", "timezone")
Rendered = Mapping[str, Any]
# (session, deliveries about to go) -> outbox id -> content, or why it cannot be rendered.
Renderer = Callable[[Session, Sequence[Delivery]], Mapping[int, Rendered | str]]
# The claim reads plain rows (no ORM objects: building them cost more than the queries),
# only the columns its decisions and the deliveries need.
OutboxRow = Row[Any]
ContactRow = Row[Any]
_OUTBOX_COLUMNS = tuple(
    OUTBOX.c[name]
    for name in (
        *("id", "idempotency_key", "contact_id", "run_id", "channel", "template"),
        *("payload", "status", "priority", "attempts"),
    )
)
_CONTACT_COLUMNS = (Contact.id, Contact.attributes, Contact.erased_at, Contact.merged_into)


@dataclass
class DispatchReport:
    """What one pass did: messages claimed, and how each ended for now."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    suppressed: int = 0
    postponed: int = 0  # held for quiet hours
    # When the messages held go out: the earliest and the latest of their ``not_before``.
    held_from: dt.datetime | None = None
    held_until: dt.datetime | None = None

    def add(self, other: DispatchReport) -> None:
        """Add the counts of ``other`` to these (and widen the span of the holds)."""
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self._hold_span(other.held_from, other.held_until)

    def count(self, name: str) -> None:
        setattr(self, name, getattr(self, name) + 1)

    def held(self, until: dt.datetime) -> None:
        """Count a message held until ``until``."""
        self.postponed += 1
        self._hold_span(until, until)

    def _hold_span(self, first: dt.datetime | None, last: dt.datetime | None) -> None:
        if first is not None and (self.held_from is None or first < self.held_from):
            self.held_from = first
        if last is not None and (self.held_until is None or last > self.held_until):
            self.held_until = last


COUNTS = ("claimed", "sent", "retrying", "failed", "suppressed", "postponed")


@dataclass
class Claim:
    """What a claim took: the deliveries to send, and the report of the pass so far."""

    deliveries: list[Delivery] = field(default_factory=list)
    report: DispatchReport = field(default_factory=DispatchReport)


def dispatch_due(
    services: Services,
    channels: Mapping[str, Channel],
    *,
    limit: int = 100,
    caps: Sequence[FrequencyCap] = (),
    quiet: QuietHours | None = None,
    render: Renderer | None = None,
    pacer: Pacer | None = None,
    stop: threading.Event | None = None,
    chunk: int = SEND_CHUNK,
) -> DispatchReport:
    """Deliver up to ``limit`` due messages (see the module docstring for the whole story).

    ``render`` fills each delivery's ``content`` from its template (see
    :func:`lealta.channels.rendering.renderer`); without it deliveries carry only their
    payload. ``pacer`` holds each channel to its rate limit. When ``stop`` is set during the
    pass, the messages not sent yet go back to ``pending`` for the next worker. ``chunk``
    messages are marked ``sending`` per commit (see :mod:`lealta.channels.attempts`).
    """
    claim = claim_due(services, channels, limit=limit, caps=caps, quiet=quiet)
    if render is not None and claim.deliveries:
        with services.uow.transaction() as session:
            contents = render(session, claim.deliveries)
        claim.deliveries = with_contents(services, claim.deliveries, contents, claim.report)
    send_claimed(services, channels, claim, pacer=pacer, stop=stop, chunk=chunk)
    return claim.report


def claim_due(
    services: Services,
    channels: Mapping[str, Channel],
    *,
    limit: int = 100,
    caps: Sequence[FrequencyCap] = (),
    quiet: QuietHours | None = None,
) -> Claim:
    """Step 1 of a pass: up to ``limit`` due messages decided and claimed in one transaction;
    those to send as deliveries without content yet, the other outcomes counted."""
    now = services.clock.now()
    return in_transaction(
        services.uow, lambda session: _claim(session, channels, now, limit, caps, quiet)
    )


def send_claimed(
    services: Services,
    channels: Mapping[str, Channel],
    claim: Claim,
    *,
    pacer: Pacer | None = None,
    stop: threading.Event | None = None,
    chunk: int = SEND_CHUNK,
) -> None:
    """Steps 2 and 3 of a pass: the claim's deliveries (rendered) sent and recorded."""
    if not claim.deliveries:
        return
    with services.uow.engine.connect() as connection:
        send_in_chunks(
            connection,
            channels,
            claim.deliveries,
            claim.report,
            now=services.clock.now,
            chunk=chunk,
            pacer=pacer,
            stop=stop,
        )


def release_claim(services: Services, claim: Claim) -> None:
    """A claim this worker will not send after all (it is stopping): due again for anyone."""
    if claim.deliveries:
        with services.uow.engine.begin() as connection:
            release(connection, claim.deliveries, services.clock.now())


def dispatch_all(
    services: Services,
    channels: Mapping[str, Channel],
    *,
    batch: int = 100,
    caps: Sequence[FrequencyCap] = (),
    quiet: QuietHours | None = None,
    render: Renderer | None = None,
    pacer: Pacer | None = None,
) -> DispatchReport:
    """Passes of :func:`dispatch_due` until nothing is due; the counts summed."""
    total = DispatchReport()
    while True:
        report = dispatch_due(
            services, channels, limit=batch, caps=caps, quiet=quiet, render=render, pacer=pacer
        )
        total.add(report)
        if report.claimed == 0:
            return total


def _tally(report: DispatchReport, counted: str | None) -> None:
    if counted:
        report.count(counted)


def messages_people(channel: Channel) -> bool:
    """False for channels that do not reach the person (a webhook to the shop's own system):
    consent, the address check, quiet hours and frequency caps do not apply to them, and
    they do not count toward caps. Channels say so with ``requires_consent = False``."""
    return bool(getattr(channel, "requires_consent", True))


def resends_safely(channel: Channel) -> bool:
    """True for channels whose provider recognises a repeated idempotency key
    (``idempotent = True``): an interrupted delivery may be sent again with its key."""
    return bool(getattr(channel, "idempotent", False))


# -- claiming --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Batch:
    """What the decisions of one claim read, for all its rows at once."""

    contacts: Mapping[str, ContactRow]
    recipients: Mapping[str, Mapping[str, Any]]
    consent: Mapping[tuple[str, str], str]
    suppressed: frozenset[tuple[str, str]]
    sent: dict[str, list[SentTime]]


def _claim(
    session: Session,
    channels: Mapping[str, Channel],
    now: dt.datetime,
    limit: int,
    caps: Sequence[FrequencyCap],
    quiet: QuietHours | None,
) -> Claim:
    _lock_for_writing(session)
    waiting = [c for c in KNOWN_CHANNELS if c not in channels]
    rows = _due(session, now, limit, waiting=waiting, quiet=quiet)
    claim = Claim()
    claim.report.claimed = len(rows)
    if not rows:
        return claim
    batch = _read_batch(session, rows, channels, now, caps)
    sending: list[OutboxRow] = []
    for row in rows:
        status, detail = _decide(row, batch, channels, now, caps, quiet)
        if status == "send":
            sending.append(row)
            # counted toward caps of the messages after it in this batch
            batch.sent.setdefault(row.contact_id, []).append((now, row.channel))
        elif status == "hold":
            until, reason, hold = detail
            if _change(session, row, status="held", not_before=until, error=reason, hold=hold):
                claim.report.held(until)
        elif _change(session, row, status=status, error=str(detail)):
            write_event(session.connection(), row, status, now, reason=str(detail))
            claim.report.count(status)
    for row in sending:
        claim.deliveries.append(
            Delivery(
                outbox_id=row.id,
                idempotency_key=row.idempotency_key,
                contact_id=row.contact_id,
                channel=row.channel,
                template=row.template,
                payload=dict(row.payload or {}),
                recipient=dict(batch.recipients.get(row.contact_id, {})),
                attempt=row.attempts + 1,
                run_id=row.run_id,
            )
        )
    if sending:  # the rows are this transaction's (locked, or SQLite's write lock): one update
        marks.run(
            session.connection(), "claim", [(row.id,) for row in sending], until=now + SENDING_LEASE
        )
    return claim


def with_contents(
    services: Services,
    deliveries: list[Delivery],
    contents: Mapping[int, Rendered | str],
    report: DispatchReport,
) -> list[Delivery]:
    """The claimed deliveries with their rendered ``contents``; those whose template could not
    be rendered for their person (a reason instead of content) are failed with it. Rendering
    reads, outside the claim's write transaction, so another thread or worker can send
    meanwhile."""
    ready: list[Delivery] = []
    failures: list[tuple[Delivery, str]] = []
    for delivery in deliveries:
        content = contents.get(delivery.outbox_id, {})
        if isinstance(content, str):
            failures.append((delivery, f"template {delivery.template!r}: {content}"))
        else:
            ready.append(replace(delivery, content=dict(content)))
    if failures:
        now = services.clock.now()
        with services.uow.engine.begin() as connection:
            for delivery, reason in failures:
                mine = {"row": delivery.outbox_id, "was": "claimed", "tries": delivery.attempt - 1}
                if connection.execute(FAILED, {**mine, "reason": reason}).rowcount:
                    write_event(connection, delivery, "failed", now, reason=reason)
                    report.failed += 1
    return ready


def _lock_for_writing(session: Session) -> None:
    """On SQLite, take the write lock before reading the batch: SQLite has no row locks, and
    two dispatchers reading the same due rows would both claim them."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _due(
    session: Session,
    now: dt.datetime,
    limit: int,
    *,
    waiting: Sequence[str],
    quiet: QuietHours | None,
) -> list[OutboxRow]:
    """Pending rows due now (highest priority, then oldest, first), held rows to look at again
    (see :func:`_held_due`) and rows whose lease ran out (claimed or being sent by a worker
    that stopped), locked; none of the channels ``waiting`` to be set up."""
    dispatched = OutboxMessage.channel.not_in([*NOT_DISPATCHED, *waiting])
    connection = session.connection()
    # Bulk (priority 0) is read straight off the (status, priority, id) index, in order, and
    # the walk stops at ``limit`` rows; the few messages above (transactional) or below it are
    # sorted. SQLite's planner, which keeps no statistics unless asked, would rather take the
    # (status, not_before) index and read and sort every due message on every pass (a queue
    # of N messages cost N²/limit row reads): its no-op ``+`` hides the column from it.
    not_before: ColumnElement[Any] = OutboxMessage.__table__.c.not_before
    if connection.dialect.name == "sqlite":
        not_before = literal_column("+outbox.not_before", OutboxMessage.not_before.type)
    due = (OutboxMessage.status == "pending", OutboxMessage.not_before <= now, dispatched)
    bulk_due = (OutboxMessage.status == "pending", not_before <= now, dispatched)
    pending: list[OutboxRow] = []
    levels = (OutboxMessage.priority > 0, OutboxMessage.priority == 0, OutboxMessage.priority < 0)
    for level in levels:
        if len(pending) < limit:
            pending += connection.execute(
                select(*_OUTBOX_COLUMNS)
                .where(*(bulk_due if level is levels[1] else due), level)
                .order_by(OutboxMessage.priority.desc(), OutboxMessage.id)
                .limit(limit - len(pending))
                .with_for_update(skip_locked=True)
            ).all()
    expired = connection.execute(
        select(*_OUTBOX_COLUMNS)
        .where(
            OutboxMessage.status.in_(("claimed", "sending")),
            OutboxMessage.not_before <= now,
            dispatched,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    held = _held_due(session, now, limit, dispatched, quiet)
    rows = sorted([*expired, *pending, *held], key=lambda row: (-row.priority, row.id))
    return rows[:limit]


def _held_due(
    session: Session,
    now: dt.datetime,
    limit: int,
    dispatched: ColumnElement[bool],
    quiet: QuietHours | None,
) -> list[OutboxRow]:
    """Held rows whose hold has ended, and those held by quiet hours other than ``quiet``
    (the setting changed since: they are decided again under the hours now in force). Each
    is read off an index of its own (``status, not_before`` and ``status, hold``), so a night's
    worth of held messages is not read on every pass."""
    held = OutboxMessage.status == "held"
    if quiet is None:
        stale: list[ColumnElement[bool]] = [OutboxMessage.hold.is_not(None)]
    else:  # two ranges of the index rather than a != that reads every hold
        stale = [OutboxMessage.hold < quiet.key, OutboxMessage.hold > quiet.key]
    rows: dict[int, OutboxRow] = {}
    for condition in (OutboxMessage.not_before <= now, *stale):
        if len(rows) >= limit:
            break
        found = session.connection().execute(
            select(*_OUTBOX_COLUMNS)
            .where(held, condition, dispatched)
            .limit(limit - len(rows))
            .with_for_update(skip_locked=True)
        )
        rows.update((row.id, row) for row in found)
    return list(rows.values())


def _read_batch(
    session: Session,
    rows: Sequence[OutboxRow],
    channels: Mapping[str, Channel],
    now: dt.datetime,
    caps: Sequence[FrequencyCap],
) -> _Batch:
    ids = sorted({row.contact_id for row in rows})
    contact_query = (
        select(*_CONTACT_COLUMNS).where(one_of(session, Contact.id, ids)).order_by(Contact.id)
    )
    if caps:  # one decision per person at a time, or two workers could both fill the cap
        contact_query = contact_query.with_for_update()
    contacts = {c.id: c for c in session.connection().execute(contact_query)}
    identifiers = identifiers_by_kind(session, ids)
    recipients = {cid: _recipient(contact, identifiers) for cid, contact in contacts.items()}
    consent: dict[tuple[str, str], str] = {}
    for contact_id, channel, status in session.execute(
        select(Consent.contact_id, Consent.channel, Consent.status)
        .where(one_of(session, Consent.contact_id, ids))
        .order_by(Consent.id)
    ):
        consent[contact_id, channel] = status  # the newest decision wins
    addresses = {
        (row.channel, _address(row.channel, recipients.get(row.contact_id, {})))
        for row in rows
        if row.channel in ADDRESS_KIND
    }
    suppressed = _suppressed(session, {pair for pair in addresses if pair[1]})
    personal = [name for name, channel in channels.items() if messages_people(channel)]
    sent = _sent_times(session, ids, [row.id for row in rows], now, caps, personal)
    return _Batch(contacts, recipients, consent, suppressed, sent)


def _decide(
    row: OutboxRow,
    batch: _Batch,
    channels: Mapping[str, Channel],
    now: dt.datetime,
    caps: Sequence[FrequencyCap],
    quiet: QuietHours | None,
) -> tuple[str, Any]:
    """(``send`` | ``hold`` | ``failed`` | ``suppressed``, the reason; for ``hold`` the new
    ``not_before``, the reason and the hold's key)."""
    channel = channels.get(row.channel)
    if channel is None:
        return "failed", f"no channel named {row.channel!r} is configured"
    if row.status == "sending" and not resends_safely(channel):
        return "failed", "interrupted while being sent; not sent again, so it cannot arrive twice"
    contact = batch.contacts.get(row.contact_id)
    if contact is None or contact.erased_at is not None:
        return "suppressed", "contact erased"
    if contact.merged_into is not None:
        return "suppressed", f"contact merged into {contact.merged_into}"
    if not messages_people(channel):
        return "send", None
    needed_consent = CONSENT_FOR.get(row.channel, row.channel)
    if batch.consent.get((contact.id, needed_consent)) != "granted":
        return "suppressed", f"no consent for {needed_consent}"
    recipient = batch.recipients.get(contact.id, {})
    needed = ADDRESS_KIND.get(row.channel)
    if needed and not recipient.get(needed):
        return "failed", f"contact has no {needed}"
    if needed and (row.channel, _address(row.channel, recipient)) in batch.suppressed:
        return "suppressed", f"{needed} is on the suppression list"
    if quiet is not None:
        zone = _timezone(contact)
        allowed_at = next_allowed(now, zone, quiet)
        if allowed_at > now:
            return "hold", (allowed_at, hold_reason(quiet, zone, allowed_at), quiet.key)
    if caps:
        cap = breached(batch.sent.get(contact.id, []), now, caps, channel=row.channel)
        if cap is not None:
            return "suppressed", f"frequency cap reached: {cap.describe()}"
    return "send", None


def _address(channel: str, recipient: Mapping[str, Any]) -> str:
    value = str(recipient.get(ADDRESS_KIND[channel]) or "")
    return value.lower() if channel == "email" else value


def _suppressed(session: Session, pairs: set[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    if not pairs:
        return frozenset()
    by_channel: dict[str, set[str]] = defaultdict(set)
    for channel, address in pairs:
        by_channel[channel].add(address)
    condition = or_(
        *(
            and_(
                Suppression.channel == channel,
                one_of(session, Suppression.address, sorted(addresses)),
            )
            for channel, addresses in by_channel.items()
        )
    )
    found = session.execute(select(Suppression.channel, Suppression.address).where(condition))
    return frozenset((channel, address.lower()) for channel, address in found)


def _timezone(contact: ContactRow) -> str | None:
    zone = (contact.attributes or {}).get("timezone")
    return str(zone) if zone else None


def _sent_times(
    session: Session,
    contact_ids: Sequence[str],
    claimed: Sequence[int],
    now: dt.datetime,
    caps: Sequence[FrequencyCap],
    personal: Sequence[str],
) -> dict[str, list[SentTime]]:
    """Per contact, the messages sent in the longest cap window and those on their way."""
    if not caps:
        return {}
    start = now - max(cap.window for cap in caps)
    found = session.execute(
        select(OutboxMessage.contact_id, OutboxMessage.sent_at, OutboxMessage.channel).where(
            one_of(session, OutboxMessage.contact_id, contact_ids),
            OutboxMessage.id.not_in(claimed),
            OutboxMessage.channel.in_(personal),
            or_(
                (OutboxMessage.status == "sent") & (OutboxMessage.sent_at > start),
                OutboxMessage.status.in_(("claimed", "sending")),
            ),
        )
    )
    times: dict[str, list[SentTime]] = defaultdict(list)
    for contact_id, sent_at, channel in found:
        times[contact_id].append((_utc(sent_at) if sent_at else now, channel))
    return times


def _recipient(
    contact: ContactRow | None, identifiers: Mapping[str, Mapping[str, list[str]]]
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


def _change(session: Session, row: OutboxRow, **values: Any) -> bool:
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


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
