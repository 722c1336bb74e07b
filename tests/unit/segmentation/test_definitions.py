"""Every RFM definition on tiny hand-written tables (DuckDB in-process)."""

from __future__ import annotations

import pandas as pd
import pytest

import lealta
from lealta.errors import InvalidInput


def orders(rows: list[tuple[str, str, float]], **extra: list[object]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame.insert(0, "order_id", [f"O{i}" for i in range(len(rows))])
    for name, values in extra.items():
        frame[name] = values
    return frame


def by_customer(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("customer_id")


def test_recency_is_days_from_the_last_purchase_to_the_day_after_the_last_order() -> None:
    result = by_customer(
        lealta.rfm(
            orders([("a", "2024-01-01", 10), ("a", "2024-01-10", 10), ("b", "2024-01-05", 5)])
        )
    )
    assert result.attrs["lealta"]["as_of"] == "2024-01-11"
    assert result.loc["a", "recency"] == 1
    assert result.loc["b", "recency"] == 6


def test_frequency_counts_orders_and_monetary_sums_them() -> None:
    frame = orders([("a", "2024-01-01", 10), ("a", "2024-01-02", 30), ("b", "2024-01-02", 5)])
    result = by_customer(lealta.rfm(frame))
    assert result.loc["a", "frequency"] == 2
    assert result.loc["a", "monetary"] == 40
    mean = by_customer(lealta.rfm(frame, monetary="mean"))
    assert mean.loc["a", "monetary"] == 20


def test_lines_of_one_order_are_one_purchase_and_a_day_or_row_can_be_chosen_instead() -> None:
    frame = pd.DataFrame(
        {
            "order_id": ["O1", "O1", "O2", "O3"],
            "customer_id": ["a", "a", "a", "b"],
            "order_date": [
                "2024-01-01 09:00",
                "2024-01-01 09:00",
                "2024-01-01 18:00",
                "2024-01-03",
            ],
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    assert by_customer(lealta.rfm(frame)).loc["a", "frequency"] == 2
    assert by_customer(lealta.rfm(frame, purchase="day")).loc["a", "frequency"] == 1
    assert by_customer(lealta.rfm(frame, purchase="row")).loc["a", "frequency"] == 3


def test_every_line_counts_in_dates_and_revenue_but_a_missing_order_id_is_no_purchase() -> None:
    frame = pd.DataFrame(
        {
            "order_id": ["O1", "O1", None, "O2"],
            "customer_id": ["a", "a", "a", "b"],
            "order_date": ["2024-01-01 23:00", "2024-01-02 01:00", "2024-01-05", "2024-01-03"],
            "amount": [1.0, 2.0, 4.0, 8.0],
        }
    )
    result = by_customer(lealta.rfm(frame, cancel_pattern=""))
    a = result.loc["a"]
    assert (a.frequency, a.orders, a.monetary, a.revenue) == (1, 1, 7.0, 7.0)
    assert (str(a.first_purchase)[:10], str(a.last_purchase)[:10]) == ("2024-01-01", "2024-01-05")


def test_orders_on_or_after_the_as_of_date_are_excluded_and_reported() -> None:
    frame = orders([("a", "2024-01-01", 10), ("a", "2024-02-01", 99), ("b", "2024-01-20", 5)])
    result = lealta.rfm(frame, as_of="2024-02-01")
    customers = by_customer(result)
    assert customers.loc["a", "monetary"] == 10
    assert customers.loc["a", "recency"] == 31
    assert result.attrs["lealta"]["rejected"] == {"after_as_of": 1}


def test_a_window_keeps_only_recent_purchases() -> None:
    frame = orders([("a", "2023-01-01", 10), ("a", "2024-01-01", 20), ("b", "2023-06-01", 5)])
    result = lealta.rfm(frame, window=90)
    assert list(result.customer_id) == ["a"]
    assert result.monetary.tolist() == [20]
    assert result.attrs["lealta"]["rejected"] == {"before_window": 2}


def test_cancellations_returns_and_missing_customers_are_dropped_with_reasons() -> None:
    frame = pd.DataFrame(
        {
            "InvoiceNo": ["536365", "C536366", "536367", "536368", "536369", "536370"],
            "CustomerID": ["17850", "17850", None, "13047", "13047", "13047"],
            "InvoiceDate": ["2010-12-01 08:26"] * 5 + ["not a date"],
            "Quantity": [6, -6, 2, -1, 3, 1],
            "UnitPrice": [2.55, 2.55, 1.0, 4.0, 0.0, 1.0],
        }
    )
    result = lealta.rfm(frame)
    assert result.attrs["lealta"]["rejected"] == {
        "missing_customer": 1,
        "bad_date": 1,
        "cancelled": 1,
        "returned": 1,
        "non_positive_price": 1,
    }
    assert list(result.customer_id) == ["17850"]
    assert result.monetary.iloc[0] == pytest.approx(6 * 2.55)


def test_equal_values_always_get_equal_scores() -> None:
    rows = [(c, "2024-01-01", 10.0) for c in "abcdef"] + [("g", "2024-01-01", 50.0)]
    result = by_customer(lealta.rfm(orders(rows)))
    assert result.loc[list("abcdef"), "m_score"].nunique() == 1
    assert result.loc["g", "m_score"] > result.loc["a", "m_score"]


def test_quantile_scores_split_distinct_values_into_equal_bins() -> None:
    rows = [(f"c{i:02d}", "2024-01-01", float(i + 1)) for i in range(10)]
    result = lealta.rfm(orders(rows)).sort_values("monetary")
    assert result.m_score.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_all_equal_values_get_the_middle_score_with_a_note() -> None:
    rows = [(c, "2024-01-01", 10.0) for c in "abcde"]
    result = lealta.rfm(orders(rows))
    assert set(result.m_score) == {3}
    assert any("same monetary" in note for note in result.attrs["lealta"]["notes"])


def test_one_customer_gets_middle_scores_and_a_note() -> None:
    result = lealta.rfm(orders([("a", "2024-01-01", 10.0)]))
    assert result.loc[0, ["r_score", "f_score", "m_score"]].tolist() == [3, 3, 3]
    assert result.attrs["lealta"]["notes"] == ["only one customer: every score is the middle score"]


def test_best_one_mirrors_the_scale() -> None:
    rows = [(f"c{i}", f"2024-01-{i + 1:02d}", float(i + 1)) for i in range(5)]
    five = by_customer(lealta.rfm(orders(rows)))
    one = by_customer(lealta.rfm(orders(rows), best=1))
    assert (one.m_score == 6 - five.m_score).all()
    assert (one.segment == five.segment).all()
    assert one.loc["c4", "r_score"] == 1  # the most recent is best, and best is 1


def test_reverse_recency_scores_the_longest_ago_buyer_best() -> None:
    rows = [(f"c{i}", f"2024-01-{i + 1:02d}", 10.0) for i in range(5)]
    normal = by_customer(lealta.rfm(orders(rows)))
    reverse = by_customer(lealta.rfm(orders(rows), reverse_recency=True))
    assert normal.loc["c4", "r_score"] == 5
    assert reverse.loc["c0", "r_score"] == 5
    assert reverse.loc["c4", "r_score"] == 1


def test_thresholds_replace_quantiles_with_right_closed_intervals() -> None:
    rows = [("a", "2024-01-01", 10.0), ("b", "2024-01-01", 50.0), ("c", "2024-01-01", 51.0)]
    result = by_customer(lealta.rfm(orders(rows), thresholds={"m": [10, 50, 100]}))
    assert result.m_score.to_dict() == {"a": 1, "b": 2, "c": 3}


def test_recency_thresholds_give_the_best_level_to_the_most_recent() -> None:
    rows = [("a", "2024-03-30", 10.0), ("b", "2024-01-01", 10.0)]
    result = by_customer(lealta.rfm(orders(rows), as_of="2024-04-01", thresholds={"r": [30, 90]}))
    assert result.r_score.to_dict() == {"a": 3, "b": 1}


def test_scores_are_computed_within_each_group() -> None:
    rows = [("a", "2024-01-01", 10.0), ("b", "2024-01-01", 20.0)] * 2
    frame = orders(rows, channel=["web", "web", "store", "store"])
    frame.loc[2:, "amount"] = [1000.0, 2000.0]
    result = lealta.rfm(frame, group=["channel"])
    top = result.sort_values("monetary").groupby("channel").m_score.last()
    assert top.to_dict() == {"store": result.m_score.max(), "web": result.m_score.max()}
    assert list(result.columns[:2]) == ["channel", "customer_id"]


def test_rfmp_promptness_counts_days_late_and_open_invoices_past_due() -> None:
    frame = orders(
        [("a", "2024-01-01", 10.0), ("b", "2024-01-01", 10.0), ("c", "2024-01-01", 10.0)],
        due_date=["2024-01-15", "2024-01-15", "2024-01-15"],
        paid_date=["2024-01-10", "2024-01-25", None],
    )
    result = by_customer(lealta.rfm(frame, as_of="2024-02-01", payment="promptness"))
    assert result.payment.to_dict() == {"a": 0.0, "b": 10.0, "c": 17.0}
    assert result.p_score.to_dict()["a"] > result.p_score.to_dict()["c"]
    assert len(result.loc["a", "rfm_code"]) == 4


def test_rfmp_by_method_uses_the_given_ranking() -> None:
    frame = orders(
        [("a", "2024-01-01", 10.0), ("b", "2024-01-01", 10.0)], payment_method=["Card", "invoice"]
    )
    result = by_customer(
        lealta.rfm(frame, payment="method", payment_ranking={"card": 5, "invoice": 1})
    )
    assert result.payment.to_dict() == {"a": 5.0, "b": 1.0}
    assert result.loc["a", "p_score"] > result.loc["b", "p_score"]


def test_rfmp_without_payment_columns_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="due-date"):
        lealta.rfm(orders([("a", "2024-01-01", 1.0)]), payment="promptness")


def test_a_file_without_usable_rows_says_why() -> None:
    frame = orders([("a", "2024-01-01", -1.0)])
    with pytest.raises(InvalidInput, match="amount is zero or negative: 1"):
        lealta.rfm(frame)


def test_the_best_value_gets_the_top_score_however_many_share_it() -> None:
    paid = ["2024-01-10"] * 8 + ["2024-01-20", "2024-02-20"]
    rows = [(f"c{i}", "2024-01-01", 10.0) for i in range(10)]
    frame = orders(rows, due_date=["2024-01-15"] * 10, paid_date=paid)
    result = by_customer(lealta.rfm(frame, as_of="2024-03-01", payment="promptness"))
    assert set(result.loc[[f"c{i}" for i in range(8)], "p_score"]) == {5}
    assert result.loc["c9", "p_score"] == 1
    assert 1 <= result.loc["c8", "p_score"] < 5


def test_a_customer_without_a_payment_value_keeps_their_group_and_scores() -> None:
    frame = orders(
        [("a", "2024-01-01", 10.0), ("b", "2024-01-02", 20.0), ("c", "2024-01-03", 30.0)],
        channel=["web", "web", "web"],
        payment_method=["card", "invoice", "cash"],
    )
    result = by_customer(
        lealta.rfm(
            frame, group=["channel"], payment="method", payment_ranking={"card": 5, "invoice": 1}
        )
    )
    assert result.channel.tolist() == ["web", "web", "web"]
    assert result.p_score.isna().tolist() == [False, False, True]
    assert result.loc["c", "rfm_code"].endswith("-")
