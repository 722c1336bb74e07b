"""Applying the inbox to the profiles, in order, in batches, exactly once.

Messages wait in an inbox table. On PostgreSQL it lives in the state database: a batch is
claimed (``FOR UPDATE SKIP LOCKED``, so several workers share it), applied and deleted in one
transaction. On SQLite the tracking endpoints write to a separate inbox file (``*-inbox.db``)
so that accepting events never waits for the processor's write lock; a batch is then applied
in one transaction of the state database and deleted from the inbox file afterwards. A crash
between the two leaves the batch in the inbox; applying it again changes nothing, because a
message whose id is already among the events is skipped, and every effect of a message
(event row, order, stage, score) commits with its event row. Messages written to the state
database's own inbox table (forms, imports, in the same transaction as their other writes)
are applied the first way on both databases.

A message that cannot be applied is set aside with its error (``failed_at``), never lost.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any, cast

import orjson
from sqlalchemy import Select, Table, bindparam, select, update
from sqlalchemy.orm import Session

from lealta.audiences.live import follow_batch
from lealta.automations.triggers import Triggers, load_live
from lealta.bootstrap import Services
from lealta.events.tables import Event
from lealta.feedback.attribution import attribute_orders
from lealta.rulesets.service import Rules, load_rules
from lealta.rulesets.tables import RuleSet
from lealta.storage.keyed import KeyedSelect, delete_keys
from lealta.storage.retry import in_transaction
from lealta.storage.unit_of_work import UnitOfWork
from lealta.tracking.apply import Applier
from lealta.tracking.tables import InboxMessage

log = logging.getLogger(__name__)
BATCH = 10_000  # messages per transaction at most: larger batches catch up faster when behind.
# A batch's cost is mostly the pages it dirties (its people's rows, the events' indexes keyed by
# person), written to the log at its commit: the more events share them, the less each pays
# (100,000 benchmark events, SQLite: about 6.2 CPU s in batches of 2,000, 4.4-4.7 s in batches
# of 10,000; 20,000 events: 3.06 CPU s in batches of 500, 2.35 s in batches of 2,000). A worker
# keeping up applies what is waiting, so small batches stay small.

Row = tuple[int, str, str]
# the messages of a batch already applied (their event is stored)
_APPLIED = KeyedSelect(
    select(Event.message_id).where(Event.message_id.in_(bindparam("keys", expanding=True)))
)


def process_pending(services: Services, *, limit: int = BATCH) -> int:
    """Apply up to ``limit`` waiting messages of each inbox; returns how many were handled."""
    handled = _drain(services, services.uow, limit)
    if services.inbox is not services.uow:
        handled += _drain(services, services.inbox, limit)
    return handled


def process_all(services: Services) -> int:
    """Apply every waiting message; returns how many were handled."""
    total = 0
    while handled := process_pending(services):
        total += handled
    return total


def _drain(services: Services, inbox: UnitOfWork, limit: int, *, top: bool = True) -> int:
    """Apply up to ``limit`` waiting messages in one transaction. When that fails, the same
    messages are applied in halves (each half again in halves when it fails, and so on), in
    order: a message that cannot be applied is found in about ``2 * log2(limit)`` transactions
    and set aside, where applying them one by one took ``limit``."""
    try:
        return _batch(services, inbox, limit)
    except Exception as exc:
        if limit == 1:
            log.exception("setting aside a message that cannot be applied")
            in_transaction(inbox, lambda s, e=exc: _set_aside(services, s, e))  # type: ignore[misc]
            return 1
        if top:
            log.exception("a batch failed; applying its messages in smaller batches")
    first = (limit + 1) // 2
    handled = _drain(services, inbox, first, top=False)
    if handled < first:  # nothing more waits
        return handled
    return handled + _drain(services, inbox, limit - first, top=False)


def _batch(services: Services, inbox: UnitOfWork, limit: int) -> int:
    if not _waiting(inbox):
        return 0
    if inbox is services.uow:

        def claim_apply_delete(session: Session) -> int:
            rows = _claim(session, limit)
            _apply(services, session, rows)
            _delete(session, rows)
            return len(rows)

        return in_transaction(services.uow, claim_apply_delete)
    with inbox.transaction() as reading:
        rows = _claim(reading, limit)
    if not rows:
        return 0
    in_transaction(services.uow, lambda session: _apply(services, session, rows))
    in_transaction(inbox, lambda session: _delete(session, rows))
    return len(rows)


def _waiting(inbox: UnitOfWork) -> bool:
    """Whether a message waits, read through a plain connection: an idle worker looks at
    each inbox several times a second (on SQLite the state store's own, nearly always empty,
    and the inbox file), and the claim's session and transaction cost about 0.4 ms a look
    (about 0.1 ms this way). A busy worker pays it once per batch of up to 10,000."""
    with inbox.engine.connect() as connection:
        return connection.execute(_WAITING).first() is not None


_WAITING = select(InboxMessage.id).where(InboxMessage.failed_at.is_(None)).limit(1)


def _claim(session: Session, limit: int) -> Sequence[Row]:
    # through the connection, as the driver's own tuples (the columns need no converting):
    # the ORM's row loading, and then SQLAlchemy's rows fetched one by one, cost more than
    # SQLite's reading (about 1.5 us a message)
    result = session.connection().execute(_claim_query(limit))
    try:
        rows: Sequence[Row] = result.cursor.fetchall()
    finally:
        result.close()
    return rows


@functools.lru_cache(maxsize=8)
def _claim_query(limit: int) -> Select[int, str, str]:
    """The claim of ``limit`` messages, built once: an idle worker claims nothing several
    times a second, and building the statement (and adapting the cached compiled one's
    results to the new object) was about 60 % of that (0.9 -> 0.4 ms per empty poll)."""
    return (
        select(InboxMessage.id, InboxMessage.message_id, InboxMessage.payload)
        .where(InboxMessage.failed_at.is_(None))
        .order_by(InboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def _delete(session: Session, rows: Sequence[Row]) -> None:
    inbox = cast(Table, InboxMessage.__table__)
    delete_keys(session.connection(), inbox, inbox.c.id, [r[0] for r in rows])


def _apply(services: Services, session: Session, rows: Sequence[Row]) -> None:
    if not rows:
        return
    done = {key for (key,) in _APPLIED.rows(session.connection(), [r[1] for r in rows])}
    messages = [orjson.loads(payload) for _, message_id, payload in rows if message_id not in done]
    if not messages:
        return
    now = services.clock.now()
    applier = Applier(
        session,
        _rules(services, session),
        now=now,
        region=services.settings.default_phone_region,
        triggers=Triggers(session, load_live(session), now=now, defer_wakes=True),
        consent_categories=services.settings.consent_categories,
    )
    applied: list[dict[str, Any]] = []
    with session.no_autoflush:
        applier.prefetch(messages)
        for message in messages:
            if message["messageId"] in done:
                continue
            applier.apply(message)
            done.add(message["messageId"])
            applied.append(message)
        applier.flush_events()
        if applier.purchases:  # purchases after a click are credited to the message
            attribute_orders(
                session, applier.purchases, now, days=services.settings.attribution_days
            )
    follow_batch(session, applied, now=now)


def _rules(services: Services, session: Session) -> Rules:
    """The rules in force, validated once per stored version rather than once per batch."""
    stored = tuple(
        (name, version, updated_at)
        for name, version, updated_at in session.execute(
            select(RuleSet.name, RuleSet.version, RuleSet.updated_at).order_by(RuleSet.name)
        )
    )
    return services.memo.get(("tracking rules", stored), lambda: load_rules(session))


def _set_aside(services: Services, session: Session, error: Exception) -> None:
    rows = _claim(session, 1)
    if rows:
        session.execute(
            update(InboxMessage)
            .where(InboxMessage.id == rows[0][0])
            .values(failed_at=services.clock.now(), error=f"{type(error).__name__}: {error}")
        )


def retry_failed(services: Services) -> int:
    """Put every set-aside message back in line (after a fix); returns how many."""

    def work(session: Session) -> int:
        result = session.execute(
            update(InboxMessage)
            .where(InboxMessage.failed_at.is_not(None))
            .values(failed_at=None, error=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    total = in_transaction(services.uow, work)
    if services.inbox is not services.uow:
        total += in_transaction(services.inbox, work)
    return total
