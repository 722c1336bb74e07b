"""Privacy and the points ledger (SQLite and PostgreSQL): a person's export lists every
entry, erasure deletes them, and the sweep credits an erased person nothing afterwards."""

from __future__ import annotations

import datetime as dt

from lealta.loyalty.points_sweeps import sweep
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import ids
from tests.integration.loyalty.points_helpers import START, entries, order, with_points

DAY = dt.timedelta(days=1)


def test_the_export_lists_the_ledger_and_erasure_deletes_it(api: Api) -> None:
    clock = with_points(api)
    order(api, "ana", "a-1", START - DAY, "320")
    order(api, "ben", "b-1", START - DAY, "40")
    who = ids(api, "ana", "ben")
    sweep(api.services)
    paid = api.client.post(
        f"/v1/contacts/{who['ana']}/loyalty/points/redeem",
        json={"option": "SHIP", "key": "k1"},
        headers=api.admin,
    )
    assert paid.status_code == 200, paid.text

    document = api.client.get(f"/v1/contacts/{who['ana']}/export", headers=api.admin).json()
    assert [
        (e["seq"], e["kind"], e["points"], e["balance"], e["order_id"])
        for e in document["loyalty_points"]
    ] == [(1, "earn", 320, 320, "a-1"), (2, "redeem", -200, 120, None)]
    assert document["loyalty_points"][1]["voucher_code"] == paid.json()["voucher"]["code"]

    assert api.client.delete(f"/v1/contacts/{who['ana']}", headers=api.admin).status_code == 200
    assert entries(api, who["ana"]) == []
    assert [e.points for e in entries(api, who["ben"])] == [40]  # others untouched
    clock.advance(days=1)
    order(api, "ben", "b-2", clock.now(), "10")
    swept = sweep(api.services)  # the erased person's kept order earns nothing again
    assert swept is not None
    assert swept.orders == 1
    assert entries(api, who["ana"]) == []
