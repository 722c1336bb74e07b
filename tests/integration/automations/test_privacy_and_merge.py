"""Automations and privacy: exports include runs, messages and vouchers; erasure stops runs,
drops unsent messages and unused vouchers; a merge moves them to the surviving profile."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from lealta.automations import service
from lealta.automations.runner import advance_all
from lealta.automations.tables import Run
from lealta.channels.tables import OutboxMessage
from lealta.clock import FrozenClock
from lealta.contacts.tables import Contact
from lealta.identity.service import merge, resolve
from lealta.messages import service as messages
from lealta.vouchers.tables import Voucher
from tests.integration.conftest import Api

T0 = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
FLOW = """
id: gift
name: Gift
trigger: {type: manual}
steps:
  - {id: code, type: voucher, kind: amount, value: 5, currency: EUR, valid_days: 30}
  - {id: tell, type: send, channel: email, template: gift}
  - {id: later, type: wait, duration: 7d}
  - {id: again, type: send, channel: email, template: reminder}
"""


def _start(api: Api, user: str) -> str:
    api.services.clock = FrozenClock(T0)
    uow = api.services.uow
    with uow.transaction() as session:
        contact = resolve(session, {"user_id": user}, T0).id
        service.save(session, FLOW, now=T0)
        for template in ("gift", "reminder"):
            messages.save(session, template, "email", {"subject": "A gift", "text": "For you"})
        workflow = service.set_status(session, "gift", "active", now=T0)
        service.enroll(
            session,
            workflow,
            service.definition(session, "gift"),
            contact,
            entry_key="k",
            now=T0,
            trigger={"event": "Order Completed", "properties": {"email": f"{user}@example.com"}},
        )
    advance_all(api.services)
    return contact


def test_export_and_erasure_cover_automations(api: Api) -> None:
    contact = _start(api, "ana")
    exported = api.client.get(f"/v1/contacts/{contact}/export", headers=api.admin).json()
    assert [r["status"] for r in exported["workflow_runs"]] == ["waiting"]
    assert [m["template"] for m in exported["messages"]] == ["gift"]
    assert len(exported["vouchers"]) == 1
    assert api.client.delete(f"/v1/contacts/{contact}", headers=api.admin).is_success
    with api.services.uow.transaction() as session:
        run = session.scalars(select(Run)).one()
        messages = session.scalars(select(OutboxMessage)).all()
        vouchers = session.scalars(select(Voucher)).all()
    assert (run.status, run.exit_reason) == ("exited", "erased")
    assert run.trigger is None  # what started it named the person
    assert [(m.status, m.payload) for m in messages] == [("suppressed", {})]
    assert vouchers == []


def test_a_merge_moves_runs_messages_and_vouchers(api: Api) -> None:
    moved = _start(api, "phone-user")
    with api.services.uow.transaction() as session:
        older = resolve(session, {"email": "old@example.com"}, T0 - dt.timedelta(days=1))
        source = session.get(Contact, moved)
        assert source is not None
        merge(session, source, into=older, now=T0)
        survivor = older.id
    with api.services.uow.transaction() as session:
        owners = {
            session.scalars(select(Run.contact_id)).one(),
            session.scalars(select(OutboxMessage.contact_id)).one(),
            session.scalars(select(Voucher.contact_id)).one(),
        }
    assert owners == {survivor}
