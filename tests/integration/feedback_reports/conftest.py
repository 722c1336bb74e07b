"""A small shop on SQLite and PostgreSQL: people, workflows, sent messages, interactions, orders."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from lealta.channels.tables import MessageInteraction, Suppression
from lealta.contacts.consent import consents_in_force
from lealta.contacts.tables import Consent
from lealta.events.tables import Event
from lealta.feedback.service import record
from lealta.storage.unit_of_work import UnitOfWork
from tests.factories import contacts, events, orders, outbox, runs
from tests.factories.contacts import granted

T0 = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)


@dataclass
class Shop:
    """Helpers writing straight to the store (each in its own transaction)."""

    uow: UnitOfWork
    _keys: Iterator[int] = field(default_factory=itertools.count)

    def person(self, email: str) -> str:
        """A contact with ``email`` who consented to e-mail; its id."""
        with self.uow.transaction() as session:
            return contacts.person(session, T0, email=email, consents=granted("email")).id

    def workflow(self, workflow_id: str) -> None:
        with self.uow.transaction() as session:
            runs.workflow(session, workflow_id)

    def run(self, workflow_id: str, contact_id: str) -> str:
        with self.uow.transaction() as session:
            run_id = f"run-{next(self._keys)}"
            return runs.run(session, workflow_id, contact_id, at=T0, run_id=run_id).id

    def sent(
        self,
        contact_id: str,
        *,
        template: str = "welcome",
        channel: str = "email",
        at: dt.datetime = T0,
        run_id: str | None = None,
        step: str | None = None,
        provider_id: str | None = None,
        status: str = "sent",
    ) -> int:
        """An outbox row as the dispatcher leaves it after sending; its id."""
        with self.uow.transaction() as session:
            row = outbox.sent(
                session,
                contact_id,
                at=at,
                template=template,
                channel=channel,
                run_id=run_id,
                step=step,
                provider_id=provider_id,
                status=status,
            )
            return row.id

    def interact(self, outbox_id: int, kind: str, at: dt.datetime, **kw: Any) -> None:
        with self.uow.transaction() as session:
            record(session, outbox_id=outbox_id, kind=kind, at=at, **kw)

    def order(self, contact_id: str, order_id: str, at: dt.datetime, amount: str) -> None:
        with self.uow.transaction() as session:
            orders.order(session, contact_id, order_id, at=at, amount=amount)

    def interactions(self, kind: str) -> list[MessageInteraction]:
        with self.uow.transaction() as session:
            return outbox.interactions(session, kind)

    def suppression(self, email: str) -> Suppression | None:
        with self.uow.transaction() as session:
            row = session.scalar(
                select(Suppression).where(
                    Suppression.channel == "email", Suppression.address == email
                )
            )
            if row is not None:
                session.expunge(row)
            return row

    def email_consent(self, contact_id: str) -> str | None:
        with self.uow.transaction() as session:
            current = consents_in_force(session, contact_id).get("email")
            return current.status if current else None

    def consent_rows(self, contact_id: str, status: str) -> int:
        with self.uow.transaction() as session:
            rows = session.scalars(
                select(Consent.id).where(Consent.contact_id == contact_id, Consent.status == status)
            )
            return len(list(rows))

    def events(self, contact_id: str, name: str) -> list[Event]:
        with self.uow.transaction() as session:
            return events.stored(session, contact_id=contact_id, name=name)


@pytest.fixture
def shop(uow: UnitOfWork) -> Shop:
    return Shop(uow)
