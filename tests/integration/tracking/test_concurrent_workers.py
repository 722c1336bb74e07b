"""Several processors at once (as several `lealta worker` processes would be): every message is
applied once and each person still has exactly one profile."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from lealta.contacts.tables import Contact, Identifier
from lealta.events.tables import Event
from lealta.tracking.processor import process_pending
from tests.integration.conftest import Api

PEOPLE = 12
MESSAGES = 600


def test_parallel_processors_apply_once_and_never_split_a_person(api: Api) -> None:
    batch = [
        {
            "type": "track",
            "event": "Product Viewed",
            "anonymousId": f"shared-{i % PEOPLE}",
            "messageId": f"m-{i}",
            "timestamp": f"2026-05-01T10:{i // 60:02d}:{i % 60:02d}Z",
        }
        for i in range(MESSAGES)
    ]
    for start in range(0, MESSAGES, 100):
        chunk = {"batch": batch[start : start + 100]}
        assert api.client.post("/v1/batch", auth=api.track_auth, json=chunk).is_success

    failures: list[BaseException] = []

    def worker() -> None:
        try:
            while process_pending(api.services, limit=20):
                pass
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    api.drain()
    with api.services.uow.transaction() as session:
        events = session.scalar(
            select(func.count()).select_from(Event).where(Event.name == "Product Viewed")
        )
        owners = session.scalar(
            select(func.count(func.distinct(Identifier.contact_id))).where(
                Identifier.kind == "anonymous_id"
            )
        )
        live = session.scalar(
            select(func.count()).select_from(Contact).where(Contact.merged_into.is_(None))
        )
    assert events == MESSAGES
    assert owners == PEOPLE
    assert live == PEOPLE
