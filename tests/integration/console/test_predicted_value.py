"""Predicted value per RFM segment (the Segments page) and per loyalty tier (the Loyalty page's
tier table), on SQLite and PostgreSQL: before any ``clv`` run both pages say how to get it;
after one they show each group's customers, total and mean value, mean P(alive) and share at
churn risk as the saved predictions give them, and the links list exactly those people."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from urllib.parse import quote_plus

import pandas as pd
from sqlalchemy import select

from lealta.identity.service import find_contact
from lealta.loyalty import service as loyalty
from lealta.prediction.store import save_predictions
from lealta.segmentation.store import rfm_from_store
from lealta.segmentation.tables import ContactRfm
from lealta.storage.base import utcnow
from lealta.users.service import create_user
from tests.integration.conftest import Api

PASSWORD = "correct horse battery"
PROGRAM = """\
name: Value club
window_days: 365
tiers:
  - name: Member
  - name: Gold
    qualify: {orders: 3}
"""
# customer -> days ago of their orders
ORDERS = {"ana": [3, 40, 90], "ben": [5, 60, 100], "cruz": [30], "dana": [200, 300]}
# customer -> (P(alive), predicted value, churn band); dana has no prediction
PREDICTED = {"ana": (0.9, 120.0, "low"), "ben": (0.2, 30.0, "high"), "cruz": (1.0, 25.5, "new")}
ONE_PURCHASE = "n/a"


ONE_TIER = """\
name: One club
window_days: 365
tiers:
  - name: Member
"""


def _shop(api: Api, program: str = PROGRAM) -> dict[str, str]:
    """The orders, an RFM run and a loyalty review; each customer's contact id."""
    now = api.services.clock.now()
    batch = [
        {
            "user_id": who,
            "id": f"{who}-{n}",
            "placed_at": (now - dt.timedelta(days=days)).isoformat(),
            "amount": "50.00",
        }
        for who, ago in ORDERS.items()
        for n, days in enumerate(ago)
    ]
    assert api.client.post("/v1/orders/batch", json={"orders": batch}, headers=api.admin).is_success
    api.drain()
    frame = rfm_from_store(api.services)
    with api.services.uow.transaction() as session:
        loyalty.save(session, program, now=now)
        create_user(session, email="vic@example.com", role="viewer", password=PASSWORD, now=now)
    loyalty.apply_program(api.services, now=now)
    with api.services.uow.transaction() as session:
        ids = {who: find_contact(session, "user_id", who).id for who in ORDERS}  # type: ignore[union-attr]
    assert set(map(str, frame["customer_id"])) == set(ids.values())
    return ids


def _sign_in(api: Api) -> None:
    token = re.search(r'name="token" value="([^"]+)"', api.client.get("/signin").text)
    assert token
    answer = api.client.post(
        "/signin",
        data={"email": "vic@example.com", "password": PASSWORD, "token": token[1], "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303


def _listed(api: Api, href: str) -> set[str]:
    """The contact ids the console's contact list shows at ``href``."""
    page = api.client.get(unescape(href))
    assert page.status_code == 200, page.text
    return set(re.findall(r'href="/contacts/([0-9a-z]+)"', page.text))


def _predict(api: Api, ids: dict[str, str]) -> None:
    scored = pd.DataFrame(
        [
            {"customer_id": ids[who], "p_alive": p, "expected_purchases": 1.0,
             "expected_spend": 40.0, "clv": clv, "churn_risk": band}
            for who, (p, clv, band) in PREDICTED.items()
        ]
    )  # fmt: skip
    with api.services.uow.transaction() as session:
        save_predictions(session, scored, horizon_days=90, version="v1", now=utcnow())


def test_the_pages_show_predicted_value_per_segment_and_tier(api: Api) -> None:
    ids = _shop(api)
    _sign_in(api)
    before = api.client.get("/segments").text
    assert "No predicted value yet" in before
    assert "lealta clv --from-store" in before
    assert "No predicted value per tier yet" in api.client.get("/loyalty").text

    _predict(api, ids)
    with api.services.uow.transaction() as session:
        segments = dict(session.execute(select(ContactRfm.contact_id, ContactRfm.segment)).all())
    segment_of = {who: segments[cid] for who, cid in ids.items()}
    page = api.client.get("/segments").text
    assert "Predicted value per segment" in page
    assert "next 90 days" in page
    for segment in set(segment_of.values()):
        mine = [PREDICTED[w] for w, s in segment_of.items() if s == segment and w in PREDICTED]
        href = f"/contacts?segment={quote_plus(segment)}&amp;clv_min=0"
        row = re.search(rf'<th scope="row"><a href="{re.escape(href)}">.*?</tr>', page, re.S)
        if not mine:
            assert row is None or ">0</a>" in row[0]
            continue
        assert row, segment
        cells = re.findall(r'data-label="([^"]+)">(?:<a [^>]*>)?(?:<span[^>]*>)?([^<]+)<', row[0])
        total = sum(clv for _, clv, _ in mine)
        at_risk = sum(band == "high" for *_, band in mine)
        repeat = [p for p, _, band in mine if band != "new"]  # one-time buyers: P(alive) 1
        assert dict(cells) == {
            "Customers": str(len(mine)),
            "Predicted value": f"{total:,.2f}",
            "Per customer": f"{total / len(mine):,.2f}",
            "P(alive)": f"{100 * sum(repeat) / len(repeat):.1f}%" if repeat else ONE_PURCHASE,
            "At churn risk": f"{100 * at_risk / len(mine):.1f}%" if repeat else ONE_PURCHASE,
        }
        one_time = len(mine) - len(repeat)
        shown = f"{one_time} of {len(mine)} bought once</span>" if repeat else "all bought once"
        assert (shown in row[0]) == bool(one_time)
        names = [w for w in PREDICTED if segment_of[w] == segment]
        assert _listed(api, href) == {ids[w] for w in names}
        risk = f"/contacts?segment={quote_plus(segment)}&amp;churn_band=high"
        assert _listed(api, risk) == {ids[w] for w in names if PREDICTED[w][2] == "high"}

    tiers = api.client.get("/loyalty").text
    assert "Predicted value, 90 days" in tiers
    gold = re.search(r'<td class="num value" data-label="Predicted value">(.*?)</td>', tiers, re.S)
    assert gold  # Gold comes first: ana and ben, 150 in all, one of two at risk
    assert ">150.00</a>" in gold[1]
    assert "75.00 each · P(alive) 55%" in gold[1]
    assert "50% at churn risk" in gold[1]
    cells = re.findall(
        r'<td class="num value" data-label="Predicted value">(.*?)</td>', tiers, re.S
    )
    assert "P(alive) <span title=" in cells[1]  # Member: cruz, one purchase only
    assert f">{ONE_PURCHASE}</span>" in cells[1]
    assert "all bought once</span>" in cells[1]
    assert "at churn risk" not in cells[1]  # the model cannot tell for one-time buyers
    assert _listed(api, "/contacts?tier=Gold&churn_band=high") == {ids["ben"]}
    assert _listed(api, "/contacts?tier=Gold&clv_min=0") == {ids["ana"], ids["ben"]}
    bad = api.client.get("/contacts?churn_band=doomed")  # the list says what is wrong
    assert "churn_band takes one of low, medium, high, new" in unescape(bad.text)


def test_one_time_buyers_are_left_out_of_p_alive_and_counted_beside_it(api: Api) -> None:
    ids = _shop(api, ONE_TIER)
    _sign_in(api)
    _predict(api, ids)
    page = unescape(api.client.get("/loyalty").text)
    cell = re.search(r'<td class="num value" data-label="Predicted value">(.*?)</td>', page, re.S)
    assert cell  # ana 0.9, ben 0.2, cruz bought once (P(alive) 1 by the model): 55%, not 70%
    assert "P(alive) 55%" in cell[1]
    assert "1 of 3 bought once" in cell[1]
    assert "which says nothing" in page  # the note under the table, and the tooltip
    assert 'title="The model (BG/NBD) counts a customer with one purchase only' in page
