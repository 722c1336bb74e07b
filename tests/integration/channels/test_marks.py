"""A chunk's marks are one statement each, and each row in them is still changed only if it is
in the state (and at the attempt) this worker left it: a row another worker took over after
the lease ran out is neither started nor recorded as sent by the first one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from lealta.channels import marks
from lealta.channels.tables import OutboxMessage
from tests.integration.channels.conftest import Outbox


def _ids(box: Outbox, keys: list[str]) -> list[int]:
    return [box.row(key).id for key in keys]


def _set(box: Outbox, key: str, **values: object) -> None:
    with box.services.uow.engine.begin() as connection:
        connection.execute(
            update(OutboxMessage).where(OutboxMessage.idempotency_key == key).values(**values)
        )


def test_a_start_mark_takes_only_the_rows_still_claimed_at_the_attempt_read(box: Outbox) -> None:
    person = box.person("ana@example.com")
    keys = ["a", "b", "c"]
    for key in keys:
        box.enqueue(key, person)
        _set(box, key, status="claimed")
    _set(box, "b", attempts=1)  # another worker took it over and tried it meanwhile
    a, b, c = _ids(box, keys)
    with box.services.uow.engine.begin() as connection:
        started = marks.run(connection, "start", [(a, 0), (b, 0), (c, 0)])
    assert started == {a, c}
    rows = [box.row(key) for key in keys]
    assert [(r.status, r.attempts) for r in rows] == [
        ("sending", 1),
        ("claimed", 1),
        ("sending", 1),
    ]


def test_sent_marks_give_each_row_its_own_provider_id_and_skip_rows_no_longer_sending(
    box: Outbox,
) -> None:
    person = box.person("bo@example.com")
    keys = ["x", "y", "z"]
    for key in keys:
        box.enqueue(key, person)
        _set(box, key, status="sending", attempts=1)
    _set(box, "z", status="failed")  # failed as interrupted by another worker meanwhile
    x, y, z = _ids(box, keys)
    now = box.clock.now()
    with box.services.uow.engine.begin() as connection:
        done = marks.run(
            connection, "sent", [(x, "<x@shop>", 1), (y, "<y@shop>", 1), (z, "<z@shop>", 1)], at=now
        )
    assert done == {x, y}
    rows = {key: box.row(key) for key in keys}
    assert [(rows[k].status, rows[k].provider_id) for k in keys] == [
        ("sent", "<x@shop>"),
        ("sent", "<y@shop>"),
        ("failed", None),
    ]
    assert [_utc(rows[k].sent_at) for k in ("x", "y")] == [now, now]


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
