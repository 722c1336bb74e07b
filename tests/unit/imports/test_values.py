"""Reading single cells."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lealta.errors import InvalidInput
from lealta.imports import values as v


def test_text_trims_and_treats_empty_as_missing() -> None:
    assert v.text("  a b ") == "a b"
    assert v.text("   ") is None
    assert v.text(None) is None
    assert v.text(17850.0) == "17850"
    assert v.text(float("nan")) is None


def test_amounts_are_rounded_to_cents_and_never_negative() -> None:
    assert v.amount("10.005", "amount") == Decimal("10.01")
    assert v.amount(3, "amount") == Decimal("3.00")
    assert v.amount("", "amount") is None
    with pytest.raises(InvalidInput, match="negative") as error:
        v.amount("-1", "Total")
    assert error.value.field == "Total"
    with pytest.raises(InvalidInput, match="not a number"):
        v.amount("12,50 €", "amount")
    with pytest.raises(InvalidInput, match="finite"):
        v.amount("Infinity", "amount")


def test_whole_numbers() -> None:
    assert v.whole("6", "q") == 6
    assert v.whole(" -2 ", "q") == -2
    with pytest.raises(InvalidInput, match="whole"):
        v.whole("1.5", "q")


def test_moments_read_iso_then_the_given_format_and_default_to_utc() -> None:
    utc = dt.UTC
    assert v.moment("2010-12-01 08:26:00", "d") == dt.datetime(2010, 12, 1, 8, 26, tzinfo=utc)
    assert v.moment("2025-03-01T10:00:00+02:00", "d") == dt.datetime(2025, 3, 1, 8, tzinfo=utc)
    assert v.moment("01/12/2010 08:26", "d", "%d/%m/%Y %H:%M") == dt.datetime(
        2010, 12, 1, 8, 26, tzinfo=utc
    )
    assert v.moment(dt.date(2024, 1, 5), "d") == dt.datetime(2024, 1, 5, tzinfo=utc)
    assert v.moment("", "d") is None
    with pytest.raises(InvalidInput, match="not a date") as error:
        v.moment("20240105", "InvoiceDate")  # compact dates only with --date-format
    assert error.value.field == "InvoiceDate"
    with pytest.raises(InvalidInput):
        v.moment("2024-02-30", "d")


def test_days_take_the_date_part_of_a_date_time_format() -> None:
    assert v.day("05/01/2024", "due", "%d/%m/%Y %H:%M") == dt.date(2024, 1, 5)
    assert v.day("2024-01-05", "due") == dt.date(2024, 1, 5)


def test_json_objects() -> None:
    assert v.json_object('{"a": 1}', "properties") == {"a": 1}
    assert v.json_object("", "properties") is None
    with pytest.raises(InvalidInput, match="not valid JSON"):
        v.json_object("{a: 1}", "properties")
    with pytest.raises(InvalidInput, match="JSON object"):
        v.json_object("[1]", "properties")


def test_scalars_keep_text_that_only_looks_numeric() -> None:
    assert v.scalar("12.5") == 12.5
    assert v.scalar("true") is True
    assert v.scalar("00123") == "00123"
    assert v.scalar("2024-01-05") == "2024-01-05"
    assert v.scalar("red") == "red"
