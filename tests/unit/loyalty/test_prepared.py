"""The prepared assignment answers exactly what ``assign_orders`` answers: for an Arrow table of
one customer's orders (the card) and for the store's Parquet export (the preview), under two
programmes and one after another with other inputs (the statement reads whatever is bound
now, never the inputs of the call that prepared it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lealta.loyalty import prepared
from lealta.loyalty.program import load_program
from lealta.loyalty.service import assign_orders

AS_OF = dt.date(2026, 3, 1)
ORDERS_RULES = load_program(
    """
name: Orders club
window_days: 365
tiers:
  - name: Member
  - name: Silver
    qualify: {orders: 2}
  - name: Gold
    qualify: {any: [{orders: 4}, {spend: 500}]}
"""
)
SCORES_RULES = load_program(
    """
name: Scores club
window_days: 180
eligibility: {score_sum: 5}
tiers:
  - name: Member
  - name: Gold
    qualify: {score_sum: 12}
"""
)
# customer -> (days before AS_OF, amount) of their orders
PEOPLE = {
    "ana": [(3, 120.0), (40, 80.0), (90, 200.0), (300, 60.0)],
    "ben": [(10, 15.0), (400, 99.0)],
    "cruz": [(20, 450.0), (25, 45.5)],
    "dana": [(5, 30.0)],
}
SCORES = {"ana": (5, 5, 5), "ben": (2, 1, 1), "cruz": (4, 2, 5), "dana": (5, 1, 2)}


def _orders(people: list[str]) -> pa.Table:
    rows = [
        (who, f"{who}-{n}", dt.datetime.combine(AS_OF, dt.time(12)) - dt.timedelta(days=d), a)
        for who in people
        for n, (d, a) in enumerate(PEOPLE[who])
    ]
    count = len(rows)
    return pa.table(
        {
            "customer_id": pa.array([r[0] for r in rows], pa.string()),
            "order_id": pa.array([r[1] for r in rows], pa.string()),
            "placed_at": pa.array([r[2] for r in rows], pa.timestamp("us")),
            "amount": pa.array([r[3] for r in rows], pa.float64()),
            "payment_method": pa.array([None] * count, pa.string()),
            "due_date": pa.array([None] * count, pa.date32()),
            "paid_date": pa.array([None] * count, pa.date32()),
            "email": pa.array([None] * count, pa.string()),
        }
    )


def _scores(people: list[str]) -> pd.DataFrame:
    values = [[who, *SCORES[who], None] for who in people]
    return pd.DataFrame(values, columns=["customer_id", "r_score", "f_score", "m_score", "p_score"])


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("contact_id").reset_index(drop=True)


def test_one_customer_at_a_time_as_the_card_asks() -> None:
    for program in (ORDERS_RULES, SCORES_RULES):
        seen = set()
        for who in PEOPLE:
            orders, scores = _orders([who]), _scores([who])
            expected = assign_orders(orders, program, scores, AS_OF)
            found = prepared.assign(orders, program, scores, AS_OF)
            pd.testing.assert_frame_equal(_sorted(found), _sorted(expected))
            assert found["contact_id"].tolist() == [who]
            seen.add((found["tier_rank"].iloc[0], found["progress"].iloc[0]))
        assert len(seen) > 1  # different people, different answers from one statement


def test_the_whole_store_as_the_preview_asks(tmp_path: Path) -> None:
    everyone = list(PEOPLE)
    path = tmp_path / "orders.parquet"
    pq.write_table(_orders(everyone), path)
    for program in (ORDERS_RULES, SCORES_RULES, ORDERS_RULES):
        expected = assign_orders(path, program, _scores(everyone), AS_OF)
        found = prepared.assign(path, program, _scores(everyone), AS_OF)
        pd.testing.assert_frame_equal(_sorted(found), _sorted(expected))
    gold = _sorted(prepared.assign(path, ORDERS_RULES, _scores(everyone), AS_OF))
    assert gold.set_index("contact_id")["tier_rank"].to_dict() == {
        "ana": 3,  # 4 orders in the window
        "ben": 1,  # one order in the window, the other too old
        "cruz": 2,  # 2 orders; 495.50 spent is short of Gold's 500
        "dana": 1,
    }
    other = tmp_path / "fewer.parquet"
    pq.write_table(_orders(["dana"]), other)
    found = prepared.assign(other, ORDERS_RULES, _scores(["dana"]), AS_OF)
    assert found["contact_id"].tolist() == ["dana"]  # the file bound now, not the first one
