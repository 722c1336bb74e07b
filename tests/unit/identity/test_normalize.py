from __future__ import annotations

import pytest

from lealta.errors import InvalidInput
from lealta.identity.normalize import normalize


def test_emails_are_trimmed_and_lower_cased() -> None:
    assert normalize("email", "  Ana.Garcia@Example.COM ") == "ana.garcia@example.com"


def test_phones_become_e164_with_the_default_region_for_national_numbers() -> None:
    assert normalize("phone", "600 12 34 56") == "+34600123456"
    assert normalize("phone", "+44 20 7946 0958") == "+442079460958"
    assert normalize("phone", "(212) 555-0100", default_region="US") == "+12125550100"


@pytest.mark.parametrize(
    ("kind", "value", "field"),
    [
        ("email", "not-an-address", "email"),
        ("phone", "call me", "phone"),
        ("user_id", "   ", "user_id"),
        ("fax", "123", "kind"),
    ],
)
def test_bad_identifiers_are_refused_naming_the_field(kind: str, value: str, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        normalize(kind, value)
    assert error.value.field == field


def test_other_ids_are_kept_as_written_without_surrounding_spaces() -> None:
    assert normalize("anonymous_id", " 5f2b-AA ") == "5f2b-AA"
