"""The Segments page and ``/v1/segments`` after two real RFM runs on the store's orders, on
SQLite and PostgreSQL: the matrix counts exactly the moves the runs made, the page shows the
API's figures, the CSV lists the segment's people, and a viewer may read it all."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from typing import Any
from urllib.parse import quote_plus

import pytest

from lealta.clock import FrozenClock
from lealta.segmentation.store import rfm_from_store
from lealta.users.service import create_user, list_audit
from tests.integration.conftest import Api

PASSWORD = "correct horse battery"
FIRST = dt.datetime(2025, 4, 1, 8, 0, tzinfo=dt.UTC)  # the frozen clock's first run
SECOND = FIRST + dt.timedelta(days=92)

# (customer, day offset from FIRST (negative: before the first run), amount)
ORDERS = [
    *[("ana", d, 120.0) for d in (-60, -30, -5, 20, 60, 85)],
    *[("ben", d, 300.0) for d in (-80, -40, -2)],  # stops buying
    ("cruz", -3, 40.0),
    ("cruz", 80, 45.0),
    ("dana", -200, 15.0),
    *[("eli", d, 60.0) for d in (-50, -20, -10, -1)],  # stops buying
    ("fay", 70, 500.0),  # new after the first run
    *[("gil", d, 25.0) for d in (-100, -90, 30, 50, 88)],
    ("hana", -15, 80.0),
]


def _post_orders(api: Api, *, after_first: bool) -> None:
    """The orders before the first run, or those between the runs."""
    batch = [
        {
            "user_id": customer,
            "id": f"{customer}-{offset}",
            "placed_at": (FIRST + dt.timedelta(days=offset)).isoformat(),
            "amount": str(amount),
            "email": f"{customer}@example.com",
        }
        for customer, offset, amount in ORDERS
        if (offset >= 0) == after_first
    ]
    answer = api.client.post("/v1/orders/batch", json={"orders": batch}, headers=api.admin)
    assert answer.status_code == 202, answer.text
    api.drain()


def _segments_by_contact(frame: Any) -> dict[str, str]:
    return {str(row.customer_id): str(row.segment) for row in frame.itertuples()}


@pytest.fixture
def two_runs(api: Api) -> dict[str, Any]:
    """Two RFM runs 92 days apart on the store's orders (the clock frozen at each run)."""
    clock = FrozenClock(FIRST)
    api.services.clock = clock
    _post_orders(api, after_first=False)
    first = _segments_by_contact(rfm_from_store(api.services, as_of=FIRST.date().isoformat()))
    clock.advance(days=92)
    _post_orders(api, after_first=True)
    second = _segments_by_contact(
        rfm_from_store(api.services, as_of=SECOND.date().isoformat(), window=365)
    )
    expected = Counter((first.get(cid), second.get(cid)) for cid in set(first) | set(second))
    return {"first": first, "second": second, "expected": expected}


def _user(api: Api, email: str, role: str) -> None:
    with api.services.uow.transaction() as session:
        create_user(session, email=email, role=role, password=PASSWORD, now=FIRST)


def _sign_in(api: Api, email: str) -> None:
    form = api.client.get("/signin?next=/segments")
    token = re.search(r'name="token" value="([^"]+)"', form.text)
    assert token, form.text
    answer = api.client.post(
        "/signin",
        data={"email": email, "password": PASSWORD, "token": token[1], "next": "/segments"},
        follow_redirects=False,
    )
    assert answer.status_code == 303


def test_the_matrix_counts_the_runs_moves_and_equals_the_api(
    api: Api, two_runs: dict[str, Any]
) -> None:
    expected = two_runs["expected"]
    assert sum(n for (a, b), n in expected.items() if a != b) >= 3  # the data moves people
    answer = api.client.get(
        f"/v1/segments/movements?from={FIRST.date()}&to={SECOND.date()}", headers=api.admin
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    got = Counter({(c["from_segment"], c["to_segment"]): c["contacts"] for c in body["cells"]})
    assert got == expected
    assert body["moved"] == sum(n for (a, b), n in expected.items() if a != b)
    _user(api, "vic@example.com", "viewer")
    _sign_in(api, "vic@example.com")
    page = api.client.get(f"/segments?from={FIRST.date()}&to={SECOND.date()}")
    assert page.status_code == 200
    for (before, after), n in expected.items():
        link = re.escape(
            f"/segments/moves?from={FIRST.date()}&amp;to={SECOND.date()}"
            f"&amp;was={quote_plus(before or '')}&amp;now={quote_plus(after or '')}"
        )
        assert re.search(rf'href="{link}"[^>]*>{n}</a>', page.text), (before, after, n)
    # one cell's link lists exactly its people
    (before, after), n = next((pair, n) for pair, n in expected.items() if pair[0] != pair[1])
    listed = api.client.get(
        "/segments/moves",
        params={"from": FIRST.date(), "to": SECOND.date(), "was": before or "", "now": after or ""},
    )
    assert listed.text.count('<th scope="row"><a href="/contacts/') == n


def test_the_page_shows_the_apis_segments_and_the_default_dates_are_the_two_runs(
    api: Api, two_runs: dict[str, Any]
) -> None:
    body = api.client.get("/v1/segments", headers=api.admin).json()
    assert body["customers"] == len(two_runs["second"])
    assert Counter(two_runs["second"].values()) == {
        s["segment"]: s["customers"] for s in body["segments"]
    }
    assert [s["customers"] for s in body["segments"]] == sorted(
        (s["customers"] for s in body["segments"]), reverse=True
    )
    _user(api, "vic@example.com", "viewer")
    _sign_in(api, "vic@example.com")
    page = api.client.get("/segments").text
    assert f'value="{FIRST.date()}"' in page
    assert f'value="{SECOND.date()}"' in page
    wrong = api.client.get("/segments?from=2025-03-01&to=someday")
    assert wrong.status_code == 400
    assert "to must be a date like 2026-10-01, not &#39;someday&#39;" in wrong.text
    for segment in body["segments"]:
        href = f"/contacts?segment={quote_plus(segment['segment'])}"
        link = re.escape(f'<th scope="row"><a href="{href}">')
        row = re.search(rf"{link}.*?</tr>", page, re.S)
        assert row, segment["segment"]
        assert f">{segment['customers']}</a>" in row[0]
        assert f"{segment['revenue']:,.2f}" in row[0]
        assert segment["definition"]
        assert segment["definition"].replace("'", "&#39;") in row[0]
    for cell in body["grid"]:
        assert f'href="/contacts?r={cell["r"]}&amp;f={cell["f"]}"' in page


def test_a_segments_csv_lists_its_people_and_the_download_is_audited(
    api: Api, two_runs: dict[str, Any]
) -> None:
    _user(api, "vic@example.com", "viewer")
    _sign_in(api, "vic@example.com")
    segment, size = Counter(two_runs["second"].values()).most_common(1)[0]
    answer = api.client.get("/segments/export", params={"segment": segment})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(rows[0]) == [
        "id", "email", "name", "r", "f", "m", "p", "code", "segment", "cluster",
        "recency_days", "orders", "revenue",
    ]  # fmt: skip
    assert len(rows) == size
    assert {r["id"] for r in rows} == {c for c, s in two_runs["second"].items() if s == segment}
    assert all(r["segment"] == segment and r["email"].endswith("@example.com") for r in rows)
    with api.services.uow.transaction() as session:
        entry = list_audit(session)[0]
    assert entry.action == "segment downloaded"
    assert api.client.get("/segments/export?segment=Nobody").status_code == 404


def test_bad_dates_name_the_field(api: Api) -> None:
    for query, field in (("from=2025-13-01&to=2025-02-01", "from"), ("from=2025-01-01", "to")):
        answer = api.client.get(f"/v1/segments/movements?{query}", headers=api.admin)
        assert answer.status_code == 422
        assert answer.json()["error"]["field"] == field
    later = api.client.get(
        "/v1/segments/movements?from=2025-03-01&to=2025-02-01", headers=api.admin
    )
    assert later.status_code == 400
    assert later.json()["error"]["field"] == "from"
    _user(api, "vic@example.com", "viewer")
    _sign_in(api, "vic@example.com")
    page = api.client.get("/segments")
    assert page.status_code == 200  # nothing scored yet: the page says what to do
    assert "No RFM yet" in page.text
    assert "lealta rfm --from-store" in page.text


def test_without_a_key_the_api_refuses(api: Api) -> None:
    assert api.client.get("/v1/segments").status_code == 401
    assert api.client.get("/v1/segments/clusters").status_code == 401
