from __future__ import annotations

from lealta.orders.dates import ISO, detect_format, to_java


def test_iso_dates_and_timestamps_are_recognised() -> None:
    assert detect_format(["2010-12-01 08:26:00", "2011-01-02"]) == (ISO, [])


def test_compact_dates_are_recognised() -> None:
    assert detect_format(["19970101", "19971231"])[0] == "%Y%m%d"


def test_us_dates_of_the_original_uci_file_are_recognised() -> None:
    fmt, notes = detect_format(["12/1/2010 8:26", "12/13/2010 14:05"])
    assert fmt == "%m/%d/%Y %H:%M"
    assert notes == []


def test_day_first_dates_are_recognised_when_the_day_exceeds_twelve() -> None:
    assert detect_format(["25/12/2024", "01/02/2024"])[0] == "%d/%m/%Y"


def test_ambiguous_day_and_month_is_noted() -> None:
    fmt, notes = detect_format(["01/02/2024", "03/04/2024"])
    assert fmt == "%m/%d/%Y"
    assert "choose with --date-format" in notes[0]


def test_unknown_formats_give_none() -> None:
    assert detect_format(["yesterday"]) == (None, [])


def test_formats_translate_to_spark_patterns() -> None:
    assert to_java("%Y%m%d") == "yyyyMMdd"
    assert to_java("%d|%m|%Y") == "d|M|yyyy"
