"""Audience memberships in privacy and identity (SQLite and PostgreSQL): exported with the
person, deleted on erasure and dropped from a merged-away profile, without exit events."""

from __future__ import annotations

from lealta.audiences import service
from lealta.audiences.membership import EXITED, refresh
from lealta.contacts.tables import Contact
from lealta.identity.service import merge
from lealta.privacy.erase import erase_contact
from lealta.privacy.export import export_contact
from lealta.storage.unit_of_work import UnitOfWork
from tests.integration.audiences.helpers import NOW, add_contacts, events_named, tag


def test_memberships_are_exported_erased_and_merged_away(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        ana, ben, cruz = add_contacts(session, 3)
        for cid in (ana, ben, cruz):
            tag(session, cid, "vip")
        audience = service.save(
            session, "name: VIPs\ncondition: {kind: tag, tag: vip}", now=NOW
        ).audience
        refresh(session, audience, now=NOW)
    with uow.transaction() as session:
        exported = export_contact(session, ana, now=NOW)["audiences"]
        assert [row["audience"] for row in exported] == ["VIPs"]
        erase_contact(session, ana, now=NOW)
        source, into = session.get(Contact, ben), session.get(Contact, cruz)
        assert source is not None
        assert into is not None
        merge(session, source, into=into, now=NOW)
    with uow.transaction() as session:
        audience = service.get(session, "VIPs")
        assert refresh(session, audience, now=NOW).exited == 0  # already gone
        assert [row["audience"] for row in export_contact(session, cruz, now=NOW)["audiences"]] == [
            "VIPs"
        ]
        assert events_named(session, EXITED) == []
