"""The synthetic shop: exact sizes, determinism, and patterns an RFM analysis must find."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from lealta.demo.shop import (
    CATEGORIES,
    CHANNELS,
    COUNTRIES,
    PAYMENT_METHODS,
    generate_orders,
    iter_orders,
    write_orders,
)
from lealta.errors import InvalidInput

END = date(2025, 12, 31)


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    frame: pd.DataFrame = generate_orders(customers=3000, seed=7).to_pandas()
    return frame


@pytest.fixture(scope="module")
def per_customer(orders: pd.DataFrame) -> pd.DataFrame:
    return orders.groupby("customer_id").agg(
        count=("order_id", "size"),
        first=("order_date", "min"),
        last=("order_date", "max"),
        revenue=("amount", "sum"),
    )


def test_the_same_seed_gives_an_identical_table() -> None:
    assert generate_orders(customers=300, seed=3).equals(generate_orders(customers=300, seed=3))


def test_another_seed_gives_other_orders() -> None:
    assert not generate_orders(orders=500, seed=1).equals(generate_orders(orders=500, seed=2))


def test_the_batch_size_changes_where_the_stream_is_cut_but_not_the_rows() -> None:
    small = list(iter_orders(customers=300, batch_rows=100))
    large = list(iter_orders(customers=300, batch_rows=1_000_000))
    assert len(small) > len(large) == 1
    assert pa.Table.from_batches(small).equals(pa.Table.from_batches(large))


@pytest.mark.parametrize("size", [1, 7, 999, 5000])
def test_asking_for_n_orders_gives_exactly_n_rows(size: int) -> None:
    assert generate_orders(orders=size).num_rows == size


def test_asking_for_orders_gives_about_one_customer_per_ten_orders() -> None:
    table = generate_orders(orders=20_000)
    assert 1900 <= len(table["customer_id"].unique()) <= 2000


def test_asking_for_customers_gives_exactly_that_many_with_about_ten_orders_each() -> None:
    table = generate_orders(customers=400)
    assert len(table["customer_id"].unique()) == 400
    assert 3000 <= table.num_rows <= 5000


def test_columns_and_types_are_those_of_an_order_export() -> None:
    text = pa.string()
    assert generate_orders(orders=50).schema == pa.schema(
        [
            ("order_id", text),
            ("customer_id", text),
            ("email", text),
            ("first_name", text),
            ("last_name", text),
            ("order_date", pa.timestamp("s")),
            ("amount", pa.float64()),
            ("currency", text),
            ("items", pa.int64()),
            ("category", text),
            ("channel", text),
            ("payment_method", text),
            ("due_date", pa.date32()),
            ("paid_date", pa.date32()),
            ("country", text),
        ]
    )


def test_order_ids_are_unique_and_follow_the_order_date(orders: pd.DataFrame) -> None:
    assert orders["order_id"].is_unique
    assert orders["order_id"].iloc[0] == "SO-0000001"
    assert orders["order_id"].is_monotonic_increasing
    assert orders["order_date"].is_monotonic_increasing


def test_each_customer_has_one_unique_email_under_example_com(orders: pd.DataFrame) -> None:
    emails = orders.groupby("customer_id")["email"].nunique()
    assert (emails == 1).all()
    assert orders["email"].nunique() == orders["customer_id"].nunique()
    assert orders["email"].str.fullmatch(r"[a-z._]+\d+@example\.com").all()
    assert orders["customer_id"].str.fullmatch(r"C\d{6}").all()


def test_every_value_comes_from_its_allowed_set(orders: pd.DataFrame) -> None:
    assert set(orders["category"]) == set(CATEGORIES)
    assert set(orders["channel"]) == set(CHANNELS)
    assert set(orders["payment_method"]) == set(PAYMENT_METHODS)
    assert set(orders["country"]) == set(COUNTRIES)
    assert set(orders["currency"]) == {"EUR"}


def test_amounts_are_positive_with_cents_and_baskets_hold_an_item(orders: pd.DataFrame) -> None:
    assert (orders["amount"] > 0).all()
    assert (orders["amount"].round(2) == orders["amount"]).all()
    assert (orders["items"] >= 1).all()


def test_orders_fall_between_start_and_end() -> None:
    table = generate_orders(orders=2000, start=date(2023, 3, 1), end=date(2023, 5, 31))
    days = table.to_pandas()["order_date"].dt.date
    assert days.min() >= date(2023, 3, 1)
    assert days.max() <= date(2023, 5, 31)


def test_about_half_of_the_customers_buy_only_once(per_customer: pd.DataFrame) -> None:
    assert 0.45 <= (per_customer["count"] == 1).mean() <= 0.55


def test_loyal_customers_order_ten_times_or_more(per_customer: pd.DataFrame) -> None:
    assert (per_customer["count"] >= 10).sum() >= 100


def test_lapsed_regulars_stopped_buying_months_before_the_end(per_customer: pd.DataFrame) -> None:
    gone = per_customer["last"] < pd.Timestamp(END - timedelta(days=180))
    assert (gone & (per_customer["count"] >= 4)).sum() >= 20


def test_newcomers_placed_their_first_order_in_the_last_weeks(per_customer: pd.DataFrame) -> None:
    assert (per_customer["first"] >= pd.Timestamp(END - timedelta(days=42))).sum() >= 50


def test_a_fifth_of_the_customers_bring_half_the_revenue(per_customer: pd.DataFrame) -> None:
    revenue = per_customer["revenue"].sort_values(ascending=False)
    assert revenue.iloc[: len(revenue) // 5].sum() >= 0.5 * revenue.sum()


def test_after_apparel_the_next_order_turns_to_shoes_more_often_than_shop_wide(
    orders: pd.DataFrame,
) -> None:
    following = orders.groupby("customer_id")["category"].shift(-1)
    after_apparel = following[orders["category"] == "Apparel"].dropna()
    shop_wide = (orders["category"] == "Shoes").mean()
    assert (after_apparel == "Shoes").mean() >= 1.5 * shop_wide


def test_sales_peak_in_november_and_december(orders: pd.DataFrame) -> None:
    per_month = orders["order_date"].dt.month.value_counts()
    assert per_month[[11, 12]].min() > per_month.drop([11, 12]).max()


def test_nobody_pays_before_ordering(orders: pd.DataFrame) -> None:
    paid = orders.dropna(subset=["paid_date"])
    assert (paid["paid_date"] >= paid["order_date"].dt.date).all()


def test_immediate_payments_are_due_and_paid_on_the_order_day(orders: pd.DataFrame) -> None:
    now = orders[orders["payment_method"].isin(["card", "paypal", "cash_on_delivery"])]
    day = now["order_date"].dt.date
    assert (now["due_date"] == day).all()
    assert (now["paid_date"] == day).all()


def test_invoices_are_due_after_14_or_30_days(orders: pd.DataFrame) -> None:
    later = orders[orders["payment_method"].isin(["invoice", "bank_transfer"])]
    terms = pd.to_datetime(later["due_date"]) - later["order_date"].dt.normalize()
    assert set(terms.dt.days) == {14, 30}


def test_some_invoices_are_paid_late_and_recent_ones_not_yet(orders: pd.DataFrame) -> None:
    paid = orders.dropna(subset=["paid_date"])
    late_days = (pd.to_datetime(paid["paid_date"]) - pd.to_datetime(paid["due_date"])).dt.days
    assert (late_days > 0).sum() >= 100
    assert (late_days > 60).sum() >= 5
    unpaid = orders[orders["paid_date"].isna()]
    assert 0 < len(unpaid) < 0.05 * len(orders)
    assert (unpaid["order_date"] >= pd.Timestamp(END - timedelta(days=240))).all()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({}, "customers"),
        ({"customers": 5, "orders": 5}, "customers"),
        ({"customers": 0}, "customers"),
        ({"orders": -1}, "orders"),
        ({"orders": 5, "seed": -1}, "seed"),
        ({"orders": 5, "start": date(2025, 1, 2), "end": date(2025, 1, 1)}, "start"),
    ],
)
def test_invalid_sizes_seeds_and_dates_are_refused(options: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        generate_orders(**options)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_an_unknown_extension_is_refused_naming_the_supported_ones(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"\.csv, \.csv\.gz, \.parquet, \.xlsx, \.jsonl"):
        write_orders(tmp_path / "orders.txt", orders=10)


def test_excel_refuses_more_orders_than_a_sheet_holds(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="Excel"):
        write_orders(tmp_path / "orders.xlsx", orders=1_048_576)
    assert list(tmp_path.iterdir()) == []


def test_progress_is_reported_for_every_row_written(tmp_path: Path) -> None:
    reported: list[int] = []
    rows = write_orders(tmp_path / "orders.parquet", orders=1234, progress=reported.append)
    assert rows == sum(reported) == 1234
