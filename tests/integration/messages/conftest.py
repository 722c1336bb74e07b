"""A store with real contacts, orders, RFM scores and vouchers, and templates to render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from lealta.config import Settings
from lealta.storage.unit_of_work import UnitOfWork
from lealta.vouchers import service as vouchers
from tests.factories import contacts, orders, outbox, scores
from tests.factories.services import settings_for

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)


@dataclass
class Shop:
    """The store, settings for links, and helpers to fill it."""

    uow: UnitOfWork
    settings: Settings

    def person(self, email: str, *, tags: tuple[str, ...] = (), **attributes: Any) -> str:
        with self.uow.transaction() as session:
            return contacts.person(session, NOW, email=email, tags=tags, attributes=attributes).id

    def orders(self, contact_id: str, count: int, *, prefix: str = "O") -> None:
        """``count`` orders of a month ending yesterday, each with a tea and two kitchen items."""
        with self.uow.transaction() as session:
            for number in range(1, count + 1):
                orders.order(
                    session,
                    contact_id,
                    f"{prefix}-{number}",
                    at=NOW - dt.timedelta(days=30 - number),
                    amount=Decimal(number * 10) + Decimal("0.50"),
                    items=[
                        {"name": f"Tea {number}", "category": "tea", "price": 5},
                        {"name": "Cup", "category": "kitchen", "price": number},
                        {"name": "Pot", "category": "kitchen"},
                    ],
                )

    def rfm(self, contact_id: str, segment: str) -> None:
        with self.uow.transaction() as session:
            scores.rfm(
                session, contact_id, segment, at=NOW, frequency=7, monetary=280.5, computed_at=NOW
            )

    def voucher(self, contact_id: str, key: str = "v1", value: int = 20) -> str:
        with self.uow.transaction() as session:
            return vouchers.issue(
                session,
                key=key,
                contact_id=contact_id,
                kind="percent",
                value=value,
                valid_days=30,
                now=NOW,
                source="test",
            ).code

    def outbox(
        self, key: str, contact_id: str, template: str, payload: dict[str, Any] | None = None
    ) -> int:
        with self.uow.transaction() as session:
            row = outbox.message(
                session, contact_id, at=NOW, key=key, template=template, payload=payload or {}
            )
            assert row is not None
            return row.id


@pytest.fixture
def shop(uow: UnitOfWork, database_url: str) -> Shop:
    settings = settings_for(
        database_url,
        public_url="https://mail.tea.example",
        email_from="Tea Shop <news@tea.example>",
    )
    return Shop(uow, settings)


@pytest.fixture
def statements(uow: UnitOfWork) -> Iterator[list[str]]:
    """The SQL statements run while the test runs."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(uow.engine, "before_cursor_execute", record)
    yield seen
    event.remove(uow.engine, "before_cursor_execute", record)
