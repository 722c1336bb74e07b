"""The daily rollup of message figures gives the very figures the rows give, on SQLite and
PostgreSQL: random messages and interactions on several days, read before any sweep (rows),
after a sweep (rollup), with new rows since (rollup and touched days from the rows), after
repeated sweeps, and compared with a rebuild from scratch."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, select

from lealta.channels.tables import MessageInteraction
from lealta.feedback import rollup
from lealta.feedback.reports import (
    GROUPINGS,
    message_report,
    message_totals,
    report_and_totals,
)
from lealta.feedback.rollup import MessageDay, RollupMark, dirty_days, marks, sweep
from lealta.feedback.trends import trend
from lealta.storage.unit_of_work import UnitOfWork
from tests.factories import contacts, outbox, runs

T0 = dt.datetime(2025, 3, 3, tzinfo=dt.UTC)
DAYS = 9
KINDS = ("delivered", "bounced", "opened", "clicked", "unsubscribed", "complained", "converted")


@pytest.fixture(autouse=True)
def _no_margins(monkeypatch: pytest.MonkeyPatch) -> None:
    # the look-back margins would keep every day of a small test "touched" (read from rows)
    monkeypatch.setattr(rollup, "ID_MARGIN", 0)
    monkeypatch.setattr(rollup, "TIME_MARGIN", dt.timedelta(0))


class Shop:
    def __init__(self, uow: UnitOfWork, seed: int) -> None:
        self.uow = uow
        self.rng = random.Random(seed)
        self.keys = 0
        self.orders = 0
        with uow.transaction() as session:
            self.people = [
                contacts.person(session, T0, email=f"p{i}@example.com").id for i in range(12)
            ]
            self.runs: list[str | None] = [None]
            for workflow in ("welcome-series", "winback"):
                runs.workflow(session, workflow)
                for i in range(3):
                    contact_id = self.rng.choice(self.people)
                    run = runs.run(
                        session, workflow, contact_id, at=T0, run_id=f"{workflow}-run-{i}"
                    )
                    self.runs.append(run.id)

    def messages(self, count: int) -> list[tuple[int, str, dt.datetime | None]]:
        rng = self.rng
        rows = []
        with self.uow.transaction() as session:
            for _ in range(count):
                self.keys += 1
                status = rng.choice(("sent", "sent", "sent", "sent", "failed", "pending"))
                at = T0 + dt.timedelta(seconds=rng.randrange(DAYS * 86_400))
                row = outbox.sent(
                    session,
                    rng.choice(self.people),
                    at=at,
                    key=f"rollup-test:{self.keys}",
                    run_id=rng.choice(self.runs),
                    channel=rng.choice(("email", "email", "sms")),
                    template=rng.choice(("welcome", "winback", "news")),
                    step=rng.choice((None, "day-1", "day-3")),
                    status=status,
                )
                rows.append((row.id, row.contact_id, row.sent_at))
        return rows

    def interactions(self, messages: list[Any], count: int) -> None:
        rng = self.rng
        rows = []
        for _ in range(count):
            outbox_id, contact_id, sent_at = rng.choice(messages)
            kind = rng.choice((*KINDS, "opened", "clicked", "answered"))
            at = (sent_at or T0) + dt.timedelta(hours=rng.randrange(0, 24 * 12))
            extra: dict[str, Any] = {}
            if kind == "converted":
                self.orders += 1
                order = f"o-{rng.randrange(max(self.orders // 2, 1))}"
                extra = {"order_id": order, "revenue": Decimal(rng.randrange(100, 9_999)) / 100}
            rows.append(
                MessageInteraction(
                    outbox_id=outbox_id, contact_id=contact_id, kind=kind, at=at, **extra
                )
            )
        with self.uow.transaction() as session:
            session.add_all(rows)


def figures(uow: UnitOfWork) -> list[Any]:
    """Every report, totals and trend the console and the API ask for, as plain values."""
    end = T0 + dt.timedelta(days=DAYS + 1)
    ranges = [
        (T0, end),
        (T0 + dt.timedelta(days=2), T0 + dt.timedelta(days=5)),
        (T0 + dt.timedelta(days=1, hours=7), T0 + dt.timedelta(days=6, hours=3, minutes=5)),
        (T0 + dt.timedelta(days=3, hours=1), T0 + dt.timedelta(days=3, hours=20)),
        (None, None),
        (T0 + dt.timedelta(days=4), None),
    ]
    found: list[Any] = []
    with uow.transaction() as session:
        for since, until in ranges:
            for by in GROUPINGS:
                found.append(
                    [s.as_dict() for s in message_report(session, by=by, since=since, until=until)]
                )
            found.append(message_totals(session, since=since, until=until).as_dict())
            rows, totals = report_and_totals(session, by="step", since=since, until=until)
            found.append(([r.as_dict() for r in rows], totals.as_dict()))
        for bucket in ("day", "week"):
            found.append(trend(session, since=T0, until=end, bucket=bucket))
        found.append(
            trend(
                session,
                since=T0 + dt.timedelta(hours=5),
                until=end,
                by="template",
                only={"template": "welcome"},
            )
        )
        found.append(
            trend(
                session,
                since=T0,
                until=end,
                by="step",
                only={"workflow": "(none)", "step": "(none)"},
            )
        )
    return found


def table(uow: UnitOfWork) -> list[tuple[Any, ...]]:
    with uow.transaction() as session:
        rows = session.execute(
            select(
                MessageDay.day,
                MessageDay.channel,
                MessageDay.template,
                MessageDay.workflow,
                MessageDay.step,
                MessageDay.kind,
                MessageDay.messages,
                MessageDay.total,
                MessageDay.revenue,
            ).order_by(*MessageDay.__table__.primary_key.columns)
        )
        return [(*row[:8], Decimal(str(row[8])).quantize(Decimal("0.01"))) for row in rows]


def forget(uow: UnitOfWork) -> None:
    """Back to no rollup: reports read the rows."""
    with uow.transaction() as session:
        session.execute(delete(RollupMark))
        session.execute(delete(MessageDay))


def swept(uow: UnitOfWork, days_later: int = 20) -> int:
    with uow.transaction() as session:
        return sweep(session, now=T0 + dt.timedelta(days=days_later))


@pytest.mark.parametrize("seed", [1, 2])
def test_the_rollup_gives_the_figures_of_the_rows(uow: UnitOfWork, seed: int) -> None:
    shop = Shop(uow, seed)
    messages = shop.messages(160)
    shop.interactions(messages, 260)
    forget(uow)  # the migration may have left marks on the empty database
    rows = figures(uow)
    assert any(r["sent"] for r in rows[0]), "the data set sends nothing"

    assert swept(uow) == -1  # the first sweep rolls up every day
    with uow.transaction() as session:
        mark = marks(session)
        assert mark is not None
        assert dirty_days(session, mark) == set()  # nothing read from the rows any more
    assert table(uow)
    assert figures(uow) == rows

    # new messages on old days and late interactions on old messages: touched days are read
    # from the rows until the next sweep, the others from the rollup
    more = shop.messages(40)
    shop.interactions(messages + more, 90)
    forget_marks_kept = figures(uow)
    assert swept(uow, 21) > 0
    after = figures(uow)
    assert after == forget_marks_kept
    first = table(uow)
    assert swept(uow, 22) == 0  # nothing new: nothing rebuilt, nothing counted twice
    assert table(uow) == first

    forget(uow)
    assert figures(uow) == after  # the rows agree
    swept(uow, 23)
    assert table(uow) == first  # a rebuild from scratch writes the same rollup
