"""The contact page's pure parts: the small charts, the words it uses, and its kind filter."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from lealta.console import profile_words as words
from lealta.console.profile_page import KIND_LABELS, _href, display_name
from lealta.console.sparklines import Point, Step, score_line, short_date, stage_path
from lealta.contacts.history import Reaction, SegmentMove, SentMessage
from lealta.contacts.schemas import RfmOut, TimelineEntry
from lealta.contacts.timeline_kinds import FILTERS, check_kind
from lealta.errors import InvalidInput

NOW = dt.datetime(2030, 3, 10, 15, 0, tzinfo=dt.UTC)  # an injected "now", never the real clock


def _ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def test_a_score_line_steps_from_change_to_change_and_runs_on_to_now() -> None:
    points = [Point(_ago(30), 5, "+5 by form"), Point(_ago(10), 20, "+15 by demo")]
    svg = score_line(points, now=NOW, title="Lead score", width=360, height=120)
    path = re.search(r'<path d="([^"]+)"', svg)
    assert path is not None
    assert re.fullmatch(r"M[\d.]+,[\d.]+H[\d.]+V[\d.]+H352\.0", path[1])  # ends at the right edge
    dots = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)
    assert len(dots) == 2
    assert float(dots[1][1]) < float(dots[0][1])  # the higher score is drawn higher
    assert "<title>2030-02-08 15:00 UTC: 5.0 (+5 by form)</title>" in svg
    assert "<title>2030-02-28 15:00 UTC: 20.0 (+15 by demo)</title>" in svg
    assert 'aria-label="Lead score"' in svg


def test_a_score_line_escapes_its_notes_and_is_empty_without_points() -> None:
    svg = score_line([Point(_ago(1), 3, "<b>rule</b>")], now=NOW, title="x")
    assert "<b>" not in svg
    assert "&lt;b&gt;rule&lt;/b&gt;" in svg
    assert score_line([], now=NOW, title="x") == ""


def test_a_faded_score_ends_the_line_with_a_hollow_dot_at_now() -> None:
    svg = score_line([Point(_ago(30), 20)], now=NOW, title="x", current=12.5)
    assert "<title>now: 12.5 (points fade with time)</title>" in svg
    assert 'fill="#fff"' in svg
    same = score_line([Point(_ago(30), 20)], now=NOW, title="x", current=20.0)
    assert "points fade" not in same


def test_a_negative_score_keeps_zero_inside_the_chart() -> None:
    svg = score_line([Point(_ago(3), -4), Point(_ago(1), 6)], now=NOW, title="x", height=120)
    labels = re.findall(r"<text [^>]*>(-?\d+)</text>", svg)
    assert labels[:2] == ["6", "-4"]


def test_a_stage_path_labels_each_step_with_its_date_and_returns_to_a_stage_level() -> None:
    steps = [
        Step(_ago(400), "Lead", "rule form"),
        Step(_ago(60), "Customer"),
        Step(_ago(20), "At Risk"),
        Step(_ago(2), "Customer"),
    ]
    svg = stage_path(steps, now=NOW, title="Stages")
    assert re.findall(r'font-weight="600">([^<]+)<', svg) == [
        "Lead",
        "Customer",
        "At Risk",
        "Customer",
    ]
    assert "3 Feb 2029" in svg  # another year says its year
    assert "8 Mar<" in svg
    assert "<title>Lead from 2029-02-03 15:00 UTC (rule form)</title>" in svg
    levels = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', svg)]
    assert levels[1] == levels[3]  # back to Customer, back to its height
    assert levels[0] > levels[1] > levels[2]  # each new stage a step up
    assert stage_path([], now=NOW, title="x") == ""


def test_short_dates_say_the_year_only_when_it_is_not_this_one() -> None:
    assert short_date(dt.datetime(2030, 11, 3, tzinfo=dt.UTC), NOW) == "3 Nov"
    assert short_date(dt.datetime(2029, 11, 3, tzinfo=dt.UTC), NOW) == "3 Nov 2029"


def _rfm(recency: int, frequency: int, monetary: float) -> RfmOut:
    return RfmOut(
        segment="Champions",
        code="555",
        r=5,
        f=5,
        m=5,
        p=None,
        recency_days=recency,
        frequency=frequency,
        monetary=monetary,
        cluster_name=None,
        as_of=NOW,
    )


def test_rfm_in_words_with_the_currency_when_there_is_one() -> None:
    assert (
        words.rfm_sentence(_rfm(34, 5, 412.0), {"EUR": Decimal("412")})
        == "Last order 34 days ago, 5 orders, €412 spent"
    )
    assert (
        words.rfm_sentence(_rfm(1, 1, 19.9), {"EUR": 1, "USD": 2})
        == "Last order yesterday, 1 order, 19.90 spent"
    )
    assert words.amount(Decimal("1234.5"), "CHF") == "1,234.50 CHF"


def test_segment_moves_in_words() -> None:
    assert words.move_text(SegmentMove(NOW, "At Risk", "Champions")) == "At Risk → Champions"
    assert words.move_text(SegmentMove(NOW, None, "New Customers")) == "Entered New Customers"
    assert words.move_text(SegmentMove(NOW, "Hibernating", None)) == "Left Hibernating"


def _event(name: str, **properties: object) -> TimelineEntry:
    return TimelineEntry(
        at=NOW, kind="event", title=name, details={"name": name, "properties": properties}
    )


def test_timeline_notes_say_what_and_who() -> None:
    by = "console:ana@example.com"
    assert words.entry_note(_event("Tag Added", tag="vip", by=by)) == ("“vip”", by)
    assert words.entry_note(_event("List Joined", list="news", source=by)) == ("“news”", by)
    assert words.entry_note(_event("List Joined", list="news", source="form")) == ("“news”", "")
    assert words.entry_note(_event("Attribute Changed", attribute="city", value=None, by=by)) == (
        "city removed",
        by,
    )
    clicked = _event("Email Clicked", template="spring", channel="email", url="https://x.example/")
    assert words.entry_note(clicked) == ("spring (email) → https://x.example/", "")
    consent = TimelineEntry(
        at=NOW,
        kind="consent",
        title="Consent email granted (via console)",
        details={"proof": {"by": by}},
    )
    assert words.entry_note(consent) == ("", by)


def test_events_are_badged_by_their_family() -> None:
    assert words.family(_event("Email Opened")) == "message"
    assert words.family(_event("Segment Entered")) == "segment"
    assert words.family(_event("Voucher Redeemed")) == "voucher"
    assert words.family(_event("Product Viewed")) == "event"


def _message(status: str, **reactions: Reaction) -> SentMessage:
    return SentMessage(
        id=1,
        channel="email",
        template="spring",
        subject="Spring sale",
        status=status,
        created_at=_ago(3),
        sent_at=_ago(3) if status == "sent" else None,
        not_before=NOW + dt.timedelta(hours=9),
        error="quiet hours 21:00-08:00 in Europe/Rome" if status == "held" else None,
        workflow=None,
        reactions=dict(reactions),
    )


def test_a_message_status_and_its_reactions_in_words() -> None:
    assert words.message_status(_message("sent"), NOW) == "sent 7 Mar"
    assert words.message_status(_message("held"), NOW) == (
        "held until 2030-03-11 00:00 UTC: quiet hours 21:00-08:00 in Europe/Rome"
    )
    reacted = _message(
        "sent",
        clicked=Reaction(1, _ago(2), _ago(2)),
        opened=Reaction(3, _ago(3), _ago(1)),
    )
    assert words.reaction_words(reacted, NOW) == ["opened 3 times (first 7 Mar)", "clicked (8 Mar)"]


def test_vouchers_in_words() -> None:
    assert words.voucher_value("percent", Decimal("10.00"), None) == "10% off"
    assert words.voucher_value("amount", Decimal("5.00"), "EUR") == "€5 off"
    assert words.voucher_state(None, _ago(1), "A7", NOW) == ("redeemed", "used 9 Mar by order A7")
    assert words.voucher_state(_ago(1), None, None, NOW) == ("expired", "expired 9 Mar")
    assert words.voucher_state(None, None, None, NOW) == ("valid", "never expires")


def test_every_filter_has_a_link_and_an_unknown_kind_names_the_field() -> None:
    assert set(KIND_LABELS) == {"", *FILTERS}
    assert check_kind("") is None
    assert check_kind("message") == "message"
    with pytest.raises(InvalidInput) as refused:
        check_kind("fax")
    assert refused.value.field == "kind"


def test_paging_links_keep_the_kind_and_vanish_at_the_end() -> None:
    assert _href("c 1", kind="order", before="T~order~3", anchor="timeline") == (
        "/contacts/c%201?kind=order&before=T~order~3#timeline"
    )
    assert _href("c1", orders_before=None, anchor="orders") == ""
    assert display_name({"first_name": "Ana"}, ["a@x.example"], "c1") == "Ana"
    assert display_name({}, [], "c1") == "c1"
