"""A store with real contacts, orders, RFM scores and vouchers, and templates to render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from lealta.channels.outbox import enqueue
from lealta.config import Settings
from lealta.contacts.tables import ContactTag
from lealta.identity.service import resolve
from lealta.orders.tables import Order
from lealta.segmentation.tables import ContactRfm
from lealta.storage.unit_of_work import UnitOfWork
from lealta.vouchers import service as vouchers

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)


@dataclass
class Shop:
    """The store, settings for links, and helpers to fill it."""

    uow: UnitOfWork
    settings: Settings

    def person(self, email: str, *, tags: tuple[str, ...] = (), **attributes: Any) -> str:
        with self.uow.transaction() as session:
            contact = resolve(session, {"email": email}, NOW)
            contact.attributes = dict(attributes)
            for tag in tags:
                session.add(ContactTag(contact_id=contact.id, tag=tag, created_at=NOW))
            return contact.id

    def orders(self, contact_id: str, count: int, *, prefix: str = "O") -> None:
        with self.uow.transaction() as session:
            for number in range(1, count + 1):
                session.add(
                    Order(
                        external_id=f"{prefix}-{number}",
                        contact_id=contact_id,
                        placed_at=NOW - dt.timedelta(days=30 - number),
                        amount=Decimal(number * 10) + Decimal("0.50"),
                        currency="EUR",
                        items=[
                            {"name": f"Tea {number}", "category": "tea", "price": 5},
                            {"name": "Cup", "category": "kitchen", "price": number},
                            {"name": "Pot", "category": "kitchen"},
                        ],
                        created_at=NOW,
                    )
                )

    def rfm(self, contact_id: str, segment: str) -> None:
        with self.uow.transaction() as session:
            session.add(
                ContactRfm(
                    contact_id=contact_id,
                    recency_days=3,
                    frequency=7,
                    monetary=280.5,
                    payment=None,
                    r=5,
                    f=4,
                    m=4,
                    p=None,
                    code="544",
                    segment=segment,
                    cluster=None,
                    cluster_name=None,
                    as_of=NOW,
                    computed_at=NOW,
                )
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
            row = enqueue(
                session,
                key=key,
                contact_id=contact_id,
                channel="email",
                template=template,
                payload=payload or {},
                not_before=NOW,
                now=NOW,
            )
            assert row is not None
            return row.id


@pytest.fixture
def shop(uow: UnitOfWork, database_url: str) -> Shop:
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        environment="test",
        secret_key="test-secret",
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
