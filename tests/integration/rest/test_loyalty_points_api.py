"""REST for loyalty points on SQLite and PostgreSQL: balance and ledger pages, adjustments and
redemptions (admin key; 4xx naming the field), the liability report, the sweep on demand, and
the points on the shop's loyalty card for a track key's own visitor."""

from __future__ import annotations

import datetime as dt

from lealta.loyalty.visitors import identity_secret, user_hash
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import ids
from tests.integration.loyalty.points_helpers import START, order, with_points

DAY = dt.timedelta(days=1)


def _swept(api: Api) -> dict[str, int]:
    answer = api.client.post("/v1/loyalty/points/sweep", headers=api.admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_balance_history_adjust_redeem_and_liability(api: Api) -> None:
    with_points(api)
    order(api, "ana", "a-1", START - DAY, "700")
    cid = ids(api, "ana")["ana"]
    assert _swept(api)["earned"] == 700
    base = f"/v1/contacts/{cid}/loyalty/points"

    held = api.client.get(base, headers=api.admin).json()
    expiry = (START + 90 * DAY).date().isoformat()
    assert held == {
        "contact_id": cid,
        "balance": 700,
        "value": "7.00",
        "currency": "EUR",
        "expiring": [],  # 90 days away: beyond the 30 shown
    }
    added = api.client.post(
        f"{base}/adjust",
        json={"points": 25, "reason": "late parcel", "key": "ticket-9"},
        headers=api.admin,
    )
    assert added.status_code == 200, added.text
    assert added.json()["actor"].startswith("key:")
    assert added.json()["expires_on"] == expiry

    paid = api.client.post(
        f"{base}/redeem", json={"option": "EUR5", "key": "cart-1"}, headers=api.admin
    )
    assert paid.status_code == 200, paid.text
    redemption = paid.json()
    assert redemption["entry"]["points"] == -500
    assert redemption["entry"]["balance"] == 225
    assert redemption["voucher"]["value"] == "5.00"
    assert redemption["voucher"]["code"] == redemption["entry"]["voucher_code"]
    again = api.client.post(
        f"{base}/redeem", json={"option": "eur5", "key": "cart-1"}, headers=api.admin
    )
    assert again.json()["voucher"]["code"] == redemption["voucher"]["code"]

    short = api.client.post(
        f"{base}/redeem", json={"option": "EUR5", "key": "cart-2"}, headers=api.admin
    )
    assert short.status_code == 409
    assert "the balance is 225, 500 are needed" in short.json()["error"]["message"]

    first = api.client.get(f"{base}/history", params={"limit": 2}, headers=api.admin).json()
    assert [e["kind"] for e in first["entries"]] == ["redeem", "adjust"]
    assert first["next_before"] == 2
    rest = api.client.get(
        f"{base}/history", params={"limit": 2, "before": 2}, headers=api.admin
    ).json()
    assert [(e["seq"], e["kind"], e["order_id"]) for e in rest["entries"]] == [(1, "earn", "a-1")]
    assert rest["next_before"] is None

    report = api.client.get("/v1/loyalty/points/liability", headers=api.admin).json()
    assert (report["points"], report["value"], report["holders"]) == (225, "2.25", 1)
    assert (report["earned"], report["redeemed"], report["adjusted"]) == (700, 500, 25)


def test_bad_input_is_refused_naming_the_field(api: Api) -> None:
    with_points(api)
    order(api, "ben", "b-1", START - DAY, "50")
    cid = ids(api, "ben")["ben"]
    _swept(api)
    base = f"/v1/contacts/{cid}/loyalty/points"
    cases = [
        ("adjust", {"points": 0, "reason": "x"}, 400, "points"),
        ("adjust", {"points": 5, "reason": ""}, 422, "reason"),  # the request's shape: 422
        ("adjust", {"points": "many", "reason": "x"}, 422, "points"),
        ("adjust", {"points": 5_000_000, "reason": "x"}, 422, "points"),
        ("adjust", {"points": -51, "reason": "too much"}, 409, None),
        ("redeem", {"option": "EUR500", "key": "k"}, 400, "option"),
        ("redeem", {"option": "EUR5"}, 422, "key"),
        ("redeem", {"option": "EUR5", "key": "x" * 201}, 422, "key"),
        ("redeem", {"option": "EUR5", "key": "k", "extra": 1}, 422, "extra"),
    ]
    for path, body, status, field in cases:
        answer = api.client.post(f"{base}/{path}", json=body, headers=api.admin)
        assert answer.status_code == status, (body, answer.text)
        if field is not None:
            assert field in (answer.json()["error"].get("field") or ""), (body, answer.text)
    bad_page = api.client.get(f"{base}/history", params={"limit": 0}, headers=api.admin)
    assert bad_page.status_code == 422
    assert "limit" in bad_page.json()["error"]["field"]
    missing = api.client.get("/v1/contacts/no-such-contact/loyalty/points", headers=api.admin)
    assert missing.status_code == 404


def test_points_need_an_admin_key_and_a_programme_with_points(api: Api) -> None:
    order(api, "cruz", "c-1", START - DAY, "50")
    cid = ids(api, "cruz")["cruz"]
    track = {"Authorization": f"Bearer {api.track_key}"}
    for method, path in [
        ("GET", f"/v1/contacts/{cid}/loyalty/points"),
        ("GET", f"/v1/contacts/{cid}/loyalty/points/history"),
        ("POST", f"/v1/contacts/{cid}/loyalty/points/adjust"),
        ("POST", f"/v1/contacts/{cid}/loyalty/points/redeem"),
        ("GET", "/v1/loyalty/points/liability"),
        ("POST", "/v1/loyalty/points/sweep"),
    ]:
        assert api.client.request(method, path).status_code == 401, path
        assert api.client.request(method, path, headers=track).status_code == 403, path
    assert api.client.get("/v1/loyalty/points/liability", headers=api.admin).status_code == 404
    with_points(api, "name: Plain\ntiers: [{name: Member}]\n")
    answer = api.client.get("/v1/loyalty/points/liability", headers=api.admin)
    assert answer.status_code == 404
    assert "no points" in answer.json()["error"]["message"]


def test_the_shop_card_shows_the_visitor_their_points_and_what_expires(api: Api) -> None:
    clock = with_points(api)
    order(api, "dana", "d-1", START - DAY, "120")
    who = ids(api, "dana")
    _swept(api)
    clock.advance(days=80)  # ten days before the 120 points expire
    secret = identity_secret(api.services.settings.secret_key)
    signed = {"userId": "dana", "userHash": user_hash(secret, "dana")}
    card = api.client.get(f"/v1/contacts/{who['dana']}/loyalty", params=signed, auth=api.track_auth)
    assert card.status_code == 200, card.text
    points = card.json()["points"]
    expiry = (START + 90 * DAY).date().isoformat()
    assert points["balance"] == 120
    assert points["expiring"] == [{"expires_on": expiry, "points": 120}]
    admin = api.client.get(f"/v1/contacts/{who['dana']}/loyalty", headers=api.admin).json()
    assert admin["points"] == points
