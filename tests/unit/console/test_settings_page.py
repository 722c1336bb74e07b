"""The settings page's pure parts: which password a new user gets."""

from __future__ import annotations

import pytest

from lealta.console.settings_page import chosen_password
from lealta.errors import InvalidInput


def test_no_typed_password_means_a_fresh_generated_one() -> None:
    first, generated = chosen_password("", "")
    second, _ = chosen_password("", "")
    assert generated
    assert len(first) >= 16
    assert first != second


def test_a_typed_password_is_kept_when_typed_twice_alike() -> None:
    assert chosen_password("a long passphrase", "a long passphrase") == ("a long passphrase", False)


def test_two_different_passwords_name_the_field() -> None:
    with pytest.raises(InvalidInput) as problem:
        chosen_password("a long passphrase", "a long passphrasE")
    assert problem.value.field == "password"
