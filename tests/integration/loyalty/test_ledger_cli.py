"""``lealta loyalty points …`` against a real store (SQLite and PostgreSQL), run in the test
process with the machine's clock: orders a day old are credited by ``sweep``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from lealta.loyalty import service
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import ids
from tests.integration.loyalty.points_helpers import POINTS_PROGRAM, order
from tests.integration.loyalty.test_loyalty_cli import lealta


def test_sweep_balance_adjust_redeem_history_and_liability(api: Api, tmp_path: Path) -> None:
    _, err = lealta(api, tmp_path, "points", "liability", code=2)
    assert "no loyalty programme is in force" in err
    with api.services.uow.transaction() as session:
        service.save(session, POINTS_PROGRAM, now=dt.datetime.now(dt.UTC))
    order(api, "ana", "a-1", dt.datetime.now(dt.UTC) - dt.timedelta(days=1), "640.80")
    cid = ids(api, "ana")["ana"]

    out, _ = lealta(api, tmp_path, "points", "sweep", "--json")
    assert json.loads(out)["earned"] == 640
    out, _ = lealta(api, tmp_path, "points", "balance", cid)
    assert out.startswith(f"640 points (6.40 EUR) for {cid}")

    out, _ = lealta(
        api, tmp_path, "points", "adjust", cid, "--points", "-40", "--reason", "phone order"
    )
    assert "-40 points: the balance is 600 (entry 2)" in out
    _, err = lealta(api, tmp_path, "points", "adjust", cid, "--points", "5", code=2)
    assert "--reason" in err
    _, err = lealta(
        api, tmp_path, "points", "adjust", cid, "--points", "-601", "--reason", "x", code=2
    )
    assert "not enough points: the balance is 600, 601 are needed" in err

    out, _ = lealta(api, tmp_path, "points", "redeem", cid, "EUR5", "--key", "till-7")
    again, _ = lealta(api, tmp_path, "points", "redeem", cid, "EUR5", "--key", "till-7")
    assert out == again  # the same voucher, paid once
    assert "for 500 points: the balance is 100" in out
    _, err = lealta(api, tmp_path, "points", "redeem", cid, "EUR9", "--key", "till-8", code=2)
    assert "no redemption option 'EUR9'; the options are EUR5, SHIP" in err

    out, _ = lealta(api, tmp_path, "points", "history", cid, "--json")
    assert [(e["seq"], e["kind"], e["points"]) for e in json.loads(out)] == [
        (3, "redeem", -500),
        (2, "adjust", -40),
        (1, "earn", 640),
    ]
    out, err = lealta(api, tmp_path, "points", "history", cid, "--limit", "1")
    assert "redeemed for EUR5" in out
    assert "--before 3" in err

    out, _ = lealta(api, tmp_path, "points", "liability")
    assert "100 points outstanding, worth 1.00 EUR (0.01 each), held by 1 contacts" in out
    out, _ = lealta(api, tmp_path, "points", "liability", "--json")
    assert json.loads(out)["redeemed"] == 500
