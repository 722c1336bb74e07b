"""Rows of the Meta and Google files, and who is left out of them and why."""

from __future__ import annotations

from typing import Any

import pytest

from lealta.retargeting.formats import GOOGLE_HEADERS, META_HEADERS, Person, headers, row
from lealta.retargeting.normalize import sha256
from lealta.retargeting.people import Candidate, Counts, decide

ANA = Person(
    email="ana@example.com",
    phone="+390669820000",
    first_name="Ana-Maria",
    last_name="Rossi",
    city="Reggio Emilia",
    state="RE",
    zip="42121",
    country="it",
)


def test_headers_are_the_platforms_column_names() -> None:
    assert headers("meta") == META_HEADERS == (
        "email", "phone", "fn", "ln", "zip", "ct", "st", "country",
    )  # fmt: skip
    assert headers("google") == GOOGLE_HEADERS == (
        "Email", "Phone", "First Name", "Last Name", "Country", "Zip",
    )  # fmt: skip


def test_a_meta_row_hashes_every_normalised_value() -> None:
    assert row("meta", ANA) == [
        sha256("ana@example.com"),
        sha256("390669820000"),
        sha256("anamaria"),
        sha256("rossi"),
        sha256("42121"),
        sha256("reggioemilia"),
        sha256("re"),
        sha256("it"),
    ]


def test_a_google_row_hashes_contact_details_and_keeps_country_and_zip_plain() -> None:
    assert row("google", ANA) == [
        sha256("ana@example.com"),
        sha256("+390669820000"),
        sha256("ana-maria"),
        sha256("rossi"),
        "it",
        "42121",
    ]


def test_google_address_cells_are_left_empty_unless_all_four_are_known() -> None:
    no_zip = Person(email="ana@example.com", first_name="Ana", last_name="Rossi", country="it")

    assert row("google", no_zip) == [sha256("ana@example.com"), "", "", "", "", ""]
    assert row("meta", no_zip)[2:4] == [sha256("ana"), sha256("rossi")]


def candidate(**given: Any) -> Candidate:
    values: dict[str, Any] = {
        "contact_id": "c1",
        "erased": False,
        "ads_consent": "granted",
        "emails": ["Ana@Example.com"],
        "phones": [],
        "attributes": {},
    }
    values.update(given)
    return Candidate(**values)


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ({"erased": True}, "erased"),
        ({"erased": True, "ads_consent": None}, "erased"),  # erasure is said first
        ({"ads_consent": None}, "no_ads_consent"),
        ({"ads_consent": "denied"}, "no_ads_consent"),
        ({"ads_consent": "pending"}, "no_ads_consent"),
        ({"emails": [], "phones": []}, "no_email_or_phone"),
        ({"emails": ["not-an-address"], "phones": []}, "no_email_or_phone"),
        ({"emails": [], "phones": ["12"]}, "invalid_phone"),
        ({"ads_consent": "denied", "emails": []}, "no_ads_consent"),
    ],
)
def test_every_reason_to_leave_a_contact_out(given: dict[str, Any], reason: str) -> None:
    assert decide(candidate(**given), region="IT") == reason


def test_an_exported_person_takes_the_newest_identifiers_and_profile_attributes() -> None:
    found = decide(
        candidate(
            emails=["New@Example.com", "old@example.com"],
            phones=["bad", "02 1234 5678"],
            attributes={"first_name": "Ana", "last_name": "Rossi", "postal_code": "00184"},
        ),
        region="IT",
    )

    assert found == Person(
        email="new@example.com",
        phone="+390212345678",
        first_name="Ana",
        last_name="Rossi",
        zip="00184",
        country="it",
    )


def test_the_country_is_the_profiles_else_the_phones_else_the_default() -> None:
    on_profile = decide(candidate(attributes={"country": "ES"}), region="IT")
    by_phone = decide(candidate(phones=["+34 600 123 456"]), region="IT")
    default = decide(candidate(attributes={"country": "Spain"}), region="IT")

    assert isinstance(on_profile, Person)
    assert on_profile.country == "es"
    assert isinstance(by_phone, Person)
    assert by_phone.country == "es"
    assert isinstance(default, Person)
    assert default.country == "it"


def test_a_phone_alone_is_enough_and_an_invalid_one_is_dropped_beside_an_email() -> None:
    phone_only = decide(candidate(emails=[], phones=["+1 212 565 0000"]), region="IT")
    with_bad_phone = decide(candidate(phones=["123"]), region="IT")

    assert isinstance(phone_only, Person)
    assert phone_only.phone == "+12125650000"
    assert isinstance(with_bad_phone, Person)
    assert (with_bad_phone.email, with_bad_phone.phone) == ("ana@example.com", None)


def test_counts_add_up_the_reasons() -> None:
    counts = Counts(exported=3, erased=1, no_ads_consent=2, no_email_or_phone=1, invalid_phone=1)

    assert counts.as_dict() == {
        "exported": 3,
        "erased": 1,
        "no_ads_consent": 2,
        "no_email_or_phone": 1,
        "invalid_phone": 1,
        "left_out": 5,
    }
