"""``lealta clv --from-store``: predictions for the contacts of the store (SQLite, PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lealta.cli.main import app
from lealta.config import get_settings
from lealta.identity.service import find_contact
from tests.integration.conftest import Api

START = dt.datetime(2025, 1, 6, 12, 0, tzinfo=dt.UTC)
# customer → days (after START) of their orders; two orders on one day are one purchase
ORDERS = {"ana": [0, 7, 14, 14, 35], "ben": [3], "cruz": [1, 50]}
PARAMS = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "gamma_gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
}


def post_orders(api: Api) -> None:
    batch = [
        {
            "user_id": customer,
            "id": f"{customer}-{k}",
            "placed_at": (START + dt.timedelta(days=day, minutes=k)).isoformat(),
            "amount": f"{20 + 10 * k}.00",
        }
        for customer, days in ORDERS.items()
        for k, day in enumerate(days)
    ]
    answer = api.client.post("/v1/orders/batch", json={"orders": batch}, headers=api.admin)
    assert answer.json()["accepted"] == len(batch)
    api.drain()


def test_the_store_s_contacts_are_summarised_and_scored(
    api: Api, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_orders(api)
    with api.services.uow.transaction() as session:
        ids = {name: find_contact(session, "user_id", name).id for name in ORDERS}  # type: ignore[union-attr]
    params, out = tmp_path / "params.json", tmp_path / "value.csv"
    params.write_text(json.dumps(PARAMS))
    monkeypatch.setenv("LEALTA_DATABASE_URL", database_url)
    monkeypatch.setenv("LEALTA_CONFIG_FILE", str(tmp_path / "absent.toml"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["clv", "--from-store", "--params", str(params), "-o", str(out)]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.stderr
    assert "orders in the store: 8 rows, 8 kept" in result.stdout
    table = pd.read_csv(out, dtype={"customer_id": str}).set_index("customer_id")
    assert sorted(table.index) == sorted(ids.values())
    ana, ben, cruz = (table.loc[ids[n]] for n in ("ana", "ben", "cruz"))
    # ana: 20 on day 0, then 30 (day 7), 40 + 50 (day 14), 60 (day 35); observed to day 50
    assert ana["frequency"] == 3
    assert ana["recency"] == pytest.approx(35 / 7)
    assert ana["T"] == pytest.approx(50 / 7)
    assert ana["monetary_value"] == pytest.approx((30 + (40 + 50) + 60) / 3)
    assert ben["frequency"] == 0
    assert ben["churn_risk"] == "new"
    assert cruz["recency"] == pytest.approx(49 / 7)
    assert 0 < ana["p_alive"] < 1
    assert ana["expected_purchases"] > cruz["expected_purchases"] > 0


def test_from_store_takes_no_file_and_no_column_options(tmp_path: Path) -> None:
    runner = CliRunner()
    both = runner.invoke(app, ["clv", str(tmp_path / "x.csv"), "--from-store"])
    assert both.exit_code == 2
    assert "give an order FILE or --from-store, not both" in both.stderr
    columns = runner.invoke(app, ["clv", "--from-store", "--customer", "id"])
    assert columns.exit_code == 2
    assert "do not apply to --from-store" in columns.stderr
    neither = runner.invoke(app, ["clv"])
    assert neither.exit_code == 2
    assert "missing the order FILE" in neither.stderr
