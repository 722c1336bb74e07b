"""The demo shop comes with the example loyalty programme in force and tiers reviewed after its
RFM run, and the example audiences saved and refreshed, so the console's Loyalty and Audiences
pages show real figures (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lealta.audiences import service as audiences
from lealta.audiences.definition import load_definition
from lealta.audiences.tables import AudienceMember
from lealta.clock import FrozenClock
from lealta.conditions.sql import members_query
from lealta.demo import platform
from lealta.demo.audiences import example_paths, save_demo_audiences
from lealta.demo.loyalty import example_text, save_demo_program
from lealta.loyalty import reports, service
from lealta.loyalty.program import load_program
from lealta.loyalty.tables import TierChange
from lealta.storage.unit_of_work import UnitOfWork
from tests.factories.services import services_for


def test_the_demo_reviews_the_example_programme(
    uow: UnitOfWork, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    clock = FrozenClock(dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC))
    services = services_for(uow, database_url, clock=clock, inbox=True)
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


def test_the_demo_saves_the_example_audiences_with_their_members(
    uow: UnitOfWork, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    clock = FrozenClock(dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC))
    services = services_for(uow, database_url, clock=clock, inbox=True)
    platform.ensure_demo(services, customers=60, progress=lambda *_: None)
    names = {load_definition(path.read_text()).name for path in example_paths()}
    with uow.transaction() as session:
        saved = {audience.name: audience for audience in audiences.list_(session)}
        assert set(saved) == names
        for audience in saved.values():
            condition = load_definition(audiences.definition(session, audience)).condition
            expected = set(session.scalars(members_query(condition, now=clock.now())))
            stored = set(
                session.scalars(
                    select(AudienceMember.contact_id).where(
                        AudienceMember.audience_id == audience.id
                    )
                )
            )
            assert stored == expected, audience.name
    assert sum(save_demo_audiences(services).values()) > 0  # someone is in them
    with uow.transaction() as session:
        assert {a.version for a in audiences.list_(session)} == {1}  # saved again: unchanged
