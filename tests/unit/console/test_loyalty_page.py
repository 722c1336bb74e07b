"""The Loyalty page's view model from report rows: tiers highest first, a tier the programme no
longer has still shown, other currencies beside the programme's, matrix cells linked to their
people. Pure."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

from lealta.console.loyalty_page import (
    _matrix_view,
    _revenue_view,
    _vouchers_view,
    members_link,
    people_link,
)
from lealta.loyalty.program import load_program
from lealta.loyalty.reports import TierRevenue, TierVouchers
from lealta.segmentation.movements import Movements

PROGRAM = load_program(
    """
name: Club
tiers:
  - name: Member
  - name: Silver
    qualify: {orders: 2}
  - name: Gold
    qualify: {orders: 4}
"""
)


def test_revenue_rows_follow_the_tiers_with_no_tier_and_old_tiers_after() -> None:
    rows = [
        TierRevenue("Member", "EUR", 3, 3, 90.0),
        TierRevenue(None, "EUR", 1, 1, 10.0),
        TierRevenue("Gold", "EUR", 1, 4, 400.0),
        TierRevenue("Gold", "USD", 1, 1, 50.0),
        TierRevenue("Bronze", "EUR", 1, 2, 20.0),  # a tier of an earlier version
    ]
    shown = _revenue_view(PROGRAM, rows)
    assert [r["tier"] for r in shown] == ["Gold", "Silver", "Member", "No tier", "Bronze"]
    gold = shown[0]
    assert (gold["customers"], gold["orders"], gold["revenue"]) == (2, 5, 400.0)
    assert gold["other"] == [("USD", 50.0)]
    assert gold["average"] == 80.0
    assert shown[1]["average"] is None  # Silver: no order
    assert shown[3]["href"] == "/loyalty/people?tier="
    assert gold["href"] == "/contacts?tier=Gold"  # the contacts list, filtered by tier
    assert shown[4]["href"] == "/contacts?tier=Bronze"


def test_vouchers_list_every_tier_and_no_tier_only_when_used() -> None:
    shown = _vouchers_view(PROGRAM, [TierVouchers("Silver", 3, 2)])
    assert [(v["tier"], v["vouchers"], v["customers"]) for v in shown] == [
        ("Gold", 0, 0),
        ("Silver", 3, 2),
        ("Member", 0, 0),
    ]
    with_none = _vouchers_view(PROGRAM, [TierVouchers(None, 1, 1), TierVouchers("Old", 1, 1)])
    assert [v["tier"] for v in with_none] == ["Gold", "Silver", "Member", "No tier", "Old"]


def test_the_matrix_orders_tiers_highest_first_and_links_each_cell() -> None:
    start, end = dt.date(2026, 3, 1), dt.date(2026, 4, 1)
    found = Movements(
        start, end, {("Silver", "Gold"): 2, ("Silver", "Silver"): 5, (None, "Member"): 4}
    )
    view = _matrix_view(found, PROGRAM)
    assert view["columns"] == ["Gold", "Silver", "Member", "No tier"]
    assert [r["name"] for r in view["rows"]] == ["Silver", "No tier"]
    silver = view["rows"][0]["cells"]
    assert [c.count for c in silver] == [2, 5, 0, 0]
    assert silver[1].stayed
    assert not silver[0].stayed
    assert silver[0].level == 2  # half the busiest move (4 joined Member), of 5 shades
    assert silver[0].label == "Silver to Gold: 2 people"
    query = parse_qs(urlsplit(silver[0].href).query, keep_blank_values=True)
    assert query == {
        "from": ["2026-03-01"],
        "to": ["2026-04-01"],
        "was": ["Silver"],
        "now": ["Gold"],
    }
    joined = view["rows"][1]["cells"][2]
    assert joined.level == 5
    assert parse_qs(urlsplit(joined.href).query, keep_blank_values=True)["was"] == [""]
    assert view["totals"] == [2, 5, 4, 0]
    assert view["moved"] == 6


def test_members_of_a_tier_are_the_contacts_filtered_by_it_and_no_tier_our_own_list() -> None:
    assert members_link("Gold & co") == "/contacts?tier=Gold+%26+co"
    assert members_link(None) == "/loyalty/people?tier="
    assert members_link("") == "/loyalty/people?tier="


def test_people_links_keep_an_empty_tier() -> None:
    assert people_link(tier="") == "/loyalty/people?tier="
    assert people_link(tier="Gold & co") == "/loyalty/people?tier=Gold+%26+co"
