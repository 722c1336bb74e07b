"""The Segments page's view model: the movement matrix's rows, columns, totals and links."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from lealta.console.segments_page import day_label, matrix, move_sentence, moves_link, parse_day
from lealta.errors import InvalidInput
from lealta.segmentation.movements import Movements

START, END = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
FOUND = Movements(
    START,
    END,
    {
        ("Champions", "Champions"): 40,
        ("Champions", "At Risk"): 10,
        ("At Risk", None): 2,
        (None, "Champions"): 5,
    },
)


def test_rows_are_first_day_segments_then_new_and_columns_end_with_gone() -> None:
    shown = matrix(FOUND, ["Champions", "At Risk", "Lost"])
    assert [row["name"] for row in shown["rows"]] == ["Champions", "At Risk", "Not scored yet"]
    assert shown["columns"] == ["Champions", "At Risk", "No longer scored"]
    champions = shown["rows"][0]
    assert [c.count for c in champions["cells"]] == [40, 10, 0]
    assert champions["total"] == 50
    assert shown["totals"] == [45, 10, 2]
    assert shown["moved"] == 17
    assert (shown["start_label"], shown["end_label"]) == ("1 Oct 2026", "1 Nov 2026")


def test_stayers_are_grey_and_the_busiest_move_is_darkest() -> None:
    cells = matrix(FOUND, [])["rows"]
    stayed, moved = cells[1]["cells"][1], cells[1]["cells"][0]  # alphabetical: At Risk first
    assert cells[1]["name"] == "Champions"
    assert (stayed.stayed, stayed.level) == (True, 0)
    assert (moved.count, moved.level) == (10, 5)
    assert cells[0]["cells"][2].level == 1  # 2 of 10: the faintest shade, not none
    assert moved.label == "Champions to At Risk: 10 contacts"


def test_a_cell_links_to_the_people_who_made_that_move() -> None:
    link = matrix(FOUND, [])["rows"][2]["cells"][1].href  # New -> Champions
    parts = urlsplit(link)
    assert parts.path == "/segments/moves"
    assert parse_qs(parts.query, keep_blank_values=True) == {
        "from": ["2026-10-01"],
        "to": ["2026-11-01"],
        "was": [""],
        "now": ["Champions"],
    }
    assert "was=Can%27t+Lose+Them" in moves_link(START, END, "Can't Lose Them", None)


def test_rows_nobody_was_in_are_left_out_and_columns_kept() -> None:
    found = Movements(START, END, {("Lost", "Lost"): 3, ("Lost", "Champions"): 1})
    shown = matrix(found, ["Champions", "Lost"])
    assert [row["name"] for row in shown["rows"]] == ["Lost"]
    assert shown["columns"] == ["Champions", "Lost", "No longer scored"]


def test_dates_are_read_or_refused_naming_the_field() -> None:
    assert parse_day("", "from", START) == START
    assert parse_day("2026-02-03", "to", START) == dt.date(2026, 2, 3)
    with pytest.raises(InvalidInput) as refused:
        parse_day("03/02/2026", "to", START)
    assert refused.value.field == "to"
    assert day_label(dt.date(2026, 3, 9)) == "9 Mar 2026"


def test_a_move_is_said_in_words() -> None:
    assert move_sentence("Champions", "At Risk", "1 Oct", "1 Nov") == (
        "in Champions on 1 Oct and in At Risk on 1 Nov"
    )
    assert move_sentence(None, "Lost", "1 Oct", "1 Nov") == (
        "with no segment on 1 Oct and in Lost on 1 Nov"
    )
    assert move_sentence("Lost", None, "1 Oct", "1 Nov") == (
        "in Lost on 1 Oct and none any more on 1 Nov"
    )
    assert move_sentence("Lost", "Lost", "1 Oct", "1 Nov") == (
        "in Lost on 1 Oct and still there on 1 Nov"
    )
