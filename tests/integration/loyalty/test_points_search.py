"""Contact search by loyalty points balance (SQLite and PostgreSQL): ``ContactFilter``, the
console contacts filter and ``GET /v1/contacts``. The balance is the latest ledger entry's
running balance; a contact without an entry has 0."""

from __future__ import annotations

import pytest

from lealta.console.contacts_page import contacts_context
from lealta.contacts import search
from lealta.errors import InvalidInput
from lealta.loyalty import ledger, service
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import ids
from tests.integration.loyalty.points_helpers import START, track, with_points


def _write(api: Api, contact_id: str, points: int, key: str) -> None:
    with api.services.uow.transaction() as session:
        program = service.require(session).program
    ledger.write(
        api.services.uow,
        lambda s: ledger.adjust(
            s,
            contact_id,
            program,
            points=points,
            reason="test",
            key=key,
            now=api.services.clock.now(),
            actor="test",
        ),
    )


def setup(api: Api) -> dict[str, str]:
    """Ana 600 points; Ben 700 then 500 taken (200 now); Dan 50 then 50 taken (0 now, with
    entries); Cruz no entry (0)."""
    with_points(api)
    for user in ("ana", "ben", "cruz", "dan"):
        track(api, user, "Signed Up", START)
    who = ids(api, "ana", "ben", "cruz", "dan")
    _write(api, who["ana"], 600, "a1")
    _write(api, who["ben"], 700, "b1")
    _write(api, who["ben"], -500, "b2")
    _write(api, who["dan"], 50, "d1")
    _write(api, who["dan"], -50, "d2")
    return who


def found(api: Api, **wanted: object) -> set[str]:
    chosen = search.ContactFilter(**wanted)  # type: ignore[arg-type]
    with api.services.uow.transaction() as session:
        page, _next = search.search(session, chosen)
        total, more = search.count(session, chosen)
    assert (total, more) == (len(page), False)
    return {c.id for c in page}


def names(who: dict[str, str], found_ids: set[str]) -> set[str]:
    return {name for name, cid in who.items() if cid in found_ids}


@pytest.mark.parametrize("dense", [False, True], ids=["few-holders", "many-holders"])
def test_search_by_the_balance_now(api: Api, monkeypatch: pytest.MonkeyPatch, dense: bool) -> None:
    who = setup(api)
    if dense:  # the phrasing for many matches: pages and counts walk contacts testing each
        monkeypatch.setattr(search, "DENSE", 0)
        monkeypatch.setattr(search, "DENSE_COUNT", 1)
    assert names(who, found(api, points_min=500)) == {"ana"}
    assert names(who, found(api, points_min=600, points_max=600)) == {"ana"}
    assert names(who, found(api, points_min=601)) == set()
    assert names(who, found(api, points_min=100, points_max=300)) == {"ben"}
    assert names(who, found(api, points_min=700)) == set()  # Ben's past balance is not his now
    assert names(who, found(api, points_min=1)) == {"ana", "ben"}
    assert names(who, found(api, points_max=0)) == {"cruz", "dan"}
    assert names(who, found(api, points_max=200)) == {"ben", "cruz", "dan"}
    assert names(who, found(api, points_min=0)) == {"ana", "ben", "cruz", "dan"}
    assert names(who, found(api, points_min=0, points_max=599)) == {"ben", "cruz", "dan"}
    assert names(who, found(api, points_max=10, q="cruz")) == {"cruz"}
    assert names(who, found(api, points_min=1, q="cruz")) == set()


def test_a_bad_range_is_refused_naming_the_field(api: Api) -> None:
    setup(api)
    for wanted, field in (
        ({"points_min": -1}, "points_min"),
        ({"points_max": -5}, "points_max"),
        ({"points_min": 500, "points_max": 100}, "points_min"),
    ):
        with api.services.uow.transaction() as session, pytest.raises(InvalidInput) as refused:
            search.search(session, search.ContactFilter(**wanted))  # type: ignore[arg-type]
        assert refused.value.field == field


def test_the_api_searches_by_points(api: Api) -> None:
    who = setup(api)

    def listed(**params: object) -> set[str]:
        answer = api.client.get("/v1/contacts", params=params, headers=api.admin)
        assert answer.status_code == 200, answer.text
        return names(who, {c["id"] for c in answer.json()["contacts"]})

    assert listed(points_min=500) == {"ana"}
    assert listed(points_max=0) == {"cruz", "dan"}
    assert listed(points_min=100, points_max=600) == {"ana", "ben"}
    for params, status, field in (
        ({"points_min": -1}, 422, "points_min"),  # refused by the query's schema
        ({"points_max": "lots"}, 422, "points_max"),
        ({"points_min": 600, "points_max": 100}, 400, "points_min"),
    ):
        answer = api.client.get("/v1/contacts", params=params, headers=api.admin)
        assert answer.status_code == status, answer.text
        assert answer.json()["error"]["field"] == field


def test_the_console_contacts_filter_by_points(api: Api) -> None:
    who = setup(api)
    page = contacts_context(api.services, {"points_min": "100", "points_max": " 600 "})
    assert page["options"]["points"] is True
    assert [chip.label for chip in page["chips"]] == ["Points at least", "Points at most"]
    assert page["matching"] == "2 contacts"
    assert {row.id for row in page["rows"]} == {who["ana"], who["ben"]}
    for query, field in (
        ({"points_min": "1.5"}, "points_min"),
        ({"points_max": "-3"}, "points_max"),
        ({"points_min": "9", "points_max": "2"}, "points_min"),
    ):
        bad = contacts_context(api.services, query)
        assert (bad["problem_field"], bad["rows"]) == (field, [])


def test_the_contacts_page_renders_the_points_filter(api: Api) -> None:
    from tests.integration.console.test_journeys import _sign_in

    who = setup(api)
    client = _sign_in(api, "viewer")
    page = client.get("/contacts", params={"points_max": "0"})
    assert page.status_code == 200
    assert '<input id="f-points_max" name="points_max" inputmode="numeric" value="0"' in page.text
    assert '<input id="f-points_min"' in page.text
    assert who["cruz"] in page.text
    assert who["dan"] in page.text
    assert who["ana"] not in page.text
    refused = client.get("/contacts", params={"points_min": "many"})
    assert "Points at least: &#39;many&#39; is not a whole number of points" in refused.text


def test_without_points_in_the_programme_the_filter_is_not_offered(api: Api) -> None:
    page = contacts_context(api.services, {})
    assert page["options"]["points"] is False
