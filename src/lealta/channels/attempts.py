"""Sending claimed messages a chunk at a time, and recording each attempt and its outcome.

The dispatcher (:mod:`lealta.channels.dispatcher`) claims and renders a batch; this module
hands it to the channels. Messages go out in chunks of :data:`SEND_CHUNK`, and each chunk
costs one commit:

1. **Start** (one transaction): every message of the chunk is marked ``sending`` with its
   attempt counted (``attempts + 1``, compare-and-set on the status and count the claim
   read), and the outcomes of the chunk before are recorded in the same commit. Nothing
   reaches a channel before its ``sending`` mark is committed.
2. **Send** the chunk's messages, outside any transaction: one by one, paced to each
   channel's rate limit, or, to a channel that takes runs (``send_many``: the e-mail channel,
   which pipelines them over one SMTP session) and has no rate limit, the chunk's messages
   for it in one call, each with its own outcome.
3. **Record** the outcomes in bulk (with the next chunk's start, or in a last transaction):
   the chunk's sent messages ``sent`` with ``sent_at`` and each one's provider id in one
   statement (:mod:`lealta.channels.marks`), and the contacts' ``Message Sent`` events in one
   bulk insert (:mod:`lealta.storage.bulk`); retries and failures as the dispatcher's
   docstring says.

A crash between 1 and 3 leaves the chunk's rows ``sending``: attempted, outcome unknown. Once
their lease has passed the next claim fails them as ``interrupted`` (a channel that cannot
recognise a repeated key would otherwise deliver twice), exactly as it does for the single
message a worker was sending before chunks. So a crash costs at most one chunk, never a
duplicate; a smaller chunk loses fewer messages to a crash and commits more often. A worker
told to stop hands the messages of its chunk it has not sent back as ``pending`` (with their
attempt uncounted), with the rest of its batch.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Table,
    and_,
    bindparam,
    or_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lealta.channels import marks
from lealta.channels.base import Channel, Delivery
from lealta.channels.pacing import Pacer
from lealta.channels.tables import OutboxMessage
from lealta.errors import PermanentChannelError, TransientChannelError
from lealta.events.tables import Event
from lealta.storage.bulk import Statements, insert_rows

if TYPE_CHECKING:
    from lealta.channels.dispatcher import DispatchReport

log = logging.getLogger(__name__)

# Messages marked ``sending`` in one commit: what a crash can leave with an unknown outcome.
# Each commit of the worker waits for a sync to disk (a few ms): 64 a commit sent 15-20 % more
# e-mails a second than 32 (benchmarks/send.py, one worker, SQLite), for 32 more messages a
# crash can leave interrupted (never sent twice).
SEND_CHUNK = 64
MAX_ATTEMPTS = 8
MAX_BACKOFF = dt.timedelta(hours=6)
EVENT_NAMES = {
    "sent": "Message Sent",
    "failed": "Message Failed",
    "suppressed": "Message Suppressed",
}
OUTBOX = cast(Table, OutboxMessage.__table__)
EVENTS = cast(Table, Event.__table__)
EVENT_COLUMNS = (
    *("message_id", "contact_id", "type", "name"),
    *("properties", "context", "occurred_at", "received_at"),
)

# The statements run once per message, built once.
_MINE = and_(
    OUTBOX.c.id == bindparam("row"),
    OUTBOX.c.status == bindparam("was"),
    OUTBOX.c.attempts == bindparam("tries"),
)
_EVENT = {
    "sqlite": sqlite.insert(EVENTS).on_conflict_do_nothing(index_elements=["message_id"]),
    "postgresql": postgresql.insert(EVENTS).on_conflict_do_nothing(index_elements=["message_id"]),
}
FAILED = update(OUTBOX).where(_MINE).values(status="failed", error=bindparam("reason"))
PREPARED = Statements(
    retry=update(OUTBOX)
    .where(_MINE)
    .values(status="pending", not_before=bindparam("wake"), error=bindparam("reason")),
    failed=FAILED,
    event_sqlite=_EVENT["sqlite"].values({c: bindparam(c) for c in EVENT_COLUMNS}),
    event_postgresql=_EVENT["postgresql"].values({c: bindparam(c) for c in EVENT_COLUMNS}),
)


@dataclass(frozen=True)
class Outcome:
    """How one send ended: ``sent`` (``detail`` the provider's id), ``retry`` or ``failed``
    (``detail`` the reason, ``error`` the exception)."""

    delivery: Delivery
    result: str
    detail: str
    error: Exception | None = None


def send_in_chunks(
    connection: Connection,
    channels: Mapping[str, Channel],
    deliveries: Sequence[Delivery],
    report: DispatchReport,
    *,
    now: Callable[[], dt.datetime],
    chunk: int = SEND_CHUNK,
    pacer: Pacer | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Send claimed ``deliveries`` chunk by chunk as the module docstring says, counting the
    outcomes in ``report``. ``now`` is called for the moment each record is written."""
    done: list[Outcome] = []
    for first in range(0, len(deliveries), max(chunk, 1)):
        rest = deliveries[first + max(chunk, 1) :]
        with connection.begin():
            record(connection, done, report, now())
            done = []
            if stop is not None and stop.is_set():
                release(connection, deliveries[first:], now())
                return
            started = start_sending(connection, deliveries[first : first + max(chunk, 1)])
        index = 0
        while index < len(started):
            if stop is not None and stop.is_set():
                with connection.begin():
                    record(connection, done, report, now())
                    unstart(connection, started[index:], now())
                    release(connection, rest, now())
                return
            delivery = started[index]
            channel = channels[delivery.channel]
            if _sends_runs(channel, pacer, delivery.channel):
                run = _run_of(started, index)
                done += send_run(channel, run)
                index += len(run)
                continue
            if pacer is not None:
                pacer.wait(delivery.channel)
            done.append(send(channel, delivery))
            index += 1
    if done:
        with connection.begin():
            record(connection, done, report, now())


def _attempted(deliveries: Sequence[Delivery], offset: int) -> ColumnElement[bool]:
    """Rows of ``deliveries`` whose attempt count is each one's ``attempt + offset``."""
    by_count: dict[int, list[int]] = defaultdict(list)
    for delivery in deliveries:
        by_count[delivery.attempt + offset].append(delivery.outbox_id)
    return or_(
        *(
            and_(OUTBOX.c.attempts == count, OUTBOX.c.id.in_(ids))
            for count, ids in sorted(by_count.items())
        )
    )


def start_sending(connection: Connection, deliveries: Sequence[Delivery]) -> list[Delivery]:
    """Mark the claimed rows of ``deliveries`` ``sending`` (their attempt counted) right before
    they go out; those this worker still held (a row whose lease ran out may have been taken
    over by another worker)."""
    mine = marks.run(connection, "start", [(d.outbox_id, d.attempt - 1) for d in deliveries])
    return [d for d in deliveries if d.outbox_id in mine]


def unstart(connection: Connection, deliveries: Sequence[Delivery], now: dt.datetime) -> None:
    """Messages marked ``sending`` that never reached their channel: pending again, their
    attempt uncounted."""
    if deliveries:
        connection.execute(
            update(OUTBOX)
            .where(OUTBOX.c.status == "sending", _attempted(deliveries, 0))
            .values(status="pending", attempts=OUTBOX.c.attempts - 1, not_before=now)
        )


def release(connection: Connection, deliveries: Sequence[Delivery], now: dt.datetime) -> None:
    """Claimed messages this worker will not send after all: due again for anyone."""
    if deliveries:
        connection.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_([d.outbox_id for d in deliveries]), OUTBOX.c.status == "claimed")
            .values(status="pending", not_before=now)
        )


def send(channel: Channel, delivery: Delivery) -> Outcome:
    """Hand ``delivery`` to ``channel``: ``sent`` with the provider's id, else ``retry`` or
    ``failed`` with the reason."""
    try:
        return Outcome(delivery, "sent", channel.send(delivery))
    except PermanentChannelError as exc:
        return Outcome(delivery, "failed", str(exc) or type(exc).__name__, exc)
    except TransientChannelError as exc:
        return Outcome(delivery, "retry", str(exc) or type(exc).__name__, exc)
    except Exception as exc:  # a channel bug or an unexpected library error: retried, logged
        log.exception("channel %s raised on outbox message %s", channel.name, delivery.outbox_id)
        return Outcome(delivery, "retry", f"{type(exc).__name__}: {exc}", exc)


def _sends_runs(channel: Channel, pacer: Pacer | None, name: str) -> bool:
    """Whether ``channel`` takes a run of deliveries at once (``send_many``, the e-mail
    channel's pipelining) here: not when its rate limit paces each message."""
    return hasattr(channel, "send_many") and (pacer is None or name not in pacer.rates)


def _run_of(deliveries: Sequence[Delivery], start: int) -> Sequence[Delivery]:
    """The deliveries from ``start`` on that go to the same channel as the first."""
    end = start + 1
    while end < len(deliveries) and deliveries[end].channel == deliveries[start].channel:
        end += 1
    return deliveries[start:end]


def send_run(channel: Channel, deliveries: Sequence[Delivery]) -> list[Outcome]:
    """Hand ``deliveries`` to ``channel.send_many`` at once; each one's outcome as
    :func:`send` gives it. Should the call itself fail (a channel bug), each is retried, as
    :func:`send` retries a message whose channel raised."""
    try:
        results = channel.send_many(deliveries)  # type: ignore[attr-defined]
    except Exception as exc:
        log.exception("channel %s raised on a run of %d messages", channel.name, len(deliveries))
        return [Outcome(d, "retry", f"{type(exc).__name__}: {exc}", exc) for d in deliveries]
    outcomes = []
    for delivery, result in zip(deliveries, results, strict=True):
        if isinstance(result, Exception):
            kind = "failed" if isinstance(result, PermanentChannelError) else "retry"
            outcomes.append(Outcome(delivery, kind, str(result) or type(result).__name__, result))
        else:
            outcomes.append(Outcome(delivery, "sent", str(result)))
    return outcomes


def record(
    connection: Connection, outcomes: Sequence[Outcome], report: DispatchReport, now: dt.datetime
) -> None:
    """Store ``outcomes`` (each only if its row is still this worker's ``sending`` one): the
    sent ones in one statement (:func:`mark_sent`), retries and failures (rare) one statement
    each, the events in one bulk insert; counted in ``report``."""
    events: list[dict[str, Any]] = []
    sent = [outcome for outcome in outcomes if outcome.result == "sent"]
    marked = mark_sent(connection, sent, now)
    for outcome in sent:
        if outcome.delivery.outbox_id in marked:
            events.append(event_row(outcome.delivery, "sent", now, provider_id=outcome.detail))
    report.sent += len(marked)
    for outcome in outcomes:
        delivery = outcome.delivery
        mine = {"row": delivery.outbox_id, "was": "sending", "tries": delivery.attempt}
        if outcome.result == "sent":
            continue
        if outcome.result == "retry" and delivery.attempt < MAX_ATTEMPTS:
            values = {**mine, "wake": now + backoff(delivery.attempt), "reason": outcome.detail}
            if PREPARED.run(connection, "retry", values):
                report.retrying += 1
        else:
            detail = outcome.detail
            if outcome.result == "retry":
                detail = f"gave up after {delivery.attempt} attempts: {detail}"
            if PREPARED.run(connection, "failed", {**mine, "reason": detail}):
                events.append(event_row(delivery, "failed", now, reason=detail))
                report.failed += 1
                _suppress_if_opted_out(connection, outcome.error, now)
    insert_rows(connection, EVENTS, events, skip_conflicts_on=["message_id"])


def mark_sent(connection: Connection, outcomes: Sequence[Outcome], now: dt.datetime) -> set[int]:
    """Mark the rows of the ``sent`` ``outcomes`` sent at ``now`` with their provider ids, in
    one statement; the ids of the rows marked (those still this worker's ``sending`` ones)."""
    rows = [(o.delivery.outbox_id, o.detail[:200], o.delivery.attempt) for o in outcomes]
    return marks.run(connection, "sent", rows, at=now)


def _suppress_if_opted_out(
    connection: Connection, error: Exception | None, now: dt.datetime
) -> None:
    """A provider that says the person opted out (an error with ``channel``, ``address`` and
    ``reason``, like the SMS channel's ``RecipientOptedOut``) puts the address on the
    suppression list."""
    channel, address = getattr(error, "channel", None), getattr(error, "address", None)
    if not (isinstance(channel, str) and isinstance(address, str) and address):
        return
    from lealta.feedback.suppressions import suppress  # the feedback package reads the outbox

    with Session(bind=connection) as session:
        suppress(
            session,
            channel=channel,
            address=address,
            reason=str(getattr(error, "reason", "opted-out")),
            source=channel,
            details={"error": str(error)},
            at=now,
        )
        session.flush()


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed try: ``2**attempts`` minutes, ≤ 6 h."""
    return min(dt.timedelta(minutes=2 ** min(attempts, 20)), MAX_BACKOFF)


def event_row(
    message: OutboxMessage | Row[Any] | Delivery, status: str, now: dt.datetime, **extra: Any
) -> dict[str, Any]:
    """The contact's history event for an outcome (``message_id`` ``outbox:<id>:<status>``,
    so it is written once, whoever records it)."""
    outbox_id = message.outbox_id if isinstance(message, Delivery) else message.id
    properties = {
        "channel": message.channel,
        "template": message.template,
        "outbox_id": outbox_id,
        "run_id": message.run_id,
        **{k: v for k, v in extra.items() if v is not None},
    }
    return {
        "message_id": f"outbox:{outbox_id}:{status}",
        "contact_id": message.contact_id,
        "type": "track",
        "name": EVENT_NAMES[status],
        "properties": properties,
        "context": {"source": "lealta"},
        "occurred_at": now,
        "received_at": now,
    }


def write_event(
    connection: Connection,
    message: OutboxMessage | Row[Any] | Delivery,
    status: str,
    now: dt.datetime,
    **extra: Any,
) -> None:
    """Append one outcome to the contact's history (once, whoever records it)."""
    values = event_row(message, status, now, **extra)
    PREPARED.run(connection, f"event_{connection.dialect.name}", values)
