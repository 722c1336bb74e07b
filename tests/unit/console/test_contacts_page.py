"""The contact list's view model: the query string read into a search, with each bad value
named; chips that remove one filter each; the count in words."""

from __future__ import annotations

import datetime as dt

import pytest

from lealta.console.contacts_page import chips, matching_text, wanted_from
from lealta.contacts.names import fold, search_name
from lealta.errors import InvalidInput

NOW = dt.datetime(2030, 3, 10, 15, 0, tzinfo=dt.UTC)  # an injected "now", never the real clock


def test_every_filter_is_read_from_the_query_string() -> None:
    wanted = wanted_from(
        {
            "q": " Marta ",
            "cluster": "3",
            "score_min": "10",
            "score_max": "55.5",
            "seen_within": "30",
            "unseen_for": "90",
            "attribute": "city",
            "value": "Lisbon",
            "tag": "vip",
            "list": "news",
        },
        now=NOW,
    )
    assert wanted.q == "Marta"
    assert (wanted.cluster, wanted.score_min, wanted.score_max) == (3, 10.0, 55.5)
    assert wanted.seen_after == NOW - dt.timedelta(days=30)
    assert wanted.unseen_since == NOW - dt.timedelta(days=90)
    assert wanted.attributes == (("city", "Lisbon"),)
    assert (wanted.tag, wanted.list) == ("vip", "news")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"score_min": "ten"}, "score_min"),
        ({"score_max": "nan"}, "score_max"),
        ({"score_min": "50", "score_max": "10"}, "score_min"),
        ({"seen_within": "0"}, "seen_within"),
        ({"unseen_for": "a week"}, "unseen_for"),
        ({"cluster": "-1"}, "cluster"),
        ({"value": "Lisbon"}, "attribute"),
        ({"attribute": "no spaces allowed", "value": "x"}, "attribute"),
    ],
)
def test_a_bad_value_names_its_field(query: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as problem:
        wanted_from(query, now=NOW)
    assert problem.value.field == field


def test_each_chip_removes_its_own_filter_and_keeps_the_others() -> None:
    chosen = {"segment": "Champions", "cluster": "2", "attribute": "city", "value": "Porto"}
    found = {c.name: c for c in chips(chosen, {2: "big spenders"})}
    assert found["cluster"].value == "big spenders"
    assert found["segment"].remove_href == "/contacts?cluster=2&attribute=city&value=Porto"
    assert found["attribute"].value == "city = Porto"
    assert found["attribute"].remove_href == "/contacts?segment=Champions&cluster=2"
    assert chips({"tag": "vip"}, {})[0].remove_href == "/contacts"


def test_the_count_says_more_than_the_cap_instead_of_counting_everyone() -> None:
    assert matching_text(1, False) == "1 contact"
    assert matching_text(2345, False) == "2,345 contacts"
    assert matching_text(10_000, True) == "More than 10,000 contacts"


def test_names_are_folded_for_search() -> None:
    assert search_name({"first_name": "  José ", "last_name": "GARCÍA"}) == "jose garcia"
    assert search_name({"name": "Zoë  Ångström"}) == "zoe angstrom"
    assert search_name({"city": "Lisbon"}) is None
    assert fold("Straße") == "strasse"
