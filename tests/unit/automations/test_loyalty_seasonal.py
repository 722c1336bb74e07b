"""The seasonal re-engagement for loyalty members, played through the pure engine: only
members of a tier among last season's big spenders who went quiet are invited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lealta.automations.catalog import load_template
from lealta.automations.definition import ScheduleTrigger, dump
from tests.unit.automations.factories import T0, contact
from tests.unit.automations.test_templates import DAY, commands, ending, order, play

RANKS = {"member": 1, "silver": 2, "gold": 3}
BIG_SPENDER = (order(T0 - 200 * DAY, total=180), order(T0 - 90 * DAY, total=60))


def test_it_is_the_seasonal_workflow_with_the_loyalty_condition_first() -> None:
    loyal = load_template("loyalty-seasonal-reengagement")
    plain = load_template("seasonal-reengagement")
    assert loyal.trigger == plain.trigger == ScheduleTrigger(cron="0 9 1 11 *", audience={})
    first, plain_first = dump(loyal)["steps"][0], dump(plain)["steps"][0]
    any_tier = {"kind": "loyalty_tier", "at_least": None, "in": None}
    assert first["condition"]["conditions"][0] == any_tier
    assert first["condition"]["conditions"][1:] == plain_first["condition"]["conditions"]
    assert dump(loyal)["steps"][1:] == dump(plain)["steps"][1:]


@pytest.mark.parametrize("tier", ["Member", "Gold"])
def test_a_quiet_big_spender_in_any_tier_gets_the_voucher_and_the_e_mail(tier: str) -> None:
    member = contact(events=BIG_SPENDER, tier=tier, tier_ranks=RANKS)
    timeline = play("loyalty-seasonal-reengagement", member, days=1)
    assert commands(timeline, T0) == [
        (timedelta(0), "voucher percent 15 30d"),
        (timedelta(0), "send email season-is-back"),
    ]
    assert ending(timeline, T0) == (timedelta(0), "exit: invited")


def test_a_big_spender_in_no_tier_is_left_out() -> None:
    outsider = contact(events=BIG_SPENDER, tier=None, tier_ranks=RANKS)
    timeline = play("loyalty-seasonal-reengagement", outsider, days=1)
    assert commands(timeline, T0) == []
    assert ending(timeline, T0) == (timedelta(0), "exit: not eligible")
    # the plain seasonal workflow would have invited them
    assert commands(play("seasonal-reengagement", outsider, days=1), T0) != []


def test_a_member_who_ordered_lately_is_not_invited() -> None:
    recent = contact(events=(*BIG_SPENDER, order(T0 - 5 * DAY)), tier="Gold", tier_ranks=RANKS)
    timeline = play("loyalty-seasonal-reengagement", recent, days=1)
    assert commands(timeline, T0) == []
