from __future__ import annotations

import pytest

from lealta.errors import InvalidInput, MissingColumn
from lealta.orders.columns import detect_columns

UCI = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
]


def test_the_uci_online_retail_columns_are_detected() -> None:
    found = detect_columns(UCI)
    roles = found.columns.roles()
    assert roles == {
        "customer": "CustomerID",
        "date": "InvoiceDate",
        "order": "InvoiceNo",
        "quantity": "Quantity",
        "price": "UnitPrice",
    }
    assert set(found.how.values()) == {"detected"}


def test_the_cdnow_and_r_rfm_columns_are_detected() -> None:
    cdnow = detect_columns(["customer_id", "date", "number_of_cds", "dollar_value"]).columns
    assert (cdnow.customer, cdnow.date, cdnow.amount) == ("customer_id", "date", "dollar_value")
    r_rfm = detect_columns(["customer_id", "order_date", "revenue", "first_name", "last_name"])
    assert r_rfm.columns.amount == "revenue"
    assert (r_rfm.columns.first_name, r_rfm.columns.last_name) == ("first_name", "last_name")


def test_given_columns_are_matched_ignoring_case_and_spaces() -> None:
    assert detect_columns(UCI, {"customer": " customerid"}).columns.customer == "CustomerID"


def test_given_columns_win_over_detection() -> None:
    found = detect_columns(
        ["buyer", "when", "total", "customer_id"], {"customer": "buyer", "date": "when"}
    )
    assert found.columns.customer == "buyer"
    assert found.how["customer"] == "given"


def test_a_misspelled_column_gets_a_suggestion() -> None:
    with pytest.raises(MissingColumn, match="did you mean 'CustomerID'") as error:
        detect_columns(UCI, {"customer": "CustmerID"})
    assert error.value.field == "customer"


def test_a_missing_amount_is_reported_with_the_options_to_fix_it() -> None:
    with pytest.raises(MissingColumn, match="--amount, or --quantity and --price"):
        detect_columns(["customer_id", "order_date"])


def test_a_missing_customer_column_names_the_option() -> None:
    with pytest.raises(MissingColumn, match="--customer"):
        detect_columns(["order_date", "amount"])


def test_group_columns_must_exist() -> None:
    with pytest.raises(MissingColumn, match="channel"):
        detect_columns(["customer_id", "order_date", "amount"], groups=("channel",))


@pytest.mark.parametrize(
    ("group", "words"),
    [("customer_id", "customer id"), ("first_name", "first name"), ("E-Mail", "e-mail")],
)
def test_a_column_that_says_who_the_customer_is_cannot_be_a_group(group: str, words: str) -> None:
    columns = ["customer_id", "order_date", "amount", "first_name", "E-Mail", "country"]
    with pytest.raises(InvalidInput, match=f"customer's {words}, so it cannot be a group") as found:
        detect_columns(columns, groups=(group,))
    assert found.value.field == "group"
    assert detect_columns(columns, groups=("country",)).columns.groups == ("country",)
