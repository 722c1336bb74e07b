"""Building what the adapters need from the settings, in one place: nothing connects at import."""

from __future__ import annotations

from dataclasses import dataclass, field

from lealta.clock import Clock, SystemClock
from lealta.config import Settings, get_settings
from lealta.storage.engine import make_engine
from lealta.storage.migrate import upgrade
from lealta.storage.unit_of_work import UnitOfWork


@dataclass
class Services:
    """Settings, the state store and the clock, handed to the API, the CLI and the worker."""

    settings: Settings
    uow: UnitOfWork
    clock: Clock = field(default_factory=SystemClock)


def build(
    settings: Settings | None = None, *, clock: Clock | None = None, migrate: bool = True
) -> Services:
    """Services for ``settings`` (the process's settings by default), schema migrated first."""
    settings = settings or get_settings()
    if migrate:
        upgrade(settings.database_url)
    return Services(
        settings, UnitOfWork(make_engine(settings.database_url)), clock or SystemClock()
    )
