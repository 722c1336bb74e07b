"""Voucher codes: unguessable, unambiguous, found however they are typed."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lealta.errors import InvalidInput
from lealta.vouchers.codes import ALPHABET, entropy_bits, format_code, new_code, normalize_code


def test_the_alphabet_has_no_lookalikes() -> None:
    assert len(set(ALPHABET)) == len(ALPHABET) == 31
    assert not set("0O1IL") & set(ALPHABET)


def test_a_new_code_is_grouped_in_fours_with_at_least_60_bits() -> None:
    code = new_code()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){3}", code), code
    assert entropy_bits(len(normalize_code(code))) >= 60


def test_codes_do_not_repeat() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000


def test_too_short_codes_are_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        new_code(12)
    assert error.value.field == "length"
    assert len(normalize_code(new_code(13))) == 13


def test_a_prefix_is_kept_whole_before_the_groups() -> None:
    code = new_code(prefix="spring")
    assert code.startswith("SPRING-")
    assert len(code.split("-")) == 5
    with pytest.raises(InvalidInput):
        new_code(prefix="X" * 17)


def test_typing_is_forgiving_about_case_spaces_and_dashes() -> None:
    assert normalize_code(" abcd efgh-jkmn pqrs ") == "ABCDEFGHJKMNPQRS"
    assert normalize_code("ABCD--EFGH") == "ABCDEFGH"
    assert format_code("abcdefghjkmnpqrs") == "ABCD-EFGH-JKMN-PQRS"
    assert format_code("SPRINGABCDEFGHJKMNPQRS") == "SPRING-ABCD-EFGH-JKMN-PQRS"


@pytest.mark.parametrize("text", ["", "  - ", "ABCD;DROP", "ÄBCD", "A" * 33])
def test_malformed_codes_are_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as error:
        normalize_code(text)
    assert error.value.field == "code"


@given(prefix=st.text(alphabet="ABCXYZ789", max_size=8))
def test_format_and_normalize_round_trip(prefix: str) -> None:
    code = new_code(prefix=prefix)
    assert format_code(normalize_code(code)) == code
    assert normalize_code(code.lower().replace("-", " ")) == normalize_code(code)
