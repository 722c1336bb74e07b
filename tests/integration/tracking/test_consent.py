"""Consent collected by a site's banner arrives through tracking and is recorded like the
consent API records it: per channel, with source, time and proof."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from lealta.contacts.tables import Consent
from tests.integration.conftest import Api


def _consents(api: Api) -> list[Consent]:
    with api.services.uow.transaction() as session:
        return list(session.scalars(select(Consent).order_by(Consent.id)))


def _in_force(api: Api, contact_id: str) -> dict[str, tuple[str, str]]:
    answer = api.client.get(f"/v1/contacts/{contact_id}/consent", headers=api.admin)
    assert answer.status_code == 200, answer.text
    return {c: (v["status"], v["source"]) for c, v in answer.json()["current"].items()}


def _post(api: Api, kind: str, message: dict[str, Any]) -> None:
    answer = api.client.post(f"/v1/{kind}", auth=api.track_auth, json=message)
    assert answer.status_code == 200, answer.text


def test_banner_categories_and_consent_traits_become_consent_rows(api: Api) -> None:
    _post(
        api,
        "identify",
        {
            "userId": "u-1",
            "messageId": "consent-1",
            "timestamp": "2026-03-01T10:00:00Z",
            "traits": {"email": "ana@example.com", "consent": {"sms": False}},
            "context": {
                "ip": "203.0.113.9",
                "userAgent": "Mozilla/5.0",
                "page": {"url": "https://shop.example/"},
                "consent": {
                    "categoryPreferences": {
                        "Marketing Email": True,
                        "SMS": True,
                        "Analytics": False,
                    }
                },
            },
        },
    )
    api.drain()
    rows = {row.channel: row for row in _consents(api)}
    assert set(rows) == {"email", "sms"}
    assert rows["email"].status == "granted"
    assert rows["sms"].status == "denied"  # the explicit trait wins over the category
    for row in rows.values():
        assert row.source == "tracking"
        assert row.recorded_at.replace(tzinfo=dt.UTC) == dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
        assert row.proof["messageId"] == "consent-1"
        assert row.proof["ip"] == "203.0.113.9"
        assert row.proof["page"] == "https://shop.example/"
    assert rows["email"].proof["field"] == "context.consent.categoryPreferences.Marketing Email"
    assert rows["sms"].proof["field"] == "traits.consent.sms"
    contact_id = rows["email"].contact_id
    assert _in_force(api, contact_id) == {
        "email": ("granted", "tracking"),
        "sms": ("denied", "tracking"),
    }
    profile = api.client.get(f"/v1/contacts/{contact_id}", headers=api.admin).json()
    assert "consent" not in profile["attributes"]  # consent, not a trait


def test_only_changes_are_recorded_and_an_older_message_does_not_override(api: Api) -> None:
    def track(message_id: str, at: str, email: bool) -> None:
        preferences = {"categoryPreferences": {"email": email}}
        _post(
            api,
            "track",
            {
                "userId": "u-2",
                "event": "Page Viewed",
                "messageId": message_id,
                "timestamp": at,
                "context": {"consent": preferences},
            },
        )

    track("c-1", "2026-03-01T10:00:00Z", True)
    track("c-2", "2026-03-01T11:00:00Z", True)  # the same decision again: nothing new
    api.drain()
    track("c-3", "2026-03-01T12:00:00Z", False)  # withdrawn
    api.drain()
    track("c-4", "2026-03-01T09:00:00Z", True)  # late delivery of an older decision
    api.drain()
    rows = _consents(api)
    assert [(r.status, r.proof["messageId"]) for r in rows] == [
        ("granted", "c-1"),
        ("denied", "c-3"),
    ]


def test_the_category_mapping_is_a_setting(api: Api) -> None:
    api.services.settings.consent_categories = {"newsletter": ["email"], "offers": ["sms"]}
    _post(
        api,
        "track",
        {
            "userId": "u-3",
            "event": "Consent Given",
            "context": {"consent": {"categoryPreferences": {"Offers": True, "Email": True}}},
        },
    )
    api.drain()
    assert [(r.channel, r.status) for r in _consents(api)] == [("sms", "granted")]
