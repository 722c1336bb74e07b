"""An outbox on SQLite and PostgreSQL, a frozen clock, and people who may be written to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from lealta.bootstrap import Services
from lealta.channels.dispatcher import DispatchReport, dispatch_due
from lealta.channels.outbox import enqueue
from lealta.channels.policy import FrequencyCap, QuietHours
from lealta.channels.tables import OutboxMessage
from lealta.channels.testing import RecordingChannel
from lealta.clock import FrozenClock
from lealta.config import Settings
from lealta.contacts.consent import record_consent
from lealta.events.tables import Event
from lealta.identity.service import resolve
from lealta.storage.unit_of_work import UnitOfWork

START = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)  # a Monday, daytime in Europe


@dataclass
class Outbox:
    """Services with a frozen clock, and an e-mail channel that records."""

    services: Services
    clock: FrozenClock
    email: RecordingChannel

    @property
    def channels(self) -> dict[str, RecordingChannel]:
        return {"email": self.email}

    def person(self, email: str, *, consent: str | None = "granted", **attributes: Any) -> str:
        """A contact with ``email``, its e-mail consent and attributes; its id."""
        now = self.clock.now()
        with self.services.uow.transaction() as session:
            contact = resolve(session, {"email": email}, now)
            contact.attributes = dict(attributes)
            if consent:
                record_consent(session, contact.id, "email", consent, source="test", at=now)
            return contact.id

    def enqueue(self, key: str, contact_id: str, *, template: str = "welcome", **kw: Any) -> None:
        with self.services.uow.transaction() as session:
            enqueue(
                session,
                key=key,
                contact_id=contact_id,
                channel=kw.pop("channel", "email"),
                template=template,
                payload=kw.pop("payload", {"name": "Ana"}),
                run_id=kw.pop("run_id", None),
                not_before=kw.pop("not_before", self.clock.now()),
                now=self.clock.now(),
            )

    def dispatch(
        self,
        *,
        caps: tuple[FrequencyCap, ...] = (),
        quiet: QuietHours | None = None,
        channels: Any = None,
        **options: Any,
    ) -> DispatchReport:
        return dispatch_due(
            self.services, channels or self.channels, caps=caps, quiet=quiet, **options
        )

    def row(self, key: str) -> OutboxMessage:
        with self.services.uow.transaction() as session:
            found = session.scalars(
                select(OutboxMessage).where(OutboxMessage.idempotency_key == key)
            ).one()
            session.expunge(found)
            return found

    def events(self, contact_id: str) -> list[tuple[str | None, dict[str, Any]]]:
        with self.services.uow.transaction() as session:
            rows = session.execute(
                select(Event.name, Event.properties)
                .where(Event.contact_id == contact_id, Event.name.like("Message %"))
                .order_by(Event.id)
            )
            return [(name, dict(properties)) for name, properties in rows]


@pytest.fixture
def box(uow: UnitOfWork, database_url: str) -> Outbox:
    """The outbox on a fresh database (SQLite and PostgreSQL)."""
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        environment="test",
        secret_key="test-secret",
        process_in_server=False,
    )
    clock = FrozenClock(START)
    return Outbox(Services(settings, uow, clock), clock, RecordingChannel("email"))
