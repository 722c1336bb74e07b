"""The shortcut before the cancellation regex: the characters every match starts with."""

from __future__ import annotations

import re

import pytest

from lealta.orders.cleaning import leading_characters


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("^[Cc][0-9]", ("C", "c")),
        ("^C", ("C",)),
        ("^X+", ("X",)),
        ("^[A-D]x", ("A", "B", "C", "D")),
        ("^[0-2]", ("0", "1", "2")),
    ],
)
def test_plain_anchored_patterns_give_their_first_characters(
    pattern: str, expected: tuple[str, ...]
) -> None:
    assert leading_characters(pattern) == expected


@pytest.mark.parametrize(
    "pattern",
    [
        "[Cc]",  # not anchored: a match may start anywhere
        "^C|^R",  # alternatives
        "^C?x",  # the first item is optional
        "^C*",
        "^[0-9]{0,2}x",
        "^[^C]",  # negated class
        "^\\d",  # escapes are not read
        "^(C)",
        "^[C-]",
        "^[Z-A]",
        "^[a-z]",  # more characters than worth a LIKE each
        "(?i)^c",
        "^é",
    ],
)
def test_other_patterns_give_no_shortcut(pattern: str) -> None:
    assert leading_characters(pattern) is None


@pytest.mark.parametrize("pattern", ["^[Cc][0-9]", "^C", "^X+", "^[A-D]x", "^[0-2]"])
def test_every_match_starts_with_one_of_the_characters(pattern: str) -> None:
    first = leading_characters(pattern)
    assert first is not None
    samples = ["C1", "c9", "C", "X", "XX", "Ax", "Dx", "0", "2a", "x", "1C", "", "Ex", "3"]
    for text in samples:
        if re.search(pattern, text):
            assert text[:1] in first, (pattern, text)


@pytest.mark.parametrize(
    "characters", [("C", "c"), ("A", "B", "C", "D"), (" ",), ("0", "1", "2"), ("z", "Z", "9")]
)
def test_a_range_test_finds_exactly_the_values_that_start_with_the_characters(
    characters: tuple[str, ...],
) -> None:
    import ibis
    import pyarrow as pa

    from lealta.engines import connect
    from lealta.orders.cleaning import starts_with_one_of

    values = [
        "C1", "c9", "C", "X", "Ax", "Dx", "Ex", "0", "2a", "3", "x", "1C", "", None, " C1",
        "Ç1", "CC", "B", "D", "é", "\x7f", "C\x00", "!", "z", "{", "9", ":", "Z", "[",
    ]  # fmt: skip
    table = ibis.memtable(pa.table({"v": pa.array(values, pa.string())}))
    rows = connect("duckdb").rows(table.select("v", s=starts_with_one_of(table.v, characters)))
    for row in rows:
        expected = None if row["v"] is None else row["v"][:1] in characters
        assert row["s"] == expected, row
