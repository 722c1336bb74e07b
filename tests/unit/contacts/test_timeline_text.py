"""Timeline titles and cursors: the pure parts of the single customer view."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lealta.contacts.timeline import (
    Cursor,
    consent_title,
    event_title,
    format_cursor,
    number,
    order_title,
    parse_before,
    score_title,
    stage_title,
)
from lealta.errors import InvalidInput


@pytest.mark.parametrize(
    ("value", "text"),
    [(5.0, "5"), (2.5, "2.5"), (Decimal("2.50"), "2.5"), (-3.0, "-3"), (1 / 3, "0.33"), (0, "0")],
)
def test_numbers_read_as_people_write_them(value: float, text: str) -> None:
    assert number(value) == text


def test_titles_say_what_happened() -> None:
    assert order_title(Decimal("49.9"), "EUR") == "Order Completed · 49.90 EUR"
    assert stage_title("Prospect", "Lead", "form") == "Stage Prospect → Lead (rule form)"
    assert stage_title(None, "Prospect", "created") == "Stage → Prospect (rule created)"
    assert score_title(5, "pricing-page", 35) == "+5 points (pricing-page) → 35"
    assert score_title(-20, "unsubscribed", 12.5) == "-20 points (unsubscribed) → 12.5"
    assert score_title(1, "page-view", 1) == "+1 point (page-view) → 1"
    assert consent_title("email", "denied", "") == "Consent email denied"
    assert consent_title("sms", "granted", "form:news") == "Consent sms granted (via form:news)"


@pytest.mark.parametrize(
    ("kind", "name", "properties", "title"),
    [
        ("track", "Signed Up", {}, "Signed Up"),
        ("page", "Pricing", {"url": "https://x/pricing"}, "Viewed page Pricing"),
        ("page", None, {"path": "/cart"}, "Viewed page /cart"),
        ("page", None, {}, "Viewed a page"),
        ("screen", "Home", {}, "Viewed screen Home"),
        ("identify", None, {"email": "a@b.c", "city": "Porto"}, "Identified (city, email)"),
        ("identify", None, dict.fromkeys("abcdef", 1), "Identified (a, b, c, d, e …)"),
        ("identify", None, {}, "Identified"),
        ("alias", None, {"previousId": "anon-1"}, "Alias of anon-1"),
        ("group", "acme", {}, "Joined group acme"),
    ],
)
def test_event_titles(
    kind: str, name: str | None, properties: dict[str, object], title: str
) -> None:
    assert event_title(kind, name, properties) == title


def test_a_plain_time_means_strictly_before_it() -> None:
    assert parse_before("2025-03-01T10:00:00Z") == Cursor(
        dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC)
    )
    # A '+' that a URL turned into a space is read back as '+'.
    assert parse_before("2025-03-01T11:00:00 01:00").at == dt.datetime(
        2025, 3, 1, 10, tzinfo=dt.UTC
    )
    assert parse_before("2025-03-01T10:00:00").at.tzinfo == dt.UTC


@given(
    at=st.datetimes(timezones=st.just(dt.UTC)),
    kind=st.sampled_from(["consent", "event", "order", "score", "stage"]),
    row_id=st.integers(min_value=0, max_value=2**62),
)
def test_a_cursor_reads_back_as_written(at: dt.datetime, kind: str, row_id: int) -> None:
    cursor = Cursor(at, kind, row_id)
    assert parse_before(format_cursor(cursor)) == cursor


@pytest.mark.parametrize(
    "text", ["yesterday", "2025-03-01T10:00:00Z~event", "2025-03-01~party~1", "2025-03-01~event~x"]
)
def test_a_bad_before_names_the_parameter(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_before(text)
    assert caught.value.field == "before"
