"""Applying the inbox to the profiles, in order, in batches, exactly once.

A batch is claimed (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share the
inbox; SQLite has one writer at a time anyway), applied and deleted in one transaction: a crash
rolls all of it back and the batch is applied again later, never twice. A message whose id is
already among the events (a retry that arrived after its first copy was applied) is dropped.
A message that cannot be applied is set aside with its error (``failed_at``), never lost.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from lealta.bootstrap import Services
from lealta.events.tables import Event
from lealta.rulesets.service import load_rules
from lealta.storage.retry import in_transaction
from lealta.tracking.apply import Applier
from lealta.tracking.tables import InboxMessage

log = logging.getLogger(__name__)
BATCH = 500


def process_pending(services: Services, *, limit: int = BATCH) -> int:
    """Apply up to ``limit`` waiting messages; returns how many were taken off the inbox."""
    try:
        return in_transaction(services.uow, lambda s: _apply_batch(services, s, limit))
    except Exception:
        log.exception("a batch failed; applying its messages one by one")
    return _one_by_one(services, limit)


def process_all(services: Services) -> int:
    """Apply every waiting message; returns how many were handled."""
    total = 0
    while handled := process_pending(services):
        total += handled
    return total


def _claim(session: Session, limit: int) -> Sequence[tuple[int, str, str]]:
    query = (
        select(InboxMessage.id, InboxMessage.message_id, InboxMessage.payload)
        .where(InboxMessage.failed_at.is_(None))
        .order_by(InboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [(r[0], r[1], r[2]) for r in session.execute(query)]


def _apply_batch(services: Services, session: Session, limit: int) -> int:
    rows = _claim(session, limit)
    if not rows:
        return 0
    done = set(
        session.scalars(select(Event.message_id).where(Event.message_id.in_([r[1] for r in rows])))
    )
    applier = Applier(
        session,
        load_rules(session),
        now=services.clock.now(),
        region=services.settings.default_phone_region,
    )
    messages = [orjson.loads(payload) for _, message_id, payload in rows if message_id not in done]
    with session.no_autoflush:
        applier.prefetch(messages)
        for message in messages:
            if message["messageId"] in done:
                continue
            applier.apply(message)
            done.add(message["messageId"])
        applier.flush_events()
    session.execute(delete(InboxMessage).where(InboxMessage.id.in_([r[0] for r in rows])))
    return len(rows)


def _one_by_one(services: Services, limit: int) -> int:
    """After a failed batch: apply each message alone; set aside the ones that fail."""
    handled = 0
    for _ in range(limit):
        try:
            taken = in_transaction(services.uow, lambda s: _apply_batch(services, s, 1))
        except Exception as exc:
            log.exception("setting aside a message that cannot be applied")
            in_transaction(services.uow, functools.partial(_set_aside, services, error=exc))
            taken = 1
        if not taken:
            break
        handled += taken
    return handled


def _set_aside(services: Services, session: Session, *, error: Exception) -> None:
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

    return in_transaction(services.uow, work)
