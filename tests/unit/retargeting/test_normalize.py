"""Normalisation and hashing against the platforms' documented examples.

Meta's examples (input, normalised, expected SHA-256) are those of
https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters
(the rules of Custom Audiences customer files,
https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences).
Google's are from its Customer Match template and guidelines,
https://support.google.com/google-ads/answer/7659867 and
https://support.google.com/google-ads/answer/7476159, and the Google Ads API's E.164 examples.
"""

from __future__ import annotations

import pytest

from lealta.retargeting import normalize as n

META_DOCUMENTED = [
    # (field, input, normalised, expected SHA-256 as documented by Meta)
    (
        "email",
        "John_Smith@gmail.com",
        "john_smith@gmail.com",
        "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f",
    ),
    (
        "phone",
        "(650)555-1212",
        "16505551212",
        "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176",
    ),
    (
        "name",
        "Mary",
        "mary",
        "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec",
    ),
    (
        "name",
        "정",
        "정",
        "8fa8cd9c440be61d0151429310034083132b35975c4bea67fdd74158eb51db14",
    ),
    (
        "name",
        "Valéry",
        "valéry",
        "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c",
    ),
]


def _meta(field: str, value: str) -> str | None:
    if field == "email":
        return n.email(value)
    if field == "phone":
        e164 = n.phone_e164(value, "US")  # the documented example is a US number
        return n.meta_phone(e164) if e164 else None
    return n.meta_name(value)


@pytest.mark.parametrize(("field", "given", "normalised", "digest"), META_DOCUMENTED)
def test_meta_documented_examples_normalise_and_hash_as_documented(
    field: str, given: str, normalised: str, digest: str
) -> None:
    found = _meta(field, given)

    assert found == normalised
    assert n.sha256(normalised) == digest


@pytest.mark.parametrize(
    ("given", "region", "e164"),
    [
        ("+1 212-565-0000", "IT", "+12125650000"),  # Google Ads API's E.164 examples
        ("+44 20 7031 3000", "US", "+442070313000"),
        ("1-800-888-8888", "US", "+18008888888"),  # Customer Match template's phone
        ("06 6982 0000", "IT", "+390669820000"),  # national: the export's default country
        ("0039 06 6982 0000", "ES", "+390669820000"),  # 00: the international prefix
        ("12", "IT", None),
        ("not a phone", "IT", None),
        ("", "IT", None),
    ],
)
def test_phone_numbers_become_valid_e164_or_nothing(
    given: str, region: str, e164: str | None
) -> None:
    assert n.phone_e164(given, region) == e164


def test_meta_phone_is_e164_without_its_plus_and_google_keeps_it() -> None:
    assert n.meta_phone("+390669820000") == "390669820000"
    assert n.sha256("+12125650000") != n.sha256("12125650000")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("  Ana.Ruiz@Example.COM ", "ana.ruiz@example.com"),
        ("first.last@gmail.com", "first.last@gmail.com"),  # dots kept (see module docstring)
        ("first.last@googlemail.com", "first.last@googlemail.com"),
        ("no-at-sign", None),
        (None, None),
    ],
)
def test_emails_are_trimmed_and_lower_cased_and_gmail_dots_kept(
    given: str | None, expected: str | None
) -> None:
    assert n.email(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [("Jean-Luc", "jeanluc"), ("O'Brien", "obrien"), ("  Mary   Ann ", "mary ann"), ("", None)],
)
def test_meta_names_lose_punctuation_and_keep_one_space(given: str, expected: str | None) -> None:
    assert n.meta_name(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [("Menlo Park", "menlopark"), ("St. Louis", "stlouis"), ("Reggio Emilia 2", "reggioemilia")],
)
def test_meta_cities_are_lower_case_letters_only(given: str, expected: str) -> None:
    assert n.meta_place(given) == expected


@pytest.mark.parametrize(
    ("zip_code", "country", "meta", "google"),
    [
        ("94016", "us", "94016", "94016"),  # Customer Match template (US)
        ("37221-3312", "us", "37221", "37221"),  # US ZIP+4: its first 5 digits
        ("WC2H 8LG", "gb", "wc2h8lg", "WC2H 8LG"),  # Customer Match template (non-US)
        ("00184", "it", "00184", "00184"),
        ("9401", "us", None, None),  # not a US code
    ],
)
def test_zip_codes_per_platform(
    zip_code: str, country: str, meta: str | None, google: str | None
) -> None:
    assert n.meta_zip(zip_code, country) == meta
    assert n.google_zip(zip_code, country) == google


@pytest.mark.parametrize(
    ("given", "expected"),
    [("IT", "it"), (" us ", "us"), ("UK", "gb"), ("Italy", None), ("XX", None), (None, None)],
)
def test_countries_are_iso_alpha2_codes_in_lower_case(
    given: str | None, expected: str | None
) -> None:
    assert n.country(given) == expected


def test_google_text_is_lower_case_with_single_spaces_and_accents_kept() -> None:
    # The Customer Match template's third row: "zoë,pérez".
    assert n.google_text("  Zoë ") == "zoë"
    assert n.google_text("Pérez  de   la Cruz") == "pérez de la cruz"


def test_sha256_is_lower_case_hex_of_utf8() -> None:
    assert n.sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert n.sha256("valéry") != n.sha256("valery")


@pytest.mark.parametrize(
    ("given", "found"),
    [
        ("+34 600 123 456", ("+34600123456", "es")),
        ("+1 212-565-0000", ("+12125650000", "us")),
        ("02 1234 5678", ("+390212345678", "it")),  # national, read as the default country's
        ("+1 200 555 0100", None),  # possible, not valid: area code 200 does not exist
    ],
)
def test_a_phone_gives_its_country_for_people_without_one(
    given: str, found: tuple[str, str] | None
) -> None:
    assert n.phone(given, "IT") == found
