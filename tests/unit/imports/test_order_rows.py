"""Order rows to ``Order Completed`` messages: order level, line level, duplicates."""

from __future__ import annotations

from typing import Any

from lealta.imports.files import Row
from lealta.imports.orders import OrderRows, OrderSettings
from lealta.imports.outcomes import Outcome, Ready
from lealta.imports.rejects import Rejection

LINES = {
    "order": "InvoiceNo", "user_id": "CustomerID", "date": "InvoiceDate",
    "quantity": "Quantity", "price": "UnitPrice", "sku": "StockCode",
}  # fmt: skip
ORDERS = {"order": "order_id", "email": "email", "date": "date", "amount": "total"}


def line_rows(*records: tuple[str, str, str, str, str]) -> list[Row]:
    header = ("InvoiceNo", "CustomerID", "InvoiceDate", "Quantity", "UnitPrice")
    return [
        Row(i + 2, {**dict(zip(header, r, strict=True)), "StockCode": f"S{i}"})
        for i, r in enumerate(records)
    ]


def run(converter: OrderRows, *chunks: list[Row]) -> list[Outcome]:
    out: list[Outcome] = []
    for chunk in chunks:
        out += converter.feed(chunk)
    return out + converter.finish()


def ready(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [o.message for o in outcomes if isinstance(o, Ready)]


def rejected(outcomes: list[Outcome]) -> list[tuple[int, str, str]]:
    return [(o.line, o.field, o.reason) for o in outcomes if isinstance(o, Rejection)]


def test_consecutive_lines_make_one_order_even_across_chunks() -> None:
    rows = line_rows(
        ("536365", "17850", "2010-12-01 08:26:00", "6", "2.55"),
        ("536365", "17850", "2010-12-01 08:26:00", "2", "3.39"),
        ("536366", "13047", "2010-12-01 08:28:00", "1", "0"),
    )
    converter = OrderRows(LINES, OrderSettings())
    assert converter.line_level
    out = run(converter, rows[:1], rows[1:])
    first, second = ready(out)
    assert first["messageId"] == "order:536365"
    assert first["userId"] == "17850"
    assert first["properties"]["total"] == 22.08
    assert [p["sku"] for p in first["properties"]["products"]] == ["S0", "S1"]
    assert first["properties"]["currency"] == "EUR"
    assert second["properties"]["total"] == 0.0
    assert rejected(out) == []


def test_a_bad_line_rejects_its_whole_order_and_says_why_for_each_line() -> None:
    rows = line_rows(
        ("C536379", "14527", "2010-12-01 09:41:00", "1", "27.50"),
        ("C536379", "14527", "2010-12-01 09:41:00", "-1", "27.50"),
        ("536380", "", "2010-12-01 09:41:00", "1", "1"),
        ("536381", "15311", "not a date", "1", "1"),
        ("536382", "15311", "2010-12-01 09:41:00", "x", "1"),
        ("536383", "15311", "2010-12-01 09:41:00", "1", "-2"),
    )
    out = run(OrderRows(LINES, OrderSettings()), rows)
    assert ready(out) == []
    reasons = rejected(out)
    assert reasons[0][:2] == (3, "Quantity")
    assert "negative" in reasons[0][2]
    assert reasons[1] == (2, "InvoiceNo", "order C536379 not imported: line 3 was rejected")
    assert reasons[2] == (4, "CustomerID", "missing customer identifier")
    assert reasons[3][:2] == (5, "InvoiceDate")
    assert reasons[4][:2] == (6, "Quantity")
    assert reasons[5][:2] == (7, "UnitPrice")


def test_lines_of_one_order_must_name_one_customer() -> None:
    rows = line_rows(
        ("1", "a", "2010-12-01", "1", "1"),
        ("1", "b", "2010-12-01", "1", "1"),
    )
    out = run(OrderRows(LINES, OrderSettings()), rows)
    assert [r[:2] for r in rejected(out)] == [(2, "CustomerID"), (3, "CustomerID")]
    assert "different customers" in rejected(out)[0][2]


def order_row(line: int, order_id: str, email: str, total: str, date: str = "2025-01-05") -> Row:
    return Row(line, {"order_id": order_id, "email": email, "date": date, "total": total})


def test_order_level_rows_and_repeated_ids() -> None:
    rows = [
        order_row(2, "A", "ana@example.com", "10.00"),
        order_row(3, "B", "ben@example.com", "5"),
        order_row(4, "A", "ana@example.com", "10.00"),  # the same order again: skipped
        order_row(5, "B", "ben@example.com", "7"),  # same id, other content: rejected
        order_row(6, "C", "not-an-email", "1"),
        order_row(7, "D", "dan@example.com", "-3"),
        order_row(8, "", "dan@example.com", "3"),
        order_row(9, "E", "dan@example.com", ""),
    ]
    converter = OrderRows(ORDERS, OrderSettings())
    assert not converter.line_level
    out = run(converter, rows)
    assert [m["messageId"] for m in ready(out)] == ["order:A", "order:B"]
    assert converter.duplicates == 1
    assert rejected(out) == [
        (5, "order_id", "order id 'B' already appears on line 3 with different content"),
        (6, "email", "'not-an-email' is not an e-mail address"),
        (7, "total", "-3 is negative"),
        (8, "order_id", "missing order id"),
        (9, "total", "missing amount"),
    ]
    message = ready(out)[0]
    assert message["anonymousId"].startswith("lealta-email-")
    assert message["context"]["traits"]["email"] == "ana@example.com"


def test_an_order_too_big_for_one_message_keeps_what_fits() -> None:
    rows = [
        Row(
            i + 2,
            {
                "InvoiceNo": "BIG",
                "CustomerID": "1",
                "InvoiceDate": "2010-12-01",
                "Quantity": "1",
                "UnitPrice": "1.00",
                "StockCode": f"SKU-{i:05d}" + "x" * 60,
            },
        )
        for i in range(700)
    ]
    (message,) = ready(run(OrderRows(LINES, OrderSettings()), rows))
    properties = message["properties"]
    assert properties["total"] == 700.0
    kept = len(properties["products"])
    assert 0 < kept < 700
    assert properties["products_omitted"] == 700 - kept
