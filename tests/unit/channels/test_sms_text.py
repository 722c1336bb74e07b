"""How long an SMS is: GSM-7 and UCS-2 lengths and segments, and STOP/START replies."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lealta.channels.sms_text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SmsSize,
    is_gsm7,
    measure,
    reply_keyword,
    segment_count,
)


def test_160_plain_characters_are_one_gsm7_message_and_161_are_two() -> None:
    assert measure("a" * 160) == SmsSize("GSM-7", 160, 1)
    assert measure("a" * 161) == SmsSize("GSM-7", 161, 2)
    assert segment_count("a" * 306) == 2
    assert segment_count("a" * 307) == 3


def test_accented_letters_of_the_gsm_alphabet_stay_gsm7() -> None:
    text = "Hola, ¿qué tal? Ñoño à Århus: 5 £ ¥ § ù"
    assert is_gsm7(text)
    assert measure(text).encoding == "GSM-7"
    assert not is_gsm7("ú")  # the alphabet has ù but not ú: "Ñandú" goes as UCS-2


def test_extension_characters_count_two_septets() -> None:
    assert measure("€") == SmsSize("GSM-7", 2, 1)
    assert measure("{[~]}\\^|") == SmsSize("GSM-7", 16, 1)
    assert measure("€" * 80) == SmsSize("GSM-7", 160, 1)
    assert measure("a" + "€" * 80) == SmsSize("GSM-7", 161, 2)


def test_an_extension_character_is_not_split_across_segments() -> None:
    # 152 septets, then "€" would straddle the 153-septet boundary: it opens segment two.
    text = "a" * 152 + "€" + "a" * 152
    assert measure(text).units == 306
    assert measure(text).segments == 3  # without the rule, 306 septets would fit in 2


def test_70_ucs2_characters_are_one_message_and_71_are_two() -> None:
    assert measure("ç" * 70) == SmsSize("UCS-2", 70, 1)
    assert measure("ç" * 71) == SmsSize("UCS-2", 71, 2)
    assert segment_count("ç" * 134) == 2
    assert segment_count("ç" * 135) == 3


def test_one_non_gsm_character_switches_the_whole_text_to_ucs2() -> None:
    text = "a" * 69 + "ł"
    assert measure(text) == SmsSize("UCS-2", 70, 1)
    assert measure("a" * 70 + "ł").segments == 2


def test_emoji_count_two_utf16_units_and_are_not_split() -> None:
    assert measure("👍") == SmsSize("UCS-2", 2, 1)
    assert measure("👍" * 35) == SmsSize("UCS-2", 70, 1)
    assert measure("👍" * 36).segments == 2
    # 66 units then an emoji: it cannot take the 67th unit alone, so it opens segment two.
    assert measure("ç" * 66 + "👍" + "ç" * 66).segments == 3


def test_an_empty_text_has_no_segments() -> None:
    assert measure("") == SmsSize("GSM-7", 0, 0)


def test_the_basic_alphabet_has_127_printable_characters_and_no_escape() -> None:
    assert len(GSM7_BASIC) == 127
    assert "\x1b" not in GSM7_BASIC
    assert GSM7_BASIC.isdisjoint(GSM7_EXTENSION)
    assert not is_gsm7("`")
    assert not is_gsm7("ç")  # only the capital Ç is in the alphabet


@given(st.text(alphabet=sorted(GSM7_BASIC), max_size=2000))
def test_plain_gsm7_text_takes_ceil_of_153_septets_beyond_one_message(text: str) -> None:
    n = len(text)
    expected = 0 if n == 0 else 1 if n <= 160 else math.ceil(n / 153)
    assert measure(text) == SmsSize("GSM-7", n, expected)


@given(st.text(max_size=500))
def test_segments_always_hold_the_units(text: str) -> None:
    size = measure(text)
    per = 153 if size.encoding == "GSM-7" else 67
    assert size.segments * per >= size.units or size.segments == 1
    assert size.segments <= size.units


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("STOP", "stop"),
        ("  stop\n", "stop"),
        ("Stop.", "stop"),
        ("StopAll", "stop"),
        ("unsubscribe", "stop"),
        ("CANCEL", "stop"),
        ("end", "stop"),
        ("Quit!", "stop"),
        ("START", "start"),
        ("unstop", "start"),
        ("please stop texting me", None),
        ("stopp", None),
        ("", None),
        ("yes", None),
    ],
)
def test_reply_keywords(body: str, expected: str | None) -> None:
    assert reply_keyword(body) == expected
