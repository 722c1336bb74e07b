"""Building what the adapters need from the settings, in one place: nothing connects at import."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from lealta.clock import Clock, SystemClock
from lealta.config import Settings, get_settings
from lealta.storage.engine import make_engine
from lealta.storage.memo import Memo
from lealta.storage.migrate import upgrade
from lealta.storage.unit_of_work import UnitOfWork


@dataclass
class Services:
    """Settings, the state store, the tracking inbox and the clock, for every adapter.

    ``inbox`` is the state store itself on PostgreSQL; on a SQLite file it is a separate file
    beside it, so that accepting events never waits for the processor (see
    :mod:`lealta.tracking.processor`).
    """

    settings: Settings
    uow: UnitOfWork
    clock: Clock = field(default_factory=SystemClock)
    inbox: UnitOfWork = field(default=None)  # type: ignore[assignment]
    memo: Memo = field(default_factory=Memo)  # figures kept while their data is unchanged

    def __post_init__(self) -> None:
        if self.inbox is None:
            self.inbox = self.uow


def inbox_url(database_url: str) -> str | None:
    """The separate inbox file of a SQLite database file (``lealta.db`` → ``lealta-inbox.db``)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    path = Path(url.database)
    return url.set(
        database=str(path.with_name(f"{path.stem}-inbox{path.suffix}"))
    ).render_as_string(hide_password=False)


def open_inbox(database_url: str, uow: UnitOfWork) -> UnitOfWork:
    """The unit of work of the inbox for ``database_url`` (created on first use)."""
    separate = inbox_url(database_url)
    if separate is None:
        return uow
    from lealta.storage.base import Base
    from lealta.tracking.tables import InboxMessage

    engine = make_engine(separate)
    Base.metadata.create_all(engine, tables=[Base.metadata.tables[InboxMessage.__tablename__]])
    return UnitOfWork(engine)


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    durable: bool = False,
) -> Services:
    """Services for ``settings`` (the process's settings by default), schema migrated first;
    ``durable``: a SQLite state database syncs every commit (the worker's, see
    :func:`lealta.storage.engine.make_engine`)."""
    settings = settings or get_settings()
    if migrate:
        upgrade(settings.database_url)
    uow = UnitOfWork(make_engine(settings.database_url, durable=durable))
    return Services(settings, uow, clock or SystemClock(), open_inbox(settings.database_url, uow))
