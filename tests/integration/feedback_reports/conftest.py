"""A small shop on SQLite and PostgreSQL: people, workflows, sent messages, interactions, orders."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from lealta.automations.tables import Run, Workflow, WorkflowVersion
from lealta.channels.tables import MessageInteraction, OutboxMessage, Suppression
from lealta.contacts.consent import consents_in_force, record_consent
from lealta.contacts.tables import Consent
from lealta.events.tables import Event
from lealta.feedback.service import record
from lealta.identity.service import resolve
from lealta.orders.records import OrderIn
from lealta.orders.service import record_order
from lealta.storage.unit_of_work import UnitOfWork

T0 = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)


@dataclass
class Shop:
    """Helpers writing straight to the store (each in its own transaction)."""

    uow: UnitOfWork
    _keys: Iterator[int] = field(default_factory=itertools.count)

    def person(self, email: str) -> str:
        """A contact with ``email`` who consented to e-mail; its id."""
        with self.uow.transaction() as session:
            contact = resolve(session, {"email": email}, T0)
            record_consent(session, contact.id, "email", "granted", source="test", at=T0)
            return contact.id

    def workflow(self, workflow_id: str) -> None:
        with self.uow.transaction() as session:
            # paused: an active workflow's definition is loaded by every processor batch, and
            # this one has none (only its runs and messages matter to the reports)
            session.add(Workflow(id=workflow_id, name=workflow_id, status="paused"))
            session.flush()
            session.add(WorkflowVersion(workflow_id=workflow_id, version=1, definition={}))

    def run(self, workflow_id: str, contact_id: str) -> str:
        run_id = f"run-{next(self._keys)}"
        with self.uow.transaction() as session:
            session.add(
                Run(
                    id=run_id,
                    workflow_id=workflow_id,
                    version=1,
                    contact_id=contact_id,
                    entry_key=run_id,
                    status="waiting",
                    entered_at=T0,
                )
            )
        return run_id

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
        payload: dict[str, Any] = {"step": step} if step else {}
        with self.uow.transaction() as session:
            row = OutboxMessage(
                idempotency_key=f"test:{next(self._keys)}",
                contact_id=contact_id,
                run_id=run_id,
                channel=channel,
                template=template,
                payload=payload,
                status=status,
                provider_id=provider_id,
                attempts=1,
                not_before=at,
                created_at=at,
                sent_at=at if status == "sent" else None,
            )
            session.add(row)
            session.flush()
            return row.id

    def interact(self, outbox_id: int, kind: str, at: dt.datetime, **kw: Any) -> None:
        with self.uow.transaction() as session:
            record(session, outbox_id=outbox_id, kind=kind, at=at, **kw)

    def order(self, contact_id: str, order_id: str, at: dt.datetime, amount: str) -> None:
        placed = OrderIn(id=order_id, placed_at=at, amount=Decimal(amount))
        with self.uow.transaction() as session:
            record_order(session, contact_id, placed)

    def interactions(self, kind: str) -> list[MessageInteraction]:
        with self.uow.transaction() as session:
            rows = session.scalars(
                select(MessageInteraction)
                .where(MessageInteraction.kind == kind)
                .order_by(MessageInteraction.id)
            ).all()
            session.expunge_all()
            return list(rows)

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
            rows = session.scalars(
                select(Event)
                .where(Event.contact_id == contact_id, Event.name == name)
                .order_by(Event.id)
            ).all()
            session.expunge_all()
            return list(rows)


@pytest.fixture
def shop(uow: UnitOfWork) -> Shop:
    return Shop(uow)
