"""Settings, services and API keys as the tests wire them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from lealta.bootstrap import Services, open_inbox
from lealta.clock import Clock, SystemClock
from lealta.config import Settings
from lealta.keys.service import create_key
from lealta.storage.unit_of_work import UnitOfWork


def settings_for(database_url: str, **extra: Any) -> Settings:
    """Test settings on ``database_url``: no ``.env`` file, a fixed secret, messages applied
    by the test (``drain``) rather than in the server; ``extra`` overrides or adds."""
    options: dict[str, Any] = {
        "environment": "test",
        "secret_key": "test-secret",
        "process_in_server": False,
    }
    options.update(extra)
    return Settings(_env_file=None, database_url=database_url, **options)  # type: ignore[call-arg]


def services_for(
    uow: UnitOfWork,
    database_url: str,
    *,
    clock: Clock | None = None,
    inbox: bool = False,
    **extra: Any,
) -> Services:
    """Services on ``uow`` with :func:`settings_for` (``extra`` passed on), ``clock``
    (the system's when omitted), and the tracking inbox when ``inbox``."""
    built = Services(settings_for(database_url, **extra), uow, clock or SystemClock())
    if inbox:
        built.inbox = open_inbox(database_url, uow)
    return built


def api_keys(session: Session, now: dt.datetime, *, site: str = "test site") -> tuple[str, str]:
    """A new admin key and a new tracking key named for ``site``: their secrets."""
    admin = create_key(session, scope="admin", name="test admin", now=now).key
    track = create_key(session, scope="track", name=site, now=now).key
    return admin, track
