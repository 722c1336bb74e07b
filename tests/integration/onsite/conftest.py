"""Helpers of the on-site tests: templates, visitors and placements in a real database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lealta.messages.tables import MessageTemplate
from lealta.storage.unit_of_work import UnitOfWork
from tests.factories import contacts, outbox

BANNERS = {
    "vip-banner": '<a class="cta" href="https://shop.example/vip">VIP sale</a>',
    "everyone-banner": '<a href="/sale">Sale for everyone</a>',
    "champions-block": "<p>Thanks, champion</p>",
    "comeback": '<a href="https://shop.example/back">We missed you</a>',
}


def templates(uow: UnitOfWork, **extra: str) -> None:
    """Store the on-site templates of :data:`BANNERS` (and ``extra``: id → HTML)."""
    with uow.transaction() as session:
        for template_id, markup in {**BANNERS, **extra}.items():
            session.add(MessageTemplate(id=template_id, channel="onsite", body={"html": markup}))


def visitor(uow: UnitOfWork, anonymous_id: str, *tags: str, now: dt.datetime | None = None) -> str:
    """A profile known by ``anonymous_id`` with ``tags``; its id."""
    moment = now or dt.datetime.now(dt.UTC)
    with uow.transaction() as session:
        return contacts.person(session, moment, anonymous_id=anonymous_id, tags=tags).id


def message(
    uow: UnitOfWork,
    key: str,
    contact_id: str,
    *,
    template: str = "comeback",
    now: dt.datetime | None = None,
    **payload: Any,
) -> None:
    """A workflow's on-site message waiting in the outbox for ``contact_id``."""
    moment = now or dt.datetime.now(dt.UTC)
    with uow.transaction() as session:
        outbox.message(
            session,
            contact_id,
            at=moment,
            key=key,
            channel="onsite",
            template=template,
            payload=payload,
            run_id="run-1",
        )
