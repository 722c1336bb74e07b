"""A message that cannot be applied is set aside with its error; the others are applied, in
order, and finding it takes a few transactions, not one per message of the batch."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lealta.bootstrap import Services
from lealta.events.tables import Event
from lealta.storage.base import utcnow
from lealta.storage.unit_of_work import UnitOfWork
from lealta.tracking import processor
from lealta.tracking.tables import InboxMessage
from tests.integration.conftest import Api


def _post(api: Api, first: int, count: int) -> None:
    batch = [
        {
            "type": "track",
            "event": "Product Viewed",
            "anonymousId": f"v-{i % 7}",
            "messageId": f"m-{i:04d}",
            "timestamp": f"2026-03-01T10:{i // 60:02d}:{i % 60:02d}Z",
        }
        for i in range(first, first + count)
    ]
    assert api.client.post("/v1/batch", auth=api.track_auth, json={"batch": batch}).is_success


def test_a_bad_message_is_set_aside_and_the_rest_applied(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _post(api, 0, 40)
    with api.services.inbox.transaction() as session:  # not JSON: the whole batch fails
        session.add(InboxMessage(message_id="bad", payload="{not json", received_at=utcnow()))
    _post(api, 40, 23)
    batches: list[int] = []
    real = processor._batch

    def counted(services: Services, inbox: UnitOfWork, limit: int) -> int:
        batches.append(limit)
        return real(services, inbox, limit)

    monkeypatch.setattr(processor, "_batch", counted)
    handled = 0
    while taken := processor.process_pending(api.services, limit=64):
        handled += taken
    assert handled == 64  # 63 applied, 1 set aside
    with api.services.uow.transaction() as session:
        stored = session.scalars(
            select(Event.message_id).where(Event.message_id.like("m-%")).order_by(Event.id)
        ).all()
    assert stored == [f"m-{i:04d}" for i in range(63)]  # all of them, in order
    with api.services.inbox.transaction() as session:
        left = session.execute(select(InboxMessage.message_id, InboxMessage.error)).all()
        assert session.scalar(select(func.count()).where(InboxMessage.failed_at.is_(None))) == 0
    assert [m for m, _ in left] == ["bad"]
    assert left[0][1] is not None
    assert "JSONDecodeError" in left[0][1]
    # halving 64 down to the one message: 2 * log2(64) = 12 batches and a few empty looks
    # (one by one, it took 64 and more)
    assert len([n for n in batches if n]) <= 16
