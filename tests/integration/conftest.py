"""Databases for the integration tests: a fresh SQLite file and a fresh PostgreSQL database,
each with Lealta's schema (or empty, for the migration tests)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lealta.bootstrap import Services
from lealta.rest.app import create_app
from lealta.storage.base import utcnow
from lealta.storage.engine import make_engine
from lealta.storage.migrate import upgrade
from lealta.storage.unit_of_work import UnitOfWork
from lealta.tracking.processor import process_all
from tests.factories.services import api_keys, services_for


def _postgres_admin_url() -> str | None:
    # `make test` sets this (scripts/ensure-postgres finds or starts a server).
    return os.environ.get("LEALTA_TEST_POSTGRES_URL") or None


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per test session; each test gets a copy."""
    path = tmp_path_factory.mktemp("migrated") / "lealta.db"
    upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as connection:  # everything in the main file, none in the WAL
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path


@pytest.fixture(scope="session")
def _migrated_postgres() -> Iterator[str | None]:
    """A PostgreSQL database migrated once per session, the template of each test's database
    (``CREATE DATABASE … TEMPLATE`` copies files: far faster than migrating every time)."""
    admin_url = _postgres_admin_url()
    if admin_url is None:
        yield None
        return
    name = f"lealta_template_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))  # generated name, not input
    try:
        upgrade(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database, once on SQLite and once on PostgreSQL."""
    with _database(request.param, tmp_path, template=None) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    _migrated_sqlite: Path,
    _migrated_postgres: str | None,
) -> Iterator[str]:
    """The URL of a fresh database with Lealta's schema, once on SQLite and once on
    PostgreSQL (copied from a database migrated once per session)."""
    template = _migrated_sqlite if request.param == "sqlite" else _migrated_postgres
    with _database(request.param, tmp_path, template=template) as url:
        yield url


@contextmanager
def _database(kind: str, folder: Path, *, template: Path | str | None) -> Iterator[str]:
    if kind == "sqlite":
        path = folder / "lealta.db"
        if isinstance(template, Path):
            shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip("no PostgreSQL: run through `make test`, or set LEALTA_TEST_POSTGRES_URL")
    name = f"lealta_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if isinstance(template, str) else ""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))  # generated names
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def uow(database_url: str) -> Iterator[UnitOfWork]:
    """A unit of work on a freshly migrated database (SQLite and PostgreSQL)."""
    unit = UnitOfWork(make_engine(database_url))
    yield unit
    unit.engine.dispose()


@dataclass
class Api:
    """A test client on the app, with an admin key and a tracking (write) key."""

    client: TestClient
    services: Services
    admin_key: str
    track_key: str

    @property
    def admin(self) -> dict[str, str]:
        """Headers authenticating as admin."""
        return {"Authorization": f"Bearer {self.admin_key}"}

    @property
    def track_auth(self) -> tuple[str, str]:
        """Basic credentials the Segment way: the write key as user name."""
        return (self.track_key, "")

    def drain(self) -> None:
        """Apply every tracked message waiting in the inbox (what the worker does)."""
        process_all(self.services)


@pytest.fixture
def api(uow: UnitOfWork, database_url: str) -> Iterator[Api]:
    """The REST API on a fresh database (SQLite and PostgreSQL); messages applied on ``drain``."""
    services = services_for(uow, database_url, inbox=True)
    with uow.transaction() as session:
        admin, track = api_keys(session, utcnow())
    with TestClient(create_app(services)) as client:
        yield Api(client, services, admin, track)
