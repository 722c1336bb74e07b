"""Tiers by decision under erasure, export and merges; the better tier survives a merge."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from lealta.contacts.tables import Contact
from lealta.identity.service import merge
from lealta.loyalty import service
from lealta.loyalty.tables import TierOverride
from tests.integration.loyalty.helpers import PROGRAM, ids, post_orders, tiers
from tests.integration.loyalty.test_overrides import Frozen, frozen, history

__all__ = ["frozen"]  # the fixture, used by name

D = dt.date


def setup(frozen: Frozen) -> dict[str, str]:
    """Ana with one order (Member), Ben with four (Gold); reviewed on 1 February."""
    orders = [("ana", "a1", D(2026, 1, 10), "40")]
    orders += [("ben", f"b{n}", D(2026, 1, 10 + n), "30") for n in range(4)]
    post_orders(frozen.api, orders)
    with frozen.api.services.uow.transaction() as session:
        service.save(session, PROGRAM, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    frozen.review(D(2026, 2, 1))
    who = ids(frozen.api, "ana", "ben")
    found = tiers(frozen.api)
    assert (found[who["ana"]].tier, found[who["ben"]].tier) == ("Member", "Gold")
    return who


def decide(frozen: Frozen, contact: str, **body: Any) -> None:
    answer = frozen.put(contact, **body)
    assert answer.status_code == 200, answer.text


def overrides(frozen: Frozen) -> dict[str, tuple[str, str, dt.date | None]]:
    with frozen.api.services.uow.transaction() as session:
        return {
            row.contact_id: (row.tier, row.reason, row.until)
            for row in session.scalars(select(TierOverride))
        }


def merge_into(frozen: Frozen, source: str, into: str, day: dt.date) -> None:
    with frozen.api.services.uow.transaction() as session:
        gone, kept = session.get(Contact, source), session.get(Contact, into)
        assert gone is not None
        assert kept is not None
        merge(session, gone, into=kept, now=dt.datetime.combine(day, dt.time(13), tzinfo=dt.UTC))


def test_erasing_a_person_deletes_their_decision_and_its_reason(frozen: Frozen) -> None:
    who = setup(frozen)
    frozen.on(D(2026, 2, 10))
    decide(frozen, who["ana"], tier="Gold", reason="Ana Ortiz, sister of the owner")
    decide(frozen, who["ben"], tier="Silver", reason="Kept for the record")

    answer = frozen.client.delete(f"/v1/contacts/{who['ana']}", headers=frozen.api.admin)

    assert answer.status_code == 200, answer.text
    assert set(overrides(frozen)) == {who["ben"]}  # another person's decision stays
    listed = frozen.client.get(
        "/v1/loyalty/overrides", params={"include_expired": "true"}, headers=frozen.api.admin
    ).json()["overrides"]
    assert [o["contact_id"] for o in listed] == [who["ben"]]
    assert "Ana Ortiz" not in str(listed)


def test_erasing_a_survivor_deletes_the_decision_of_its_merged_profile(frozen: Frozen) -> None:
    who = setup(frozen)
    frozen.on(D(2026, 2, 10))
    decide(frozen, who["ben"], tier="Gold", reason="Ben Ruiz, influencer")
    with frozen.api.services.uow.transaction() as session:
        ben = session.get(Contact, who["ben"])
        assert ben is not None
        ben.merged_into = who["ana"]  # as if merged before merges passed decisions on

    answer = frozen.client.delete(f"/v1/contacts/{who['ana']}", headers=frozen.api.admin)

    assert answer.status_code == 200, answer.text
    assert overrides(frozen) == {}


def test_the_export_holds_the_decisions_expired_ones_too(frozen: Frozen) -> None:
    who = setup(frozen)
    frozen.on(D(2026, 2, 10))
    decide(frozen, who["ana"], tier="gold", reason="Press partner", until="2026-02-20")
    frozen.on(D(2026, 3, 1))  # expired by now, still held

    exported = frozen.client.get(f"/v1/contacts/{who['ana']}/export", headers=frozen.api.admin)

    assert exported.status_code == 200, exported.text
    (only,) = exported.json()["loyalty_overrides"]
    assert {k: only[k] for k in ("tier", "reason", "until")} == {
        "tier": "Gold",
        "reason": "Press partner",
        "until": "2026-02-20",
    }
    assert only["set_at"].startswith("2026-02-10T12:00:00")
    assert only["set_by"]
    other = frozen.client.get(f"/v1/contacts/{who['ben']}/export", headers=frozen.api.admin)
    assert other.json()["loyalty_overrides"] == []


def test_a_merge_passes_the_decision_and_the_better_tier_to_the_survivor(
    frozen: Frozen,
) -> None:
    who = setup(frozen)
    frozen.on(D(2026, 2, 10))
    decide(frozen, who["ben"], tier="Gold", reason="Founder's friend", until="2026-06-30")
    moves_before, events_before = history(frozen.api, who["ben"])

    merge_into(frozen, who["ben"], who["ana"], D(2026, 2, 11))

    assert overrides(frozen) == {who["ana"]: ("Gold", "Founder's friend", D(2026, 6, 30))}
    found = tiers(frozen.api)
    assert set(found) == {who["ana"]}
    row = found[who["ana"]]
    assert (row.tier, row.since, row.until) == ("Gold", D(2026, 2, 1), D(2027, 12, 31))
    moves, events = history(frozen.api, who["ana"])
    assert moves[-1][:3] == ("Member", "Gold", D(2026, 2, 11))
    assert moves[-1][3] == f"profiles merged: {who['ben']} held Gold"
    # the move is recorded but announced to no one: Ben was welcomed to Gold already
    assert len(events) == len(events_before) + 1  # Ben's events moved, Ana's Member welcome
    assert [e[0] for e in events].count("Loyalty Tier Upgraded") == 2
    assert len(moves) == len(moves_before) + 2  # Ana's own move to Member, and the merge

    card = frozen.client.get(f"/v1/contacts/{who['ben']}/loyalty", headers=frozen.api.admin)
    assert card.json()["by_decision"]["reason"] == "Founder's friend"
    frozen.review(D(2026, 3, 1))
    assert tiers(frozen.api)[who["ana"]].qualified_by == "by decision: Founder's friend"


def test_the_survivor_keeps_its_higher_tier_and_the_merged_history(frozen: Frozen) -> None:
    who = setup(frozen)

    merge_into(frozen, who["ana"], who["ben"], D(2026, 2, 11))

    found = tiers(frozen.api)
    assert set(found) == {who["ben"]}
    assert (found[who["ben"]].tier, found[who["ben"]].since) == ("Gold", D(2026, 2, 1))
    moves, _events = history(frozen.api, who["ben"])
    assert sorted(m[1] for m in moves) == ["Gold", "Member"]  # no merge move: Ben kept Gold


def test_of_two_decisions_the_one_in_force_then_the_higher_then_the_longer_is_kept(
    frozen: Frozen,
) -> None:
    who = setup(frozen)
    post_orders(frozen.api, [("cleo", "c1", D(2026, 1, 20), "40")])
    post_orders(frozen.api, [("dan", "d1", D(2026, 1, 20), "40")])
    more = ids(frozen.api, "cleo", "dan")
    frozen.on(D(2026, 2, 10))
    decide(frozen, who["ana"], tier="Gold", reason="Old promise", until="2026-02-12")
    decide(frozen, who["ben"], tier="Silver", reason="Current promise")
    decide(frozen, more["cleo"], tier="Silver", reason="Short", until="2026-03-01")
    decide(frozen, more["dan"], tier="Silver", reason="Long", until="2026-09-01")
    frozen.on(D(2026, 2, 20))  # Ana's decision has expired

    merge_into(frozen, who["ana"], who["ben"], D(2026, 2, 20))  # in force beats higher
    merge_into(frozen, more["dan"], more["cleo"], D(2026, 2, 20))  # same tier: the longer

    assert overrides(frozen) == {
        who["ben"]: ("Silver", "Current promise", None),
        more["cleo"]: ("Silver", "Long", D(2026, 9, 1)),
    }

    merge_into(frozen, more["cleo"], who["ben"], D(2026, 2, 20))  # both in force, same tier:
    assert overrides(frozen) == {who["ben"]: ("Silver", "Current promise", None)}  # no end wins
