"""Orders and spend in rolling windows, on a tiny hand-written table of purchase rows."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from lealta.engines import connect
from lealta.loyalty.facts import window_facts

AS_OF = dt.date(2025, 1, 31)


def rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b"],
            "order_id": ["O1", "O1", "O2", "O3", "O4"],
            "ts": pd.to_datetime(
                [
                    "2025-01-30 23:59",  # the last day before as-of
                    "2025-01-30 23:59",  # a second line of the same order
                    "2025-01-01 00:00",  # exactly 30 days before as-of: inside 30 days
                    "2024-12-31 23:59",  # a minute earlier: outside 30, inside 365
                    "2023-06-01 12:00",  # outside both
                ]
            ),
            "amount": [10.0, 5.0, 20.0, 40.0, 99.0],
        }
    )


def test_a_window_of_d_days_starts_at_midnight_d_days_before_the_as_of_date() -> None:
    table = ibis.memtable(rows())
    result = (
        connect()
        .execute(window_facts(table, as_of=AS_OF, windows=[365, 30], purchase=table.order_id))
        .set_index("customer_id")
    )
    assert list(result.columns) == [
        "revenue", "orders_30d", "spend_30d", "orders_365d", "spend_365d",
    ]  # fmt: skip
    assert result.loc["a"].to_dict() == {
        "revenue": 75.0,
        "orders_30d": 2,  # O1 (two lines) and O2
        "spend_30d": 35.0,
        "orders_365d": 3,
        "spend_365d": 75.0,
    }
    assert result.loc["b"].to_dict() == {
        "revenue": 99.0,
        "orders_30d": 0,
        "spend_30d": 0.0,
        "orders_365d": 0,
        "spend_365d": 0.0,
    }


def test_without_a_purchase_key_every_row_is_one_purchase() -> None:
    table = ibis.memtable(rows())
    result = connect().execute(window_facts(table, as_of=AS_OF, windows=[30], purchase=None))
    assert result.set_index("customer_id").loc["a", "orders_30d"] == 3


def test_the_stores_orders_counted_as_rows_equal_their_distinct_order_ids() -> None:
    """``row_per_order`` (the store's orders: one row each, unique ids) counts rows; the
    counts are those of distinct order ids, windows and spend alike."""
    from pathlib import Path

    import yaml

    import lealta.loyalty
    from lealta.loyalty.facts import purchase_facts
    from lealta.loyalty.program import LoyaltyProgram
    from lealta.orders.columns import detect_columns
    from lealta.orders.sources import open_source
    from lealta.segmentation.options import RFMOptions
    from lealta.segmentation.store import STORE_COLUMNS

    genius = Path(lealta.loyalty.__file__).parent / "examples" / "genius.yaml"
    program = LoyaltyProgram.model_validate(yaml.safe_load(genius.read_text()))
    placed = [AS_OF - dt.timedelta(days=d) for d in (1, 1, 200, 400, 700, 800, 3)]
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "b", " "],
            "order_id": [f"o{i}" for i in range(7)],
            "placed_at": pd.to_datetime(placed),
            "amount": [10.0, 5.0, 20.0, 40.0, 99.0, 7.5, 3.0],
        }
    )
    engine = connect()
    source = open_source(engine, engine.con.create_table("store_orders", orders))
    roles = {role: col for role, col in STORE_COLUMNS.items() if col in orders.columns}
    columns = detect_columns(source.columns, roles, ()).columns

    def facts(row_per_order: bool) -> pd.DataFrame:
        expr = purchase_facts(
            engine, source, columns, RFMOptions(cancel_pattern=""), program,
            date_format=None, as_of=AS_OF, row_per_order=row_per_order,
        )  # fmt: skip
        return engine.execute(expr).sort_values("customer_id").reset_index(drop=True)

    rows = facts(True)
    pd.testing.assert_frame_equal(rows, facts(False))
    assert rows.set_index("customer_id").loc["a", ["orders_365d", "orders_730d"]].tolist() == [
        3,
        4,
    ]
    assert rows["customer_id"].tolist() == ["a", "b"]  # the blank customer is not usable
