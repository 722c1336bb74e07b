"""The search box and the list's newer filters, through ``GET /v1/contacts`` on SQLite and
PostgreSQL: names (kept in step with attributes), phones in any spelling, ids, clusters, score
ranges and last seen."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lealta.contacts import search
from lealta.contacts.tables import Contact
from lealta.storage.base import utcnow
from tests.factories import scores
from tests.integration.conftest import Api
from tests.integration.contacts.helpers import create, track


def _emails(api: Api, **params: Any) -> list[str]:
    answer = api.client.get("/v1/contacts", headers=api.admin, params=params)
    assert answer.status_code == 200, answer.text
    return sorted(c["identifiers"]["email"][0] for c in answer.json()["contacts"])


@pytest.fixture
def people(api: Api) -> dict[str, str]:
    now = utcnow()  # the app runs on the system clock; every date here is relative to it
    made = {
        "marta": create(
            api,
            identifiers={"email": "m.g@shop.example", "phone": "+34 600 123 456"},
            attributes={"first_name": "Marta", "last_name": "García"},
        ),
        "jose": create(
            api,
            identifiers={"email": "jose@mail.example", "user_id": "u-77"},
            attributes={"first_name": "José", "last_name": "Martín"},
        ),
        "ana": create(api, identifiers={"email": "ana@shop.example"}),
    }
    seen = {"marta": now - dt.timedelta(days=2), "jose": now - dt.timedelta(days=40)}
    with api.services.uow.transaction() as session:
        for who, person in made.items():
            contact = session.get(Contact, person["id"])
            assert contact is not None
            contact.score = {"marta": 70.0, "jose": 20.0, "ana": 45.0}[who]
            contact.last_seen_at = seen.get(who)
            contact.created_at = now - dt.timedelta(days=100)
        for who, cluster in (("marta", 2), ("jose", 1)):
            scores.rfm(
                session, made[who]["id"], "Loyal", at=now, r=4, f=3, m=3, frequency=2,
                monetary=90.0, cluster=cluster, cluster_name=f"group {cluster}",
            )  # fmt: skip
    return {who: person["id"] for who, person in made.items()}


def test_names_match_in_part_in_any_case_without_accents(api: Api, people: dict[str, str]) -> None:
    assert _emails(api, q="garcia") == ["m.g@shop.example"]
    assert _emails(api, q="JOSÉ mar") == ["jose@mail.example"]
    assert _emails(api, q="mart") == ["jose@mail.example", "m.g@shop.example"]  # Martín, Marta
    assert _emails(api, q="shop.example") == ["ana@shop.example", "m.g@shop.example"]
    assert _emails(api, q="nobody") == []


def test_a_changed_name_is_found_by_its_new_spelling(api: Api, people: dict[str, str]) -> None:
    patched = api.client.patch(
        f"/v1/contacts/{people['ana']}",
        headers=api.admin,
        json={"attributes": {"first_name": "Anaïs", "last_name": "Dupont"}},
    )
    assert patched.status_code == 200, patched.text
    assert _emails(api, q="anais dup") == ["ana@shop.example"]
    track(
        api,
        {"type": "identify", "userId": "u-77", "traits": {"first_name": "Pepe"}},
    )
    assert _emails(api, q="pepe martin") == ["jose@mail.example"]
    assert _emails(api, q="josé") == []  # the old first name (the e-mail still says jose)


def test_phones_ids_and_user_ids_are_found_exactly(api: Api, people: dict[str, str]) -> None:
    assert _emails(api, q="600 12 34 56") == ["m.g@shop.example"]  # national, other spacing
    assert _emails(api, q="+34600123456") == ["m.g@shop.example"]
    assert _emails(api, q=people["ana"]) == ["ana@shop.example"]
    assert _emails(api, q=people["ana"].upper()) == ["ana@shop.example"]
    assert _emails(api, q="u-77") == ["jose@mail.example"]
    assert _emails(api, q="600 999 999") == []


def test_cluster_score_range_and_last_seen(api: Api, people: dict[str, str]) -> None:
    assert _emails(api, cluster=2) == ["m.g@shop.example"]
    assert _emails(api, score_min=40, score_max=70) == ["ana@shop.example", "m.g@shop.example"]
    assert _emails(api, seen_within_days=7) == ["m.g@shop.example"]
    # not seen for 30 days: seen 40 days ago, and never seen (created 100 days ago)
    assert _emails(api, unseen_for_days=30) == ["ana@shop.example", "jose@mail.example"]
    refused = api.client.get("/v1/contacts", headers=api.admin, params={"unseen_for_days": 0})
    assert refused.status_code in (400, 422)
    assert "unseen_for_days" in refused.text


def test_counting_stops_past_the_cap(api: Api, people: dict[str, str]) -> None:
    with api.services.uow.transaction() as session:
        assert search.count(session, search.ContactFilter()) == (3, False)
        assert search.count(session, search.ContactFilter(), cap=2) == (2, True)
        assert search.count(session, search.ContactFilter(q="garcia")) == (1, False)


def test_a_whole_address_finds_that_person_and_a_part_finds_everyone_sharing_it(
    api: Api, people: dict[str, str]
) -> None:
    create(api, identifiers={"email": "diana@shop.example"})
    assert _emails(api, q="ana@shop.example") == ["ana@shop.example"]
    assert _emails(api, q=" ANA@Shop.Example ") == ["ana@shop.example"]
    assert _emails(api, q="ana@shop") == ["ana@shop.example", "diana@shop.example"]
    assert _emails(api, q="nobody@shop.example") == []


@pytest.mark.parametrize("dense", [0, 1_000_000], ids=["exists", "in"])
def test_filters_on_other_tables_find_the_same_people_however_they_are_phrased(
    api: Api, people: dict[str, str], monkeypatch: pytest.MonkeyPatch, dense: int
) -> None:
    # Broad filters read contacts in list order and probe each (EXISTS), narrow ones look
    # their few matches up (IN): the answer is the same either way, and so is the count.
    monkeypatch.setattr(search, "DENSE", dense)
    for who in ("marta", "ana"):
        answer = api.client.put(f"/v1/contacts/{people[who]}/tags/vip", headers=api.admin)
        assert answer.status_code < 300, answer.text
    assert _emails(api, tag="vip") == ["ana@shop.example", "m.g@shop.example"]
    assert _emails(api, segment="Loyal", cluster=2) == ["m.g@shop.example"]
    assert _emails(api, tag="vip", segment="Loyal") == ["m.g@shop.example"]
    with api.services.uow.transaction() as session:
        assert search.count(session, search.ContactFilter(tag="vip")) == (2, False)


@pytest.mark.parametrize("dense", [0, 1_000_000], ids=["walked", "looked-up"])
def test_a_part_of_a_name_or_address_finds_the_same_people_however_common_it_is(
    api: Api, people: dict[str, str], monkeypatch: pytest.MonkeyPatch, dense: int
) -> None:
    monkeypatch.setattr(search, "DENSE", dense)
    assert _emails(api, q="mart") == ["jose@mail.example", "m.g@shop.example"]
    assert _emails(api, q="shop.example") == ["ana@shop.example", "m.g@shop.example"]
    assert _emails(api, q="mart", cluster=1) == ["jose@mail.example"]
    assert _emails(api, q="zzzq") == []
    monkeypatch.setattr(search, "TEXT_COUNT_CAP", 1)
    with api.services.uow.transaction() as session:
        counted = search.count(session, search.ContactFilter(q="mart"))
    assert counted == ((1, True) if dense == 0 else (2, False))
