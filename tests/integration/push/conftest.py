"""Push on SQLite and PostgreSQL: a clock near real time (the fake services check token expiry
against the real one), people with push consent, the local push services and the channels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lealta.bootstrap import Services
from lealta.channels.dispatcher import DispatchReport, dispatch_due
from lealta.channels.fcm import FcmChannel
from lealta.channels.tables import OutboxMessage, PushDevice
from lealta.channels.webpush import WebPushChannel
from lealta.channels.webpush_crypto import VapidKeys
from lealta.clock import FrozenClock
from lealta.config import Settings
from lealta.rest.app import create_app
from lealta.storage.unit_of_work import UnitOfWork
from tests.factories import contacts, outbox
from tests.factories.contacts import granted
from tests.factories.services import api_keys, services_for, settings_for
from tests.integration.conftest import Api
from tests.integration.push.fake_fcm import FakeFcm, running_fcm
from tests.integration.push.fake_webpush import PushService, running_push_service

SUBJECT = "mailto:push@shop.example"


@pytest.fixture(scope="module")
def vapid() -> VapidKeys:
    return VapidKeys.generate()


@pytest.fixture
def push_service() -> Iterator[PushService]:
    with running_push_service() as service:
        yield service


@pytest.fixture
def fcm() -> Iterator[FakeFcm]:
    with running_fcm() as fake:
        yield fake


def _settings(database_url: str, **extra: Any) -> Settings:
    return settings_for(database_url, quiet_hours="", **extra)


@dataclass
class Push:
    """Services with a frozen clock and helpers to set the scene."""

    services: Services
    clock: FrozenClock

    def person(self, user_id: str, *channels: str) -> str:
        """A contact known by ``user_id``, with consent for ``channels``; its id."""
        with self.services.uow.transaction() as session:
            at = self.clock.now()
            return contacts.person(session, at, user_id=user_id, consents=granted(*channels)).id

    def enqueue(self, key: str, contact_id: str, channel: str, payload: dict[str, Any]) -> None:
        with self.services.uow.transaction() as session:
            outbox.message(
                session,
                contact_id,
                at=self.clock.now(),
                key=key,
                channel=channel,
                template="promo",
                payload=payload,
            )

    def dispatch(self, *channels: Any) -> DispatchReport:
        return dispatch_due(self.services, {c.name: c for c in channels})

    def row(self, key: str) -> OutboxMessage:
        with self.services.uow.transaction() as session:
            return outbox.by_key(session, key)

    def devices(self) -> list[PushDevice]:
        with self.services.uow.transaction() as session:
            rows = list(session.scalars(select(PushDevice).order_by(PushDevice.id)))
            session.expunge_all()
            return rows


@pytest.fixture
def push(uow: UnitOfWork, database_url: str) -> Push:
    clock = FrozenClock(dt.datetime.now(dt.UTC).replace(microsecond=0))
    return Push(services_for(uow, database_url, clock=clock, quiet_hours=""), clock)


@pytest.fixture
def webpush(push: Push, vapid: VapidKeys) -> Iterator[WebPushChannel]:
    channel = WebPushChannel(
        push.services.uow, vapid, subject=SUBJECT, clock=push.clock, allow_http=True
    )
    yield channel
    channel.close()


@pytest.fixture
def fcm_channel(push: Push, fcm: FakeFcm, tmp_path: Path) -> Iterator[FcmChannel]:
    settings = _settings(
        push.services.settings.database_url,
        fcm_api_url=fcm.url,
        fcm_token_url=fcm.token_url,
        fcm_credentials_file=str(fcm.service_account(tmp_path)),
    )
    channel = FcmChannel.from_settings(settings, push.services.uow, push.clock)
    yield channel
    channel.close()


@pytest.fixture
def push_api(uow: UnitOfWork, database_url: str, vapid: VapidKeys) -> Iterator[Api]:
    """The REST API with web push configured (only the private key set: the public one is
    derived)."""
    clock = FrozenClock(dt.datetime.now(dt.UTC).replace(microsecond=0))
    services = services_for(
        uow,
        database_url,
        clock=clock,
        inbox=True,
        quiet_hours="",
        vapid_private_key=vapid.private_b64,
    )
    with uow.transaction() as session:
        admin, track = api_keys(session, clock.now(), site="test app")
    with TestClient(create_app(services)) as client:
        yield Api(client, services, admin, track)
