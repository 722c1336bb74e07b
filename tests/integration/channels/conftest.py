"""An outbox on SQLite and PostgreSQL, a frozen clock, and people who may be written to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from lealta.bootstrap import Services
from lealta.channels.dispatcher import DispatchReport, dispatch_due
from lealta.channels.policy import FrequencyCap, QuietHours
from lealta.channels.tables import OutboxMessage
from lealta.channels.testing import RecordingChannel
from lealta.clock import FrozenClock
from lealta.storage.unit_of_work import UnitOfWork
from tests.factories import contacts, events, outbox
from tests.factories.services import services_for

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
        consents = {"email": consent} if consent else {}
        with self.services.uow.transaction() as session:
            at = self.clock.now()
            return contacts.person(
                session, at, email=email, consents=consents, attributes=attributes
            ).id

    def enqueue(self, key: str, contact_id: str, *, template: str = "welcome", **kw: Any) -> None:
        kw.setdefault("payload", {"name": "Ana"})
        with self.services.uow.transaction() as session:
            outbox.message(
                session, contact_id, at=self.clock.now(), key=key, template=template, **kw
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
            return outbox.by_key(session, key)

    def events(self, contact_id: str) -> list[tuple[str | None, dict[str, Any]]]:
        """The ``Message …`` events of ``contact_id``: name and properties, oldest first."""
        with self.services.uow.transaction() as session:
            found = events.stored(session, contact_id=contact_id)
        return [
            (e.name, dict(e.properties)) for e in found if (e.name or "").startswith("Message ")
        ]


@pytest.fixture
def box(uow: UnitOfWork, database_url: str) -> Outbox:
    """The outbox on a fresh database (SQLite and PostgreSQL)."""
    clock = FrozenClock(START)
    services = services_for(uow, database_url, clock=clock)
    return Outbox(services, clock, RecordingChannel("email"))
