"""Status points from the ledger and the tiers they give: the definition at the window's edges,
then the full review, the partial review, the editor's preview and the card (SQLite and
PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update

from lealta.clock import FrozenClock
from lealta.contacts.tables import Contact
from lealta.loyalty import ledger, partial, preview, service
from lealta.loyalty.points import ADJUST, BONUS, EARN, EXPIRE, REDEEM, RETURN
from lealta.loyalty.program import load_program
from lealta.loyalty.status_points import status_points
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import at, ids, post_orders, tiers

D = dt.date
AS_OF = D(2026, 6, 1)  # a 30-day window holds 2 May 00:00 to 31 May 23:59:59
PROGRAM = """
name: Points
points: {}
tiers:
  - name: Member
  - name: Gold
    qualify: {points: 200, window_days: 30}
"""


def moment(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


def entry(
    api: Api, contact_id: str, kind: str, points: int, when: dt.datetime, **more: Any
) -> None:
    """Add one ledger entry written at ``when``."""
    key = f"{kind}:{when.isoformat()}:{points}"
    with api.services.uow.transaction() as session:
        ledger.append(
            session,
            contact_id,
            ledger.Entry(kind, points, key, **more),
            now=when,
            actor="test",
        )


def points_of(
    api: Api, who: dict[str, str], as_of: dt.date = AS_OF, only: list[str] | None = None
) -> dict[str, int]:
    program = load_program(PROGRAM)
    with api.services.uow.transaction() as session:
        frame = status_points(session, program, as_of=as_of, contact_ids=only)
    names = {v: k for k, v in who.items()}
    return {
        names[c]: int(p) for c, p in zip(frame["customer_id"], frame["points_30d"], strict=True)
    }


def customers(api: Api, *names: str) -> dict[str, str]:
    post_orders(api, [(name, f"{name}-first", D(2026, 1, 5), "10") for name in names])
    return ids(api, *names)


def test_status_points_count_earnings_in_the_window_and_nothing_else(api: Api) -> None:
    who = customers(api, "ana")
    ana = who["ana"]
    entry(api, ana, EARN, 100, moment(D(2026, 5, 1), 23, 59), order_id="o-before")
    entry(api, ana, EARN, 200, moment(D(2026, 5, 2), 0, 0), order_id="o-edge")  # first day in
    entry(api, ana, BONUS, 40, moment(D(2026, 5, 31), 23, 0), rule="review")  # last day in
    entry(api, ana, EARN, 50, moment(D(2026, 6, 1), 0, 0), order_id="o-after")  # as_of: out
    assert points_of(api, who) == {"ana": 240}
    assert points_of(api, who, only=[ana]) == {"ana": 240}
    # spending, expiry and manual changes leave status as it is
    entry(api, ana, REDEEM, -150, moment(D(2026, 5, 10)), voucher_code="V1")
    entry(api, ana, EXPIRE, -100, moment(D(2026, 5, 11)))
    entry(api, ana, ADJUST, -20, moment(D(2026, 5, 12)), reason="correction")
    entry(api, ana, ADJUST, 500, moment(D(2026, 5, 13)), reason="goodwill")
    assert points_of(api, who) == {"ana": 240}
    # the window slides: a day later the edge day's 200 have left it
    assert points_of(api, who, D(2026, 6, 2)) == {"ana": 90}


def test_a_return_takes_its_orders_points_out_of_status_even_those_it_could_not_recover(
    api: Api,
) -> None:
    who = customers(api, "ana")
    ana = who["ana"]
    entry(api, ana, EARN, 100, moment(D(2026, 4, 20)), order_id="o-old")
    entry(api, ana, EARN, 300, moment(D(2026, 5, 5)), order_id="o-new")
    # half of o-new comes back: 100 taken, 50 more already spent (unrecovered)
    entry(api, ana, RETURN, -100, moment(D(2026, 5, 20)), order_id="o-new", unrecovered=50)
    # o-old, earned before the window, comes back inside it: no status to take
    entry(api, ana, RETURN, -100, moment(D(2026, 5, 21)), order_id="o-old")
    assert points_of(api, who) == {"ana": 150}
    # a return written after the as-of day is not known on that day
    entry(api, ana, RETURN, -150, moment(D(2026, 6, 3)), order_id="o-new")
    assert points_of(api, who) == {"ana": 150}
    assert points_of(api, who, D(2026, 6, 4)) == {"ana": 0}


def test_a_merged_profiles_earnings_count_for_the_profile_it_was_merged_into(api: Api) -> None:
    who = customers(api, "ana", "ben")
    entry(api, who["ana"], EARN, 120, moment(D(2026, 5, 10)), order_id="a1")
    entry(api, who["ben"], EARN, 90, moment(D(2026, 5, 11)), order_id="b1")
    with api.services.uow.transaction() as session:
        session.execute(
            update(Contact).where(Contact.id == who["ben"]).values(merged_into=who["ana"])
        )
    assert points_of(api, who) == {"ana": 210}
    # a return of the merged profile's order is written to the survivor
    entry(api, who["ana"], RETURN, -30, moment(D(2026, 5, 20)), order_id="b1")
    assert points_of(api, who) == {"ana": 180}
    # read for the survivor alone (the card, a partial review): the same
    assert points_of(api, who, only=[who["ana"]]) == {"ana": 180}
    assert points_of(api, who, only=[who["ben"]]) == {}


def gold_setup(api: Api) -> dict[str, str]:
    """Ana at 200 status points (Gold), Ben at 199 with a redemption (Member), Cruz at none."""
    who = customers(api, "ana", "ben", "cruz")
    entry(api, who["ana"], EARN, 200, moment(D(2026, 5, 2), 0, 0), order_id="a1")
    entry(api, who["ana"], REDEEM, -200, moment(D(2026, 5, 3)), voucher_code="A")
    entry(api, who["ben"], EARN, 199, moment(D(2026, 5, 20)), order_id="b1")
    with api.services.uow.transaction() as session:
        service.save(session, PROGRAM, now=moment(D(2026, 5, 1)))
    return who


def test_the_full_review_gives_tiers_by_status_points(api: Api) -> None:
    who = gold_setup(api)
    review = service.apply_program(at(api.services, AS_OF), as_of=AS_OF)
    assert review is not None
    assert review.tiers == {"Member": 2, "Gold": 1}
    found = tiers(api)
    assert {name: found[cid].tier for name, cid in who.items()} == {
        "ana": "Gold",  # redeeming every point kept her status
        "ben": "Member",
        "cruz": "Member",
    }
    assert found[who["ana"]].qualified_by == "at least 200 points earned in 30 days"


def test_the_partial_review_moves_a_customer_up_on_new_points(api: Api) -> None:
    who = gold_setup(api)
    service.apply_program(at(api.services, AS_OF), as_of=AS_OF)
    now = moment(D(2026, 5, 31), 15)
    entry(api, who["ben"], EARN, 1, moment(D(2026, 5, 31), 14), order_id="b2")
    with api.services.uow.transaction() as session:
        done = partial.review_contacts(session, [who["ben"]], now=now)
    assert done is not None
    assert done.upgraded == 1
    assert tiers(api)[who["ben"]].tier == "Gold"


def test_the_preview_counts_tiers_by_status_points(api: Api) -> None:
    gold_setup(api)
    program = load_program(PROGRAM)
    services = at(api.services, D(2026, 5, 31))
    seen = preview.preview(services, program)
    assert {t.tier: t.qualify for t in seen.tiers} == {"Gold": 1, "Member": 2}
    stricter = load_program(PROGRAM.replace("points: 200,", "points: 201,"))
    assert {t.tier: t.qualify for t in preview.preview(services, stricter).tiers} == {
        "Gold": 0,
        "Member": 3,
    }


def test_the_card_shows_the_points_still_missing(api: Api) -> None:
    who = gold_setup(api)
    service.apply_program(at(api.services, AS_OF), as_of=AS_OF)
    with api.services.uow.transaction() as session:
        card = service.card(session, who["cruz"], now=moment(D(2026, 5, 31)))
    assert card.progress is not None
    assert card.progress["next_tier"] == "Gold"
    assert card.progress["words"].startswith("200 more points to Gold")
    api.services.clock = FrozenClock(moment(D(2026, 5, 31)))
    answer = api.client.get(f"/v1/contacts/{who['ben']}/loyalty", headers=api.admin)
    assert answer.status_code == 200, answer.text
    assert "1 more point to Gold" in answer.json()["progress"]["words"]
    assert answer.json()["progress"]["points"] == 1
    assert answer.json()["progress"]["orders"] is None
