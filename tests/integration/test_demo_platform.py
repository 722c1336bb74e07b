"""The demo shop loaded into the platform through the tracking pipeline (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lealta.clock import FrozenClock
from lealta.contacts.tables import Contact, ListMembership
from lealta.demo import platform
from lealta.events.tables import Event
from lealta.messages.tables import MessageTemplate
from lealta.orders.tables import Order
from lealta.segmentation.tables import ContactRfm
from lealta.storage.unit_of_work import UnitOfWork
from tests.factories.services import services_for


def test_the_demo_shop_fills_profiles_orders_stages_and_scores(
    uow: UnitOfWork, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    clock = FrozenClock(dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC))
    services = services_for(uow, database_url, clock=clock, inbox=True)
    keys = platform.ensure_demo(services, customers=25, progress=lambda *_: None)
    assert keys.admin.startswith("lk_")
    assert (tmp_path / "demo" / "keys.env").read_text().count("lk_") == 2
    with uow.transaction() as session:
        orders = session.scalar(select(func.count()).select_from(Order))
        buyers = session.scalar(select(func.count(func.distinct(Order.contact_id))))
        stages = dict(
            session.execute(
                select(Contact.lifecycle_stage, func.count()).group_by(Contact.lifecycle_stage)
            ).all()
        )
        last = session.scalar(select(func.max(Order.placed_at)))
        scored = session.scalar(select(func.count()).select_from(Contact).where(Contact.score > 0))
        subscribed = session.scalar(select(func.count()).select_from(ListMembership))
        rfm = session.execute(
            select(ContactRfm.segment, ContactRfm.cluster_name, ContactRfm.p)
        ).all()
        identifies = session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "identify")
        )
        templates = set(session.scalars(select(MessageTemplate.id)))
    assert buyers == 25
    assert orders is not None
    assert orders > 25
    assert stages.get("Customer", 0) + stages.get("Loyal", 0) == 25
    assert stages.get("Visitor", 0) > 0  # anonymous visitors who never bought
    assert last is not None
    assert last.date() < clock.now().date()  # ends yesterday
    assert scored
    assert subscribed
    assert identifies
    assert identifies >= 25
    assert len(rfm) == 25  # every buyer scored, with RFMP and a cluster
    assert {"welcome", "cart-reminder-1", "birthday"} <= templates  # ready-made templates
    assert all(row.segment and row.cluster_name and row.p for row in rfm)
    # A second start neither reloads nor changes the keys.
    again = platform.ensure_demo(services, customers=25, progress=lambda *_: None)
    assert again == keys
    with uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == orders
