"""On-site placements over the API on SQLite and PostgreSQL: managing them (admin key),
filling slots, impressions and clicks (track key)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from lealta.events.tables import Event
from lealta.messages.tables import MessageTemplate
from lealta.onsite.tables import OnsitePlacement
from tests.factories import contacts, scores
from tests.factories.events import stored
from tests.integration.conftest import Api
from tests.integration.onsite.conftest import templates, visitor

PLACEMENTS = "/v1/onsite/placements"


def put(api: Api, placement_id: str, **body: Any) -> Any:
    answer = api.client.put(f"{PLACEMENTS}/{placement_id}", json=body, headers=api.admin)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def slots(api: Api, *names: str, **params: str) -> dict[str, Any]:
    answer = api.client.get(
        "/v1/onsite/slots",
        params={"slots": ",".join(names), **params},
        auth=api.track_auth,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    found: dict[str, Any] = answer.json()["slots"]
    return found


def shown(api: Api, slot: str, **params: str) -> str | None:
    """The placement ``slot`` shows to the visitor of ``params``."""
    answer = slots(api, slot, **params)[slot]
    return None if answer is None else str(answer["placement"])


@pytest.fixture
def shop(api: Api) -> Api:
    """Templates, and hero placements: for VIPs (priority 10) and for everyone (0)."""
    templates(api.services.uow)
    put(
        api, "hero-vip", slot="hero", template="vip-banner", audience={"tags": ["vip"]}, priority=10
    )
    put(api, "hero-all", slot="hero", template="everyone-banner")
    return api


def test_a_placement_is_created_replaced_read_listed_paused_and_deleted(api: Api) -> None:
    templates(api.services.uow)
    body = {"slot": "hero", "template": "vip-banner", "audience": {"tags": ["vip"]}}
    created = api.client.put(f"{PLACEMENTS}/spring", json=body, headers=api.admin)
    assert created.status_code == 201, created.text
    assert created.json()["audience"]["tags"] == ["vip"]
    with api.services.uow.transaction() as session:
        stored = session.get(OnsitePlacement, "spring")
        assert stored is not None
        assert stored.audience == {"version": 1, "tags": ["vip"]}
    assert created.json()["status"] == "active"
    replaced = api.client.put(
        f"{PLACEMENTS}/spring", json={**body, "priority": 5}, headers=api.admin
    )
    assert replaced.status_code == 200
    assert replaced.json()["priority"] == 5
    assert replaced.json()["created_at"] == created.json()["created_at"]
    put(api, "autumn", slot="footer", template="everyone-banner")

    listing = api.client.get(PLACEMENTS, headers=api.admin).json()["placements"]
    assert [p["id"] for p in listing] == ["autumn", "spring"]
    only = api.client.get(PLACEMENTS, params={"slot": "hero"}, headers=api.admin).json()
    assert [p["id"] for p in only["placements"]] == ["spring"]

    paused = api.client.post(f"{PLACEMENTS}/spring/pause", headers=api.admin)
    assert paused.json()["status"] == "paused"
    active = api.client.get(PLACEMENTS, params={"status": "active"}, headers=api.admin).json()
    assert [p["id"] for p in active["placements"]] == ["autumn"]
    assert (
        api.client.post(f"{PLACEMENTS}/spring/activate", headers=api.admin).json()["status"]
        == "active"
    )

    assert api.client.delete(f"{PLACEMENTS}/spring", headers=api.admin).status_code == 204
    assert api.client.get(f"{PLACEMENTS}/spring", headers=api.admin).status_code == 404
    assert api.client.delete(f"{PLACEMENTS}/spring", headers=api.admin).status_code == 404
    bad_id = api.client.put(f"{PLACEMENTS}/-spring", json=body, headers=api.admin)
    assert bad_id.status_code == 400
    assert bad_id.json()["error"]["field"] == "id"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"slot": "hero", "template": "nowhere"}, 400, "template"),
        ({"slot": "hero", "template": "email-only"}, 400, "template"),
        ({"slot": "bad slot", "template": "vip-banner"}, 422, "slot"),
        ({"slot": "hero", "template": "vip-banner", "audience": {"tagz": ["x"]}}, 422, None),
        (
            {
                "slot": "hero",
                "template": "vip-banner",
                "starts_at": "2025-06-02T10:00:00Z",
                "ends_at": "2025-06-01T10:00:00Z",
            },
            422,
            None,
        ),
    ],
)
def test_a_bad_placement_is_refused_naming_the_field(
    api: Api, body: dict[str, Any], status: int, field: str | None
) -> None:
    templates(api.services.uow)
    with api.services.uow.transaction() as session:
        session.add(MessageTemplate(id="email-only", channel="email", body={"html": "x"}))
    answer = api.client.put(f"{PLACEMENTS}/p1", json=body, headers=api.admin)
    assert answer.status_code == status, answer.text
    if field is not None:
        assert answer.json()["error"]["field"] == field


def test_the_track_key_fills_slots_but_cannot_manage_placements(shop: Api) -> None:
    api = shop
    bearer = {"Authorization": f"Bearer {api.track_key}"}
    assert api.client.get(PLACEMENTS, headers=bearer).status_code == 403
    assert api.client.get(PLACEMENTS, auth=api.track_auth).status_code == 401
    refused = api.client.put(
        f"{PLACEMENTS}/x", json={"slot": "hero", "template": "vip-banner"}, headers=bearer
    )
    assert refused.status_code == 403
    assert api.client.delete(f"{PLACEMENTS}/hero-all", headers=bearer).status_code == 403

    as_query = api.client.get(
        "/v1/onsite/slots", params={"slots": "hero", "writeKey": api.track_key}
    )
    assert as_query.status_code == 200
    assert api.client.get("/v1/onsite/slots", params={"slots": "hero"}).status_code == 401
    wrong = api.client.get("/v1/onsite/slots", params={"slots": "hero", "writeKey": "nope"})
    assert wrong.status_code == 401


def test_the_highest_priority_placement_the_visitor_qualifies_for_wins(shop: Api) -> None:
    api = shop
    visitor(api.services.uow, "aid-vip", "vip")
    visitor(api.services.uow, "aid-plain", "newsletter")
    assert shown(api, "hero", anonymousId="aid-vip") == "hero-vip"
    assert shown(api, "hero", anonymousId="aid-plain") == "hero-all"
    assert shown(api, "hero", anonymousId="never-seen") == "hero-all"
    assert shown(api, "hero") == "hero-all"  # no id at all

    put(api, "hero-all", slot="hero", template="everyone-banner", priority=20)
    assert shown(api, "hero", anonymousId="aid-vip") == "hero-all"


def test_a_slot_nobody_placed_anything_in_keeps_the_page_content(shop: Api) -> None:
    answer = slots(shop, "hero", "sidebar", "hero")
    assert list(answer) == ["hero", "sidebar"]
    assert answer["sidebar"] is None
    assert answer["hero"]["placement"] == "hero-all"
    assert answer["hero"]["message"] is None
    assert answer["hero"]["template"] == "everyone-banner"


def test_a_placement_for_an_rfm_segment_reaches_that_segment_only(shop: Api) -> None:
    api = shop
    put(
        api,
        "thanks",
        slot="sidebar",
        template="champions-block",
        audience={"segments": ["Champions"]},
    )
    champion = visitor(api.services.uow, "aid-champion")
    visitor(api.services.uow, "aid-unscored")
    with api.services.uow.transaction() as session:
        at = dt.datetime.now(dt.UTC)
        scores.rfm(session, champion, "Champions", at=at, f=5, m=5, frequency=9, monetary=900.0)
    answer = slots(api, "sidebar", anonymousId="aid-champion")["sidebar"]
    assert answer["html"] == "<p>Thanks, champion</p>"
    assert slots(api, "sidebar", anonymousId="aid-unscored")["sidebar"] is None
    assert slots(api, "sidebar")["sidebar"] is None


def test_placements_show_only_between_their_dates_and_while_active(shop: Api) -> None:
    api = shop
    now = dt.datetime.now(dt.UTC)
    later = (now + dt.timedelta(days=1)).isoformat()
    earlier = (now - dt.timedelta(days=1)).isoformat()
    body = {"slot": "hero", "template": "comeback", "priority": 50}
    put(api, "future", **body, starts_at=later)
    put(api, "past", **body, ends_at=earlier)
    assert shown(api, "hero") == "hero-all"
    put(api, "current", **body, starts_at=earlier, ends_at=later)
    assert shown(api, "hero") == "current"
    api.client.post(f"{PLACEMENTS}/current/pause", headers=api.admin)
    assert shown(api, "hero") == "hero-all"


def test_a_known_visitor_is_found_by_user_id_too(shop: Api) -> None:
    api = shop
    with api.services.uow.transaction() as session:
        contacts.person(session, dt.datetime.now(dt.UTC), user_id="u-1", tags=["vip"])
    visitor(api.services.uow, "someone-else")
    assert shown(api, "hero", userId="u-1") == "hero-vip"
    assert shown(api, "hero", userId="u-1", anonymousId="someone-else") == "hero-vip"
    assert shown(api, "hero", userId="unknown", anonymousId="someone-else") == "hero-all"


def test_placement_links_go_through_a_signed_redirect_that_records_the_click(shop: Api) -> None:
    api = shop
    visitor(api.services.uow, "aid-clicker", "vip")
    page = "https://shop.example/shoes/red"
    vip = slots(api, "hero", anonymousId="aid-clicker", url=page)["hero"]
    everyone = slots(api, "hero", url=page)["hero"]
    link = vip["html"].split('href="')[1].split('"')[0]
    assert link.startswith("http://127.0.0.1:8000/v1/onsite/click/")
    assert 'href="http://127.0.0.1:8000/v1/onsite/click/' in everyone["html"]  # /sale resolved

    followed = api.client.get(urlsplit(link).path, follow_redirects=False)
    assert followed.status_code == 302
    target = urlsplit(followed.headers["location"])
    assert (target.netloc, target.path) == ("shop.example", "/vip")
    assert parse_qs(target.query) == {
        "utm_source": ["lealta"],
        "utm_medium": ["onsite"],
        "utm_campaign": ["hero-vip"],
    }
    api.client.get(urlsplit(link).path, follow_redirects=False)  # a double click
    api.drain()
    clicks = events(api, "Onsite Click")
    assert len(clicks) == 1
    assert clicks[0].anonymous_id == "aid-clicker"
    assert clicks[0].properties["placement"] == "hero-vip"
    assert clicks[0].properties["slot"] == "hero"
    assert clicks[0].properties["url"] == followed.headers["location"]

    tampered = urlsplit(link).path[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    refused = api.client.get(tampered, follow_redirects=False)
    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "token"


def test_a_placement_impression_becomes_an_event_of_the_visitor(shop: Api) -> None:
    api = shop
    contact = visitor(api.services.uow, "aid-seen", "vip")
    answer = slots(api, "hero", anonymousId="aid-seen", url="https://shop.example/")["hero"]
    path = urlsplit(answer["impression_url"])
    target = f"{path.path}?{path.query}"
    body = f'{{"writeKey": "{api.track_key}", "url": "https://shop.example/"}}'
    reported = api.client.post(target, content=body, headers={"Content-Type": "text/plain"})
    assert reported.status_code == 200, reported.text
    assert reported.json() == {"recorded": True}
    api.client.post(target, content=body)  # reported twice: one impression
    api.drain()
    (seen,) = events(api, "Onsite Impression")
    assert seen.contact_id == contact
    assert seen.properties == {
        "placement": "hero-vip",
        "slot": "hero",
        "template": "vip-banner",
        "page": "https://shop.example/",
    }

    assert api.client.post(target).status_code == 401  # no key
    forged = api.client.post(
        "/v1/onsite/impressions?token=abc.def", content=body, headers={"Content-Type": "text/plain"}
    )
    assert forged.status_code == 400


def test_an_anonymous_visitor_without_an_id_is_shown_content_but_not_recorded(shop: Api) -> None:
    api = shop
    answer = slots(api, "hero")["hero"]
    path = urlsplit(answer["impression_url"])
    reported = api.client.post(f"{path.path}?{path.query}", auth=api.track_auth)
    assert reported.json() == {"recorded": False}


def test_the_script_is_served_small_and_cacheable(api: Api) -> None:
    answer = api.client.get("/onsite.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/javascript")
    assert len(answer.content) < 4096
    assert "data-lealta-slot" in answer.text
    again = api.client.get("/onsite.js", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304


def test_slot_names_are_checked(api: Api) -> None:
    for bad in ("", ",", "a b", ",".join(f"s{i}" for i in range(21))):
        answer = api.client.get("/v1/onsite/slots", params={"slots": bad}, auth=api.track_auth)
        assert answer.status_code == 400, bad
        assert answer.json()["error"]["field"] == "slots"


def events(api: Api, name: str) -> list[Event]:
    with api.services.uow.transaction() as session:
        return stored(session, name=name)
