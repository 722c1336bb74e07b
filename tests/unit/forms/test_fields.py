"""Reading a form submission: identifiers, traits, consents and the honeypot."""

from __future__ import annotations

import datetime as dt

import pytest

from lealta.errors import InvalidInput
from lealta.forms.fields import parse_submission, submission_key

AT = dt.datetime(2025, 3, 1, 12, 30, 15, tzinfo=dt.UTC)


def test_fields_become_traits_except_internal_sensitive_and_consent_ones() -> None:
    parsed = parse_submission(
        {
            "email": " Ann@Example.COM ",
            "first_name": "Ann",
            "company": "Acme",
            "_key": "lk_x",
            "_aid": "browser-1",
            "password": "hunter2",
            "cc-number": "4111",
            "consent_email": "on",
            "consent_sms": "on",
            "empty": "  ",
            "bad name!": "x",
        },
        channels=["email"],
        region="ES",
    )
    assert parsed.email == "ann@example.com"
    assert parsed.traits == {"email": "ann@example.com", "first_name": "Ann", "company": "Acme"}
    assert parsed.consents == ("email",)  # sms is not offered by this form
    assert parsed.anonymous_id == "browser-1"
    assert not parsed.trap


def test_an_email_or_a_phone_is_required_and_checked() -> None:
    with pytest.raises(InvalidInput) as missing:
        parse_submission({"first_name": "Ann"}, channels=[], region="ES")
    assert missing.value.field == "email"
    with pytest.raises(InvalidInput) as bad:
        parse_submission({"email": "ann@"}, channels=[], region="ES")
    assert bad.value.field == "email"
    with pytest.raises(InvalidInput) as bad_phone:
        parse_submission({"phone": "12"}, channels=[], region="ES")
    assert bad_phone.value.field == "phone"
    phone_only = parse_submission({"phone": "600 123 456"}, channels=[], region="ES")
    assert (phone_only.email, phone_only.phone) == (None, "+34600123456")


def test_a_filled_honeypot_marks_a_bot() -> None:
    assert parse_submission({"email": "a@b.co", "_hp": "x"}, channels=[], region="ES").trap


def test_too_long_values_name_their_field() -> None:
    with pytest.raises(InvalidInput) as error:
        parse_submission({"email": "a@b.co", "bio": "x" * 1001}, channels=[], region="ES")
    assert error.value.field == "bio"


def test_the_submission_key_is_stable_within_a_minute_only() -> None:
    parsed = parse_submission({"email": "a@b.co"}, channels=[], region="ES")
    same = submission_key("news", parsed, AT + dt.timedelta(seconds=30))
    assert submission_key("news", parsed, AT) == same
    assert submission_key("news", parsed, AT + dt.timedelta(minutes=1)) != same
    assert submission_key("other", parsed, AT) != same
