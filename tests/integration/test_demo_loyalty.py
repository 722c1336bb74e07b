"""The demo shop comes with the example loyalty programme in force and tiers reviewed after its
RFM run, so the console's Loyalty pages show real figures (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lealta.bootstrap import Services, open_inbox
from lealta.clock import FrozenClock
from lealta.config import Settings
from lealta.demo import platform
from lealta.demo.loyalty import example_text, save_demo_program
from lealta.loyalty import reports, service
from lealta.loyalty.program import load_program
from lealta.loyalty.tables import TierChange
from lealta.storage.unit_of_work import UnitOfWork


def test_the_demo_reviews_the_example_programme(
    uow: UnitOfWork, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    clock = FrozenClock(dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC))
    settings = Settings(
        _env_file=None, database_url=database_url, environment="test", secret_key="test-secret"
    )
    services = Services(settings, uow, clock, open_inbox(database_url, uow))
    platform.ensure_demo(services, customers=40, progress=lambda *_: None)
    with uow.transaction() as session:
        stored = service.require(session)
        members = reports.members(session)
        changes = session.scalar(select(func.count()).select_from(TierChange))
    assert stored.version == 1
    assert stored.program == load_program(example_text())
    assert set(members) <= set(stored.program.tier_names())
    assert sum(members.values()) == changes > 0  # everyone joined at the one review
    assert save_demo_program(services) == 1  # loading again keeps the programme in force
