"""The people counted once over a period (opened, clicked, buyers) and the orders, per group
and in all, on SQLite and PostgreSQL: the report's figures equal a count of the rows in
Python, on random messages and interactions (several per message, across groups)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import select

from lealta.automations.tables import Run
from lealta.channels.tables import MessageInteraction, OutboxMessage
from lealta.feedback.reports import GROUPINGS, NONE, group_names, report_and_totals
from lealta.storage.unit_of_work import UnitOfWork
from tests.integration.feedback_reports.test_rollup import DAYS, T0, Shop

FIELDS = ("opened_unique", "clicked_unique", "converted", "converters")


def by_hand(
    uow: UnitOfWork, by: str, since: dt.datetime, until: dt.datetime
) -> tuple[dict[tuple[str, ...], dict[str, int]], dict[str, int]]:
    """The figures counted from the rows in Python: per group key and in all."""
    names = group_names(by)
    with uow.transaction() as session:
        messages = session.execute(
            select(OutboxMessage, Run.workflow_id)
            .outerjoin(Run, Run.id == OutboxMessage.run_id)
            .where(OutboxMessage.status == "sent")
        ).all()
        interactions = session.scalars(select(MessageInteraction)).all()
        keyed: dict[int, tuple[tuple[str, ...], str]] = {}
        for message, workflow in messages:
            at = (
                message.sent_at.replace(tzinfo=dt.UTC)
                if message.sent_at.tzinfo is None
                else message.sent_at
            )
            if not since <= at < until:
                continue
            values = {
                "template": message.template,
                "channel": message.channel,
                "workflow": workflow,
                "step": (message.payload or {}).get("step"),
            }
            key = tuple(str(values[n]) if values[n] else NONE for n in names)
            keyed[message.id] = (key, message.contact_id)
        sets: dict[Any, dict[str, set[Any]]] = defaultdict(lambda: defaultdict(set))
        for row in interactions:
            if row.outbox_id not in keyed:
                continue
            key, contact = keyed[row.outbox_id]
            for group in (key, "all"):
                if row.kind in ("opened", "clicked"):
                    sets[group][row.kind].add(contact)
                elif row.kind == "converted":
                    sets[group]["converters"].add(contact)
                    sets[group]["orders"].add(row.order_id)

    def counts(found: dict[str, set[Any]]) -> dict[str, int]:
        return {
            "opened_unique": len(found["opened"]),
            "clicked_unique": len(found["clicked"]),
            "converted": len(found["orders"]),
            "converters": len(found["converters"]),
        }

    groups = {key: counts(found) for key, found in sets.items() if key != "all"}
    return groups, counts(sets["all"])


@pytest.mark.parametrize("seed", [3, 4])
def test_people_and_orders_counted_once_match_the_rows(uow: UnitOfWork, seed: int) -> None:
    shop = Shop(uow, seed)
    messages = shop.messages(150)
    shop.interactions(messages, 400)
    periods = [
        (T0, T0 + dt.timedelta(days=DAYS + 1)),
        (T0 + dt.timedelta(days=2, hours=5), T0 + dt.timedelta(days=6)),
    ]
    for since, until in periods:
        for by in GROUPINGS:
            with uow.transaction() as session:
                rows, totals = report_and_totals(session, by=by, since=since, until=until)
            groups, everyone = by_hand(uow, by, since, until)
            assert {k: getattr(totals, k) for k in FIELDS} == everyone
            assert everyone["opened_unique"] > 0
            for row in rows:
                key = tuple(row.key[name] for name in group_names(by))
                zero = dict.fromkeys(FIELDS, 0)
                assert {k: getattr(row, k) for k in FIELDS} == groups.get(key, zero), (by, key)
