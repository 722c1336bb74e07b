"""Ad syncs (SQLite and PostgreSQL): audience moves and ``ads`` decisions become signed webhook
rows in the outbox, once each, with the person's hashed row; the command line drives them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from lealta.channels.tables import OutboxMessage
from lealta.cli.main import app
from lealta.config import get_settings
from lealta.errors import InvalidInput
from lealta.retargeting import sync
from lealta.retargeting.normalize import sha256
from tests.factories import events
from tests.integration.conftest import Api
from tests.integration.retargeting.helpers import audience, shop

URL = "https://connector.example.com/lealta"


def moved(session: Session, number: int, contact: str, audience_id: int, entered: bool) -> None:
    """An ``Audience Entered``/``Exited`` event as a refresh writes it, a minute ago."""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    events.event(
        session,
        contact,
        "Audience Entered" if entered else "Audience Exited",
        at=at,
        properties={"audience": "x", "audience_id": audience_id},
        message_id=f"audience:{audience_id}:{number}:{contact}:{'in' if entered else 'out'}",
    )
    session.flush()


def webhooks(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.channel == "webhook").order_by(OutboxMessage.id)
    )
    return [{"template": r.template, **r.payload["body"]} for r in rows]


def push(api: Api) -> int:
    with api.services.uow.transaction() as session:
        return sync.push(session, now=dt.datetime.now(dt.UTC), region="IT")


def test_moves_and_ads_decisions_become_one_webhook_each(api: Api) -> None:
    who = shop(api)
    with api.services.uow.transaction() as session:
        number = audience(session, "Big spenders", [who["ana"], who["fay"], who["gus"]])
        other = audience(session, "Others", [])
        moved(session, 1, who["ben"], number, entered=True)  # before the sync: not replayed
        made = sync.create(
            session, audience="Big spenders", url=URL, format_="meta", now=dt.datetime.now(dt.UTC)
        )
        moved(session, 2, who["ana"], number, entered=True)
        moved(session, 2, who["gus"], number, entered=True)  # no ads consent: nothing
        moved(session, 2, who["fay"], other, entered=True)  # another audience
        moved(session, 3, who["dan"], number, entered=False)

    assert push(api) == 2
    assert push(api) == 0  # read once

    with api.services.uow.transaction() as session:
        sent = webhooks(session)
    assert [(w["change"], w["contact"], w["cause"]) for w in sent] == [
        ("add", who["ana"], "Audience Entered"),
        ("remove", who["dan"], "Audience Exited"),
    ]
    assert sent[0]["template"] == URL
    assert sent[0]["sync"] == made.id
    assert sent[0]["audience"] == "Big spenders"
    assert sent[0]["columns"] == ["email", "phone", "fn", "ln", "zip", "ct", "st", "country"]
    assert sent[0]["row"][:2] == [sha256("ana.rossi@example.com"), sha256("390212345678")]
    assert sent[1]["row"] is None  # Dan has no e-mail or phone to hash

    for contact, status in (
        (who["ana"], "denied"),
        (who["gus"], "granted"),
        (who["ben"], "granted"),
    ):
        answer = api.client.put(
            f"/v1/contacts/{contact}/consent/ads", json={"status": status}, headers=api.admin
        )
        assert answer.status_code == 200, answer.text

    assert push(api) == 2  # Ben is not a member: his grant changes nothing here
    with api.services.uow.transaction() as session:
        later = webhooks(session)[2:]
    assert [(w["change"], w["contact"], w["cause"]) for w in later] == [
        ("remove", who["ana"], "ads consent withdrawn"),
        ("add", who["gus"], "ads consent granted"),
    ]
    # a removal still carries the hashes, whatever the consent: the platform must forget them
    assert later[0]["row"][0] == sha256("ana.rossi@example.com")
    assert later[1]["row"][0] == sha256("gus@example.com")


def test_events_younger_than_the_grace_wait_for_the_next_pass(api: Api) -> None:
    who = shop(api)
    with api.services.uow.transaction() as session:
        number = audience(session, "Big spenders", [who["ana"]])
        sync.create(session, audience=str(number), url=URL, format_="google",
                    now=dt.datetime.now(dt.UTC))  # fmt: skip
        moved(session, 1, who["ana"], number, entered=True)

    with api.services.uow.transaction() as session:
        early = sync.push(session, now=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
                          region="IT")  # fmt: skip
    assert early == 0
    assert push(api) == 1
    with api.services.uow.transaction() as session:
        (sent,) = webhooks(session)
    assert sent["format"] == "google"
    assert sent["row"][:2] == [sha256("ana.rossi@example.com"), sha256("+390212345678")]


def test_bad_syncs_are_refused_naming_the_field(api: Api) -> None:
    shop(api)
    now = dt.datetime.now(dt.UTC)
    with api.services.uow.transaction() as session:
        audience(session, "Big spenders", [])
    cases = [
        ({"audience": "Nobody", "url": URL, "format_": "meta"}, "audience"),
        ({"audience": "Big spenders", "url": "ftp://x.example", "format_": "meta"}, "url"),
        ({"audience": "Big spenders", "url": "http://[::1", "format_": "meta"}, "url"),
        ({"audience": "Big spenders", "url": "https://x.example:99999/", "format_": "meta"}, "url"),
        ({"audience": "Big spenders", "url": URL, "format_": "tiktok"}, "format"),
    ]
    for given, field in cases:
        with pytest.raises(InvalidInput) as refused, api.services.uow.transaction() as session:
            sync.create(session, now=now, **given)
        assert refused.value.field == field


def test_the_command_line_adds_lists_pushes_and_removes_syncs(
    api: Api, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = shop(api)
    with api.services.uow.transaction() as session:
        number = audience(session, "Big spenders", [who["ana"]])
    monkeypatch.setenv("LEALTA_DATABASE_URL", database_url)
    monkeypatch.setenv("LEALTA_CONFIG_FILE", str(tmp_path / "absent.toml"))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        added = runner.invoke(
            app, ["ads", "sync", "add", "--audience", "Big spenders", "--url", URL]
        )
        with api.services.uow.transaction() as session:
            moved(session, 1, who["ana"], number, entered=True)
        listed = runner.invoke(app, ["ads", "sync", "list"])
        pushed = runner.invoke(app, ["ads", "sync", "push"])
        removed = runner.invoke(app, ["ads", "sync", "remove", "1"])
        again = runner.invoke(app, ["ads", "sync", "remove", "1"])
    finally:
        get_settings.cache_clear()

    assert added.exit_code == 0, added.stderr
    assert f"audience Big spenders to {URL} (meta)" in added.stdout
    assert listed.stdout.split("\t")[:3] == ["1", "Big spenders", "meta"]
    assert pushed.stdout.strip() == "1 webhook(s) queued"
    assert removed.exit_code == 0, removed.stderr
    assert again.exit_code == 2
    assert "no ad sync 1" in again.stderr


def test_the_api_adds_lists_and_stops_syncs(api: Api) -> None:
    who = shop(api)
    with api.services.uow.transaction() as session:
        number = audience(session, "Big spenders", [who["ana"]])

    made = api.client.post(
        "/v1/ads/syncs",
        json={"audience": str(number), "url": URL, "format": "google"},
        headers=api.admin,
    )
    bad = api.client.post(
        "/v1/ads/syncs", json={"audience": "Nobody", "url": URL}, headers=api.admin
    )
    listed = api.client.get("/v1/ads/syncs", headers=api.admin)
    stopped = api.client.delete(f"/v1/ads/syncs/{made.json()['id']}", headers=api.admin)
    gone = api.client.delete(f"/v1/ads/syncs/{made.json()['id']}", headers=api.admin)
    anonymous = api.client.get("/v1/ads/syncs")

    assert made.status_code == 201, made.text
    assert made.json()["audience"] == "Big spenders"
    assert made.json()["format"] == "google"
    assert (bad.status_code, bad.json()["error"]["field"]) == (400, "audience")
    assert [s["url"] for s in listed.json()] == [URL]
    assert stopped.status_code == 204
    assert gone.status_code == 404
    assert anonymous.status_code == 401
    assert api.client.get("/v1/ads/syncs", headers=api.admin).json() == []


def test_the_workers_schedule_pushes_when_due_and_not_before(api: Api) -> None:
    who = shop(api)
    with api.services.uow.transaction() as session:
        number = audience(session, "Big spenders", [who["ana"]])
        sync.create(session, audience="Big spenders", url=URL, format_="meta",
                    now=dt.datetime.now(dt.UTC))  # fmt: skip
    schedule = sync.AdSyncSchedule(api.services, every=3600)

    schedule.run_if_due()  # nothing to send yet
    with api.services.uow.transaction() as session:
        moved(session, 1, who["ana"], number, entered=True)
    schedule.run_if_due()  # not due again for an hour
    with api.services.uow.transaction() as session:
        assert webhooks(session) == []
    sync.AdSyncSchedule(api.services).run_if_due()
    with api.services.uow.transaction() as session:
        assert [w["contact"] for w in webhooks(session)] == [who["ana"]]


def other_event(session: Session, number: int, contact: str, *, age: dt.timedelta) -> None:
    at = dt.datetime.now(dt.UTC) - age
    events.event(session, contact, "Product Viewed", at=at, message_id=f"other:{number}")
    session.flush()


def test_a_pass_reads_a_bounded_window_moves_past_other_events_and_stops_at_a_young_one(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = shop(api)
    monkeypatch.setattr(sync, "SCAN", 2)
    monkeypatch.setattr(sync, "WINDOWS", 2)
    with api.services.uow.transaction() as session:
        number = audience(session, "Big spenders", [who["ana"], who["fay"]])
        made = sync.create(session, audience="Big spenders", url=URL, format_="meta",
                           now=dt.datetime.now(dt.UTC))  # fmt: skip
        start = made.events_after
        for n in range(5):
            other_event(session, n, who["ben"], age=dt.timedelta(minutes=2))
        moved(session, 1, who["ana"], number, entered=True)
        other_event(session, 9, who["ben"], age=dt.timedelta(seconds=0))  # young
        moved(session, 2, who["fay"], number, entered=True)  # old, but after the young one

    assert push(api) == 0  # 4 events read: the 5 others are not all behind yet
    assert push(api) == 1  # the fifth other, Ana's entry; then the young one stops the pass
    assert push(api) == 0
    with api.services.uow.transaction() as session:
        (row,) = sync.list_(session)
        assert row[0].events_after == start + 6
        assert [w["contact"] for w in webhooks(session)] == [who["ana"]]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    with api.services.uow.transaction() as session:
        assert sync.push(session, now=later, region="IT") == 1  # Fay, once the young one is old


def test_decisions_of_other_channels_are_read_past_not_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = shop(api)
    monkeypatch.setattr(sync, "SCAN", 1)
    monkeypatch.setattr(sync, "WINDOWS", 1)
    with api.services.uow.transaction() as session:
        audience(session, "Big spenders", [who["gus"]])
        sync.create(session, audience="Big spenders", url=URL, format_="meta",
                    now=dt.datetime.now(dt.UTC))  # fmt: skip
    for channel in ("sms", "ads"):
        answer = api.client.put(
            f"/v1/contacts/{who['gus']}/consent/{channel}",
            json={"status": "granted"},
            headers=api.admin,
        )
        assert answer.status_code == 200, answer.text

    assert push(api) == 0  # the sms decision: read and passed
    assert push(api) == 1  # the ads grant of a member
    assert push(api) == 0
