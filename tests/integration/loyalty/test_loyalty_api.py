"""The loyalty REST API: the programme, reviews, and a contact's loyalty for both key scopes."""

from __future__ import annotations

import datetime as dt

from lealta.clock import FrozenClock
from lealta.loyalty.program import load_program
from lealta.loyalty.visitors import identity_secret, user_hash
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import PROGRAM, ids, post_orders

YAML = {"Content-Type": "application/yaml"}


def put_program(api: Api, text: str = PROGRAM) -> dict[str, object]:
    answer = api.client.put("/v1/loyalty/program", content=text, headers=api.admin | YAML)
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_no_programme_is_a_clear_404(api: Api) -> None:
    answer = api.client.get("/v1/loyalty/program", headers=api.admin)
    assert answer.status_code == 404
    assert "no loyalty programme is in force" in answer.json()["error"]["message"]
    assert api.client.post("/v1/loyalty/assign", headers=api.admin).status_code == 404


def test_a_programme_round_trips_as_yaml_and_json_with_versions(api: Api) -> None:
    first = put_program(api)
    assert first["version"] == 1
    read = api.client.get("/v1/loyalty/program", headers=api.admin).json()
    assert read["version"] == 1
    assert load_program(read["program"]) == load_program(PROGRAM)
    changed = dict(read["program"], name="Friends 2")
    answer = api.client.put("/v1/loyalty/program", json=changed, headers=api.admin)
    assert answer.json()["version"] == 2
    read = api.client.get("/v1/loyalty/program", headers=api.admin).json()
    assert (read["version"], read["program"]["name"]) == (2, "Friends 2")


def test_a_bad_programme_is_refused_naming_the_field_and_nothing_is_saved(api: Api) -> None:
    bad = PROGRAM.replace("qualify: {orders: 2}", "qualify: {score_sum: 40}")
    answer = api.client.put("/v1/loyalty/program", content=bad, headers=api.admin | YAML)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["field"] == "tiers[Silver].qualify.score_sum"
    assert "40 is outside 3..15" in error["message"]
    answer = api.client.put("/v1/loyalty/program", content="tiers: [", headers=api.admin | YAML)
    assert answer.status_code == 400
    assert api.client.get("/v1/loyalty/program", headers=api.admin).status_code == 404


def test_the_programme_needs_an_admin_key(api: Api) -> None:
    track = {"Authorization": f"Bearer {api.track_key}"}
    assert api.client.get("/v1/loyalty/program", headers=track).status_code == 403
    answer = api.client.put("/v1/loyalty/program", content=PROGRAM, headers=track)
    assert answer.status_code == 403
    assert api.client.post("/v1/loyalty/assign", headers=track).status_code == 403
    assert api.client.get("/v1/loyalty/program", auth=api.track_auth).status_code == 401


def test_assign_then_the_shop_reads_tier_benefits_and_progress(api: Api) -> None:
    today = dt.date(2026, 6, 1)
    api.services.clock = FrozenClock(dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC))
    days = [today - dt.timedelta(days=n) for n in (30, 20, 10)]
    post_orders(
        api,
        [
            ("ana", "a1", days[0], "100"),
            ("ana", "a2", days[1], "50"),
            ("ben", "b1", days[2], "40"),
        ],
    )
    put_program(api)
    review = api.client.post("/v1/loyalty/assign", headers=api.admin)
    assert review.status_code == 200, review.text
    assert review.json()["tiers"] == {"Member": 1, "Silver": 1, "Gold": 0}
    assert review.json()["upgraded"] == 2
    who = ids(api, "ana", "ben")
    card = api.client.get(f"/v1/contacts/{who['ana']}/loyalty", headers=api.admin).json()
    assert (card["tier"], card["until"]) == ("Silver", f"{today.year + 1}-12-31")
    assert [b["code"] for b in card["benefits"]] == ["SHIP50", "SILVER5"]
    assert card["progress"] == {
        "next_tier": "Gold",
        "orders": 2,
        "spend": 350.0,
        "points": None,  # no points rule
        "words": "2 more orders or €350 to Gold before 2 May 2027",
        "before": "2027-05-02",  # her first order (2 May) leaves the 365-day window then
    }
    ben = api.client.get(f"/v1/contacts/{who['ben']}/loyalty", headers=api.admin).json()
    assert ben["tier"] == "Member"
    assert ben["progress"] == {
        "next_tier": "Silver",
        "orders": 1,
        "spend": None,
        "points": None,
        "words": "1 more order to Silver before 22 May 2027",
        "before": "2027-05-22",
    }


def test_a_track_key_reads_only_the_visitor_it_identifies(api: Api) -> None:
    post_orders(
        api,
        [("ana", "a1", dt.date(2026, 1, 5), "100"), ("ben", "b1", dt.date(2026, 1, 6), "40")],
    )
    put_program(api)
    api.client.post("/v1/loyalty/assign", headers=api.admin)
    who = ids(api, "ana", "ben")
    secret = identity_secret(api.services.settings.secret_key)
    signed = {"userId": "ana", "userHash": user_hash(secret, "ana")}
    own = api.client.get(f"/v1/contacts/{who['ana']}/loyalty", params=signed, auth=api.track_auth)
    assert own.status_code == 200
    assert own.json()["contact_id"] == who["ana"]
    for params in (
        {"userId": "ana"},  # the public write key and a guessable id prove nothing
        {"userId": "ana", "userHash": user_hash(secret, "ben")},
        {"userId": "ana", "userHash": user_hash("another secret", "ana")},
        {"userId": "ben", "userHash": user_hash(secret, "ben")},  # someone else's card
        {},
        {"anonymousId": "nobody"},
    ):
        other = api.client.get(
            f"/v1/contacts/{who['ana']}/loyalty", params=params, auth=api.track_auth
        )
        assert other.status_code == 403, params
    # the snippet's random anonymous id, once linked to her, needs no signature
    linked = {"userId": "ana", "anonymousId": "8b0f3c1e-anon-ana"}
    assert api.client.post("/v1/identify", json=linked, auth=api.track_auth).is_success
    api.drain()
    by_cookie = api.client.get(
        f"/v1/contacts/{who['ana']}/loyalty",
        params={"anonymousId": "8b0f3c1e-anon-ana"},
        auth=api.track_auth,
    )
    assert by_cookie.status_code == 200
    unsigned = api.client.get(
        f"/v1/contacts/{who['ana']}/loyalty", params={"userId": "ana"}, auth=api.track_auth
    )
    assert unsigned.json()["error"]["field"] == "userHash"
    missing = api.client.get(
        "/v1/contacts/nosuchcontact/loyalty", params=signed, auth=api.track_auth
    )
    assert missing.status_code == 403
    assert (
        api.client.get("/v1/contacts/nosuchcontact/loyalty", headers=api.admin).status_code == 404
    )


def test_templates_see_the_tier_and_its_benefit_codes(api: Api) -> None:
    api.services.clock = FrozenClock(dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC))
    today = dt.date(2026, 6, 1)
    post_orders(
        api,
        [
            ("ana", "a1", today - dt.timedelta(days=30), "100"),
            ("ana", "a2", today - dt.timedelta(days=20), "50"),
        ],
    )
    put_program(api)
    assert api.client.post("/v1/loyalty/assign", headers=api.admin).status_code == 200
    body = {
        "subject": "You are {{ loyalty.tier }}",
        "text": (
            "{% for b in loyalty.benefits %}{{ b.code }} {% endfor %}"
            "next: {{ loyalty.next_tier }}, until {{ loyalty.until }}"
        ),
    }
    who = ids(api, "ana")
    shown = api.client.post(
        "/v1/templates/tier-news/preview",
        json={"contact_id": who["ana"], "channel": "email", "body": body},
        headers=api.admin,
    )
    assert shown.status_code == 200, shown.text
    parts = shown.json()["parts"]
    assert parts["subject"] == "You are Silver"
    assert parts["text"].strip() == f"SHIP50 SILVER5 next: Gold, until {today.year + 1}-12-31"
