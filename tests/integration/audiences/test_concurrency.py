"""Two refreshes of one audience at the same moment (two workers) record each move once: the
second waits for the first's row, then finds nothing to change."""

from __future__ import annotations

import threading

from lealta.audiences import service
from lealta.audiences.membership import ENTERED, Refreshed, refresh
from lealta.storage.retry import in_transaction
from lealta.storage.unit_of_work import UnitOfWork
from tests.integration.audiences.helpers import NOW, add_contacts, events_named, tag


def test_concurrent_refreshes_record_each_move_once(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        ids = add_contacts(session, 200)
        for cid in ids[::2]:
            tag(session, cid, "vip")
        audience_id = service.save(
            session, "name: VIPs\ncondition: {kind: tag, tag: vip}", now=NOW
        ).audience.id
    done: list[Refreshed] = []
    start = threading.Barrier(2)

    def work() -> None:
        start.wait()
        done.append(
            in_transaction(
                uow, lambda s: refresh(s, service.get(s, audience_id), now=NOW), attempts=20
            )
        )

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(r.entered for r in done) == [0, 100]
    assert [r.size for r in done] == [100, 100]
    with uow.transaction() as session:
        assert len(events_named(session, ENTERED)) == 100
