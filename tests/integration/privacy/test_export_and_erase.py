"""Export and erasure through the API and the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from lealta.cli.main import app as cli
from lealta.clock import FrozenClock
from lealta.contacts.tables import Consent, Contact, ContactTag, Identifier, ListMembership
from lealta.events.tables import Event
from lealta.identity.service import merge
from lealta.lifecycle.tables import StageChange
from lealta.loyalty.tables import ContactTier, TierChange
from lealta.orders.tables import Order
from lealta.scoring.tables import ScoreChange
from lealta.segmentation.tables import ContactRfm
from tests.factories import scores
from tests.integration.conftest import Api
from tests.integration.contacts.helpers import create, track

T0 = dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC)


@pytest.fixture
def ana(api: Api) -> str:
    """A contact with a bit of everything: identifiers, attributes, a tag, a list, consent with
    proof, tracked events with an order, stages, scores, an RFM row and a loyalty tier with
    its history."""
    api.services.clock = FrozenClock(T0)
    api.client.post("/v1/lists", headers=api.admin, json={"slug": "news", "name": "News"})
    contact = create(
        api,
        identifiers={"email": "ana@example.com", "user_id": "u-1"},
        attributes={"first_name": "Ana", "city": "Lisbon"},
        tags=["vip"],
        lists=["news"],
    )
    contact_id = str(contact["id"])
    api.client.put(
        f"/v1/contacts/{contact_id}/consent/email",
        headers=api.admin,
        json={"status": "granted", "source": "form", "proof": {"ip": "203.0.113.7"}},
    )
    track(
        api,
        {
            "type": "page",
            "userId": "u-1",
            "anonymousId": "browser-1",
            "properties": {"url": "https://shop.example/pricing"},
            "context": {"ip": "203.0.113.7", "userAgent": "Firefox"},
            "timestamp": (T0 + dt.timedelta(hours=1)).isoformat(),
            "messageId": "m-page",
        },
        {
            "type": "track",
            "userId": "u-1",
            "event": "Order Completed",
            "properties": {"order_id": "1001", "total": 49.9, "currency": "EUR"},
            "timestamp": (T0 + dt.timedelta(hours=2)).isoformat(),
            "messageId": "m-order",
        },
    )
    with api.services.uow.transaction() as session:
        scores.rfm(session, contact_id, "New Customers", at=T0, f=1, m=2, monetary=49.9)
        session.add(
            ContactTier(
                contact_id=contact_id,
                tier="Silver",
                tier_rank=2,
                since=dt.date(2025, 3, 1),
                until=dt.date(2026, 12, 31),
                falling_since=None,
                score_sum=8,
                qualified_by="at least 2 orders in 365 days",
                program_version=1,
                computed_at=T0,
            )
        )
        session.add_all(
            TierChange(
                contact_id=contact_id,
                from_tier=before,
                to_tier=after,
                changed_at=T0 + dt.timedelta(days=days),
                reason=reason,
                program_version=1,
            )
            for before, after, days, reason in (
                (None, "Member", 0, "first order"),
                ("Member", "Silver", 1, "at least 2 orders in 365 days"),
            )
        )
    return contact_id


def test_the_export_holds_everything_and_downloads_as_a_file(api: Api, ana: str) -> None:
    answer = api.client.get(f"/v1/contacts/{ana}/export", headers=api.admin)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert (
        answer.headers["content-disposition"] == f'attachment; filename="lealta-contact-{ana}.json"'
    )
    document = answer.json()
    assert document["format"] == "lealta.contact-export/1"
    assert document["contact"]["id"] == ana
    assert document["contact"]["lifecycle_stage"] == "Customer"
    assert document["attributes"] == {"first_name": "Ana", "city": "Lisbon"}
    assert sorted((i["kind"], i["value"]) for i in document["identifiers"]) == [
        ("anonymous_id", "browser-1"),
        ("email", "ana@example.com"),
        ("user_id", "u-1"),
    ]
    assert [t["tag"] for t in document["tags"]] == ["vip"]
    assert [(m["slug"], m["status"]) for m in document["lists"]] == [("news", "subscribed")]
    assert [(c["channel"], c["status"], c["proof"]) for c in document["consents"]] == [
        ("email", "granted", {"ip": "203.0.113.7"})
    ]
    names = [(e["type"], e["name"]) for e in document["events"]]
    assert ("page", None) in names
    assert ("track", "Order Completed") in names
    page = next(e for e in document["events"] if e["message_id"] == "m-page")
    assert page["context"]["ip"] == "203.0.113.7"
    assert page["anonymous_id"] == "browser-1"
    (order,) = document["orders"]
    assert (order["external_id"], order["amount"], order["currency"]) == ("1001", "49.90", "EUR")
    assert order["placed_at"] == "2025-03-01T11:00:00+00:00"
    assert [s["to_stage"] for s in document["stage_history"]] == ["Prospect", "Visitor", "Customer"]
    assert {s["rule_id"] for s in document["score_history"]} == {"pricing-page", "page-view"}
    assert document["rfm"]["segment"] == "New Customers"
    assert document["loyalty_tier"] == {
        "tier": "Silver",
        "since": "2025-03-01",
        "until": "2026-12-31",
        "falling_since": None,
        "score_sum": 8,
        "qualified_by": "at least 2 orders in 365 days",
        "program_version": 1,
        "computed_at": T0.isoformat(),
    }
    assert [
        (h["from_tier"], h["to_tier"], h["changed_at"]) for h in document["loyalty_tier_history"]
    ] == [
        (None, "Member", T0.isoformat()),
        ("Member", "Silver", (T0 + dt.timedelta(days=1)).isoformat()),
    ]
    assert document["merged_profiles"] == []


def test_erasure_deletes_identifiers_anonymises_events_and_is_recorded(api: Api, ana: str) -> None:
    erased_at = T0 + dt.timedelta(days=30)
    api.services.clock = FrozenClock(erased_at)
    answer = api.client.delete(f"/v1/contacts/{ana}", headers=api.admin)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["contact_id"] == ana
    assert report["identifiers"] == 3
    assert (report["tags"], report["list_memberships"]) == (1, 1)
    assert report["orders_kept"] == 1
    assert (report["contacts"], report["consents_kept"]) == (1, 2)
    assert report["score_changes"] > 0
    with api.services.uow.transaction() as session:
        gone = (Identifier, ContactTag, ListMembership, ContactRfm, ScoreChange)
        for table in (*gone, ContactTier, TierChange):
            assert session.scalars(select(table).where(table.contact_id == ana)).all() == []
        contact = session.get(Contact, ana)
        assert contact is not None
        assert contact.erased_at is not None
        assert (contact.attributes, contact.lifecycle_stage, contact.score) == ({}, None, 0)
        events = session.scalars(select(Event).where(Event.contact_id == ana)).all()
        kept = [e for e in events if e.name != "Contact Erased"]
        assert {(e.type, e.name) for e in kept} >= {("page", None), ("track", "Order Completed")}
        assert report["events_anonymised"] == len(kept)
        for event in kept:
            assert (event.anonymous_id, event.user_id) == (None, None)
            assert (event.properties, event.context) == ({}, {})
        (record,) = [e for e in events if e.name == "Contact Erased"]
        assert record.message_id == f"erase:{ana}"
        assert record.properties == {"erased_at": erased_at.isoformat()}
        (order,) = session.scalars(select(Order).where(Order.contact_id == ana))
        assert str(order.amount) == "49.90"
        consents = session.scalars(
            select(Consent).where(Consent.contact_id == ana).order_by(Consent.id)
        ).all()
        assert [(c.status, c.source, c.proof) for c in consents] == [
            ("granted", "form", {}),
            ("denied", "erasure", {}),
        ]
        stages = session.scalars(select(StageChange).where(StageChange.contact_id == ana)).all()
        assert stages
        assert all(s.cause is None for s in stages)


def test_an_erased_contact_is_gone_and_its_email_can_start_again(api: Api, ana: str) -> None:
    assert api.client.post(f"/v1/contacts/{ana}/erase", headers=api.admin).status_code == 200
    for method, path in [
        ("GET", f"/v1/contacts/{ana}"),
        ("GET", f"/v1/contacts/{ana}/timeline"),
        ("GET", f"/v1/contacts/{ana}/export"),
        ("PATCH", f"/v1/contacts/{ana}"),
        ("PUT", f"/v1/contacts/{ana}/tags/x"),
        ("DELETE", f"/v1/contacts/{ana}"),
    ]:
        answer = api.client.request(method, path, headers=api.admin, json={})
        assert answer.status_code == 410, (method, path, answer.text)
        assert answer.json()["error"]["code"] == "gone"
        assert "erased" in answer.json()["error"]["message"]
    again = create(api, identifiers={"email": "ana@example.com"})
    assert again["id"] != ana
    assert again["attributes"] == {}
    track(api, {"type": "track", "userId": "u-1", "event": "Came Back", "messageId": "m-back"})
    with api.services.uow.transaction() as session:
        back = session.scalars(select(Event).where(Event.message_id == "m-back")).one()
        assert back.contact_id not in (ana, None)


def test_erasing_a_survivor_erases_the_profiles_merged_into_it(api: Api) -> None:
    old = create(api, identifiers={"email": "ana@example.com"}, tags=["a"])
    new = create(api, identifiers={"user_id": "u-1"}, tags=["b"], consent={"sms": "granted"})
    with api.services.uow.transaction() as session:
        source, into = session.get(Contact, new["id"]), session.get(Contact, old["id"])
        assert source is not None
        assert into is not None
        merge(session, source, into=into, now=dt.datetime.now(dt.UTC))
        # loyalty rows still on the merged profile (merges from before they dropped them)
        session.add(
            ContactTier(
                contact_id=new["id"], tier="Gold", tier_rank=3, since=dt.date(2025, 3, 1),
                until=None, falling_since=None, score_sum=None, qualified_by="4 orders",
                program_version=1,
            )
        )  # fmt: skip
        session.add(
            TierChange(contact_id=new["id"], to_tier="Gold", reason="4 orders", program_version=1)
        )
    exported = api.client.get(f"/v1/contacts/{new['id']}/export", headers=api.admin).json()
    assert exported["contact"]["merged_ids"] == [new["id"]]
    assert sorted(t["tag"] for t in exported["tags"]) == ["a", "b"]
    assert exported["loyalty_tier"]["tier"] == "Gold"
    assert [h["to_tier"] for h in exported["loyalty_tier_history"]] == ["Gold"]
    report = api.client.delete(f"/v1/contacts/{new['id']}", headers=api.admin).json()
    assert (report["contact_id"], report["contacts"], report["tags"]) == (old["id"], 2, 2)
    with api.services.uow.transaction() as session:
        merged = session.get(Contact, new["id"])
        assert merged is not None
        assert merged.erased_at is not None
        assert session.scalars(select(Identifier)).all() == []
        assert session.scalars(select(ContactTier)).all() == []
        assert session.scalars(select(TierChange)).all() == []
        # The merge moved the SMS consent to the survivor; the erasure withdrew it there.
        (sms,) = session.scalars(
            select(Consent).where(Consent.contact_id == old["id"], Consent.status == "denied")
        )
        assert sms.source == "erasure"


def test_the_cli_exports_and_erases(
    api: Api, ana: str, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from lealta.config import get_settings

    monkeypatch.setenv("LEALTA_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        helped = runner.invoke(cli, ["contacts", "erase", "--help"])
        assert helped.exit_code == 0
        assert "--yes" in helped.output
        exported = runner.invoke(cli, ["contacts", "export", ana])
        assert exported.exit_code == 0, exported.output
        assert orjson.loads(exported.stdout)["contact"]["id"] == ana
        target = tmp_path / "ana.json"
        written = runner.invoke(cli, ["contacts", "export", ana, "--output", str(target)])
        assert written.exit_code == 0, written.output
        assert orjson.loads(target.read_bytes())["attributes"]["city"] == "Lisbon"
        declined = runner.invoke(cli, ["contacts", "erase", ana], input="n\n")
        assert declined.exit_code == 1
        assert api.client.get(f"/v1/contacts/{ana}", headers=api.admin).status_code == 200
        erased = runner.invoke(cli, ["contacts", "erase", ana, "--yes"])
        assert erased.exit_code == 0, erased.output
        assert f"erased {ana}: 3 identifier(s)" in erased.stdout
        assert api.client.get(f"/v1/contacts/{ana}", headers=api.admin).status_code == 410
        twice = runner.invoke(cli, ["contacts", "erase", ana, "--yes"])
        assert twice.exit_code == 2
        assert "was erased" in twice.output
        missing = runner.invoke(cli, ["contacts", "export", "nope"])
        assert missing.exit_code == 2
    finally:
        get_settings.cache_clear()
