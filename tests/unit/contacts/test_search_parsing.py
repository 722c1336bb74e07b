"""Search parameters: attribute filters and page cursors."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lealta.contacts.search import decode_cursor, encode_cursor, parse_attribute_filter
from lealta.errors import InvalidInput


def test_an_attribute_filter_is_name_colon_value() -> None:
    assert parse_attribute_filter("city:Lisbon") == ("city", "Lisbon")
    assert parse_attribute_filter("note:a:b") == ("note", "a:b")
    assert parse_attribute_filter("empty:") == ("empty", "")


@pytest.mark.parametrize("text", ["city", ":Lisbon", "9city:x", "ci ty:x"])
def test_a_bad_attribute_filter_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_attribute_filter(text)


@given(
    created=st.datetimes(timezones=st.just(dt.UTC)),
    contact_id=st.text(alphabet="0123456789abcdef", min_size=1, max_size=32),
)
def test_a_page_cursor_reads_back_as_written(created: dt.datetime, contact_id: str) -> None:
    assert decode_cursor(encode_cursor(created, contact_id)) == (created, contact_id)


def test_a_naive_time_in_a_cursor_is_utc() -> None:
    cursor = encode_cursor(dt.datetime(2025, 1, 1, 12), "abc")
    assert decode_cursor(cursor) == (dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC), "abc")


@pytest.mark.parametrize("cursor", ["!!", "bm90IGpzb24", "WzEsMiwzXQ"])
def test_a_forged_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(cursor)
    assert caught.value.field == "cursor"
