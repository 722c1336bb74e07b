"""People, messages and signed links for the feedback tests (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from lealta.channels.tables import MessageInteraction
from lealta.events.tables import Event
from lealta.links import Links
from tests.factories import contacts, events, outbox
from tests.factories.contacts import granted
from tests.integration.conftest import Api


@dataclass
class Feedback:
    """The API, the deployment's link maker, and helpers to make people and messages."""

    api: Api
    links: Links

    def person(self, email: str, *, channels: tuple[str, ...] = ("email",)) -> str:
        """A contact with ``email`` who consented to ``channels``; its id."""
        with self.api.services.uow.transaction() as session:
            at = self.api.services.clock.now()
            return contacts.person(session, at, email=email, consents=granted(*channels)).id

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
            row = outbox.message(
                session,
                contact_id,
                at=self.api.services.clock.now(),
                channel=channel,
                template=template,
                payload=payload or {"workflow": "inactive-reactivation", "step": "feedback"},
                run_id="run-1",
            )
            assert row is not None
            return row.id

    def path(self, url: str) -> str:
        """The path of a link (the test client talks to the app directly)."""
        return urlsplit(url).path

    def interactions(self, outbox_id: int, kind: str) -> list[MessageInteraction]:
        with self.api.services.uow.transaction() as session:
            return outbox.interactions(session, kind, outbox_id=outbox_id)

    def events(self, contact_id: str, name: str) -> list[Event]:
        with self.api.services.uow.transaction() as session:
            return events.stored(session, contact_id=contact_id, name=name)


@pytest.fixture
def feedback(api: Api) -> Feedback:
    settings = api.services.settings
    return Feedback(api, Links(settings.secret_key, settings.base_url))
