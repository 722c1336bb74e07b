"""``lealta loyalty override set|list|remove`` on a store with a programme."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lealta.loyalty import service
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import PROGRAM, ids, post_orders, tiers
from tests.integration.loyalty.test_loyalty_cli import lealta


def test_set_list_and_remove_a_tier_by_decision(api: Api, tmp_path: Path) -> None:
    today = dt.datetime.now(dt.UTC).date()  # the CLI runs on the system clock
    post_orders(api, [("ana", "a1", today - dt.timedelta(days=3), "40")])
    with api.services.uow.transaction() as session:
        service.save(session, PROGRAM, now=dt.datetime.now(dt.UTC))
    service.apply_program(api.services)
    (ana,) = ids(api, "ana").values()
    assert tiers(api)[ana].tier == "Member"
    until = (today + dt.timedelta(days=30)).isoformat()

    _, err = lealta(
        api, tmp_path, "override", "set", ana, "--tier", "Diamond", "--reason", "x", code=2
    )
    assert "no tier 'Diamond'; the tiers are Member, Silver, Gold" in err
    _, err = lealta(
        api, tmp_path, "override", "set", ana, "--tier", "gold", "--reason", "x", "--until", "soon",
        code=2,
    )  # fmt: skip
    assert "--until 'soon' is not a day" in err
    out, _ = lealta(
        api, tmp_path, "override", "set", ana, "--tier", "gold", "--reason", "Press partner",
        "--until", until, "--by", "marta",
    )  # fmt: skip
    assert out.strip() == f"{ana}: Gold by decision until {until} (moved from Member)"
    assert tiers(api)[ana].tier == "Gold"
    listed, _ = lealta(api, tmp_path, "override", "list")
    for shown in (ana, "Press partner", "marta", until):
        assert shown in listed

    out, _ = lealta(api, tmp_path, "override", "remove", ana)
    assert "decision removed; holds Gold under the status rules" in out
    listed, _ = lealta(api, tmp_path, "override", "list")
    assert listed.strip() == "no tiers by decision"
    _, err = lealta(api, tmp_path, "override", "remove", ana, code=2)
    assert "has no tier by decision" in err
