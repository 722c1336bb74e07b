"""People, messages and signed links for the feedback tests (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from lealta.channels.outbox import enqueue
from lealta.channels.tables import MessageInteraction
from lealta.contacts.consent import record_consent
from lealta.events.tables import Event
from lealta.identity.service import resolve
from lealta.links import Links
from tests.integration.conftest import Api


@dataclass
class Feedback:
    """The API, the deployment's link maker, and helpers to make people and messages."""

    api: Api
    links: Links
    _keys: Iterator[int] = field(default_factory=itertools.count)

    def person(self, email: str, *, channels: tuple[str, ...] = ("email",)) -> str:
        """A contact with ``email`` who consented to ``channels``; its id."""
        now = self.api.services.clock.now()
        with self.api.services.uow.transaction() as session:
            contact = resolve(session, {"email": email}, now)
            for channel in channels:
                record_consent(session, contact.id, channel, "granted", source="test", at=now)
            return contact.id

    def message(
        self,
        contact_id: str,
        *,
        template: str = "reactivation-feedback",
        channel: str = "email",
        payload: dict[str, Any] | None = None,
    ) -> int:
        """An outbox row for ``contact_id``, as a workflow step writes it; its id."""
        with self.api.services.uow.transaction() as session:
            row = enqueue(
                session,
                key=f"test:{next(self._keys)}",
                contact_id=contact_id,
                channel=channel,
                template=template,
                payload=payload or {"workflow": "inactive-reactivation", "step": "feedback"},
                run_id="run-1",
                not_before=self.api.services.clock.now(),
            )
            assert row is not None
            return row.id

    def path(self, url: str) -> str:
        """The path of a link (the test client talks to the app directly)."""
        return urlsplit(url).path

    def interactions(self, outbox_id: int, kind: str) -> list[MessageInteraction]:
        with self.api.services.uow.transaction() as session:
            rows = session.scalars(
                select(MessageInteraction)
                .where(MessageInteraction.outbox_id == outbox_id, MessageInteraction.kind == kind)
                .order_by(MessageInteraction.id)
            ).all()
            session.expunge_all()
            return list(rows)

    def events(self, contact_id: str, name: str) -> list[Event]:
        with self.api.services.uow.transaction() as session:
            rows = session.scalars(
                select(Event)
                .where(Event.contact_id == contact_id, Event.name == name)
                .order_by(Event.id)
            ).all()
            session.expunge_all()
            return list(rows)


@pytest.fixture
def feedback(api: Api) -> Feedback:
    settings = api.services.settings
    return Feedback(api, Links(settings.secret_key, settings.base_url))
