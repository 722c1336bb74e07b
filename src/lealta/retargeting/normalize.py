"""Normalising and hashing customer data the way Meta and Google document it. Pure.

An advertising platform matches an uploaded list by hashing its own users' details and
comparing hashes, so a value only matches when it was spelled exactly as the platform spells
it before hashing. The rules below follow the platforms' documentation as read in December
2026; the tests hold the documented examples.

Meta, Custom Audiences from a customer file
    https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences
    ("Hashing and Normalizing Data"; the worked examples with their expected SHA-256 are on
    https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters,
    same rules). Every column is hashed.

    * ``email``: leading and trailing spaces trimmed, lower case.
    * ``phone``: digits only, country code first, no ``+``, no leading zeros (E.164 without
      its ``+``: "(650)555-1212" in the US is ``16505551212``).
    * ``fn``, ``ln``: lower case, no punctuation; letters beyond a-z stay, in UTF-8
      ("Valéry" is ``valéry``). Meta says nothing of spaces inside a name: one is kept.
    * ``ct``, ``st``: lower case, no punctuation, digits or spaces ("Menlo Park" is
      ``menlopark``); a US state is its 2-letter code.
    * ``zip``: lower case, no spaces or dashes; a US code is its first 5 digits.
    * ``country``: the ISO 3166-1 alpha-2 code in lower case.

Google Ads, Customer Match
    https://support.google.com/google-ads/answer/7476159 (uploading hashed data) and
    https://support.google.com/google-ads/answer/7659867 (columns, template). ``Email``,
    ``Phone``, ``First Name`` and ``Last Name`` are hashed; ``Country`` and ``Zip`` are not.

    * e-mail and names: lower case, spaces before and after removed, runs of spaces inside
      made one.
    * phone: E.164 *with* its ``+`` (``+12125650000``).
    * country: the ISO 3166-1 alpha-2 code; zip: as written (a US code: 5 digits), and only
      with first name, last name and country (Google matches an address on all four).
    * Google's e-mail rule for Customer Match does not remove the dots of a Gmail address.
      The rule "remove the dots before @gmail.com / @googlemail.com" is documented for
      enhanced conversions and Campaign Manager 360 conversions
      (https://developers.google.com/google-ads/api/docs/conversions/enhance-conversions),
      not for Customer Match lists, so it is not applied here.

Nothing here guesses: a value that cannot be put in the documented form is ``None`` (left
out of the row), never sent half-normalised.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import phonenumbers

_SPACES = re.compile(r"\s+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_US_ZIP = re.compile(r"^(\d{5})(?:[\s-]?\d{4})?$")


def sha256(value: str) -> str:
    """The SHA-256 of ``value``'s UTF-8 bytes, as 64 lower-case hex digits."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def email(value: str | None) -> str | None:
    """An e-mail address trimmed and lower-cased (both platforms); None when not one."""
    if not value:
        return None
    found = value.strip().lower()
    return found if _EMAIL.match(found) else None


def phone(value: str | None, region: str) -> tuple[str, str | None] | None:
    """A valid phone number in E.164 (``+390212345678``) with its country (ISO alpha-2, lower
    case: the main country of its calling code); a number written without its country code is
    read as one of ``region``. None when it is not a valid number."""
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    e164 = str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    # the calling code's main country, not region_code_for_number: that one tests the number
    # against every country sharing the code, which took as long again as the parsing
    country = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return e164, (country.lower() if country and country != "001" and country != "ZZ" else None)


def phone_e164(value: str | None, region: str) -> str | None:
    """The number of :func:`phone` alone."""
    found = phone(value, region)
    return found[0] if found else None


def meta_phone(e164: str) -> str:
    """Meta's spelling of an E.164 number: its digits, country code first, no ``+``."""
    return e164.lstrip("+")


def country(value: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 country code in lower case (``"IT"``, ``" it "`` → ``it``);
    None for anything else (a country's name is not guessed)."""
    if not value:
        return None
    code = value.strip().upper()
    if code == "UK":  # the common spelling of the United Kingdom's code GB
        code = "GB"
    return code.lower() if code in phonenumbers.SUPPORTED_REGIONS else None


def _no_punctuation(value: str) -> str:
    return "".join(c for c in value if not unicodedata.category(c).startswith("P"))


def meta_name(value: str | None) -> str | None:
    """Meta's ``fn``/``ln``: lower case, punctuation removed, one space between words."""
    if not value:
        return None
    found = _SPACES.sub(" ", _no_punctuation(value.lower())).strip()
    return found or None


def meta_place(value: str | None) -> str | None:
    """Meta's ``ct``/``st``: lower-case letters only (no punctuation, digits or spaces)."""
    if not value:
        return None
    found = "".join(c for c in value.lower() if unicodedata.category(c).startswith("L"))
    return found or None


def meta_zip(value: str | None, country_code: str | None) -> str | None:
    """Meta's ``zip``: lower case without spaces or dashes; a US code's first 5 digits."""
    if not value:
        return None
    if country_code == "us":
        us = _US_ZIP.match(value.strip())
        return us.group(1) if us else None
    found = re.sub(r"[\s-]", "", value.lower())
    return found or None


def google_text(value: str | None) -> str | None:
    """Google's e-mail and names: lower case, trimmed, runs of spaces made one."""
    if not value:
        return None
    found = _SPACES.sub(" ", value.lower()).strip()
    return found or None


def google_zip(value: str | None, country_code: str | None) -> str | None:
    """Google's ``Zip``, not hashed: a US code's 5 digits, any other as written (trimmed,
    one space between parts)."""
    if not value:
        return None
    if country_code == "us":
        us = _US_ZIP.match(value.strip())
        return us.group(1) if us else None
    found = _SPACES.sub(" ", value).strip().upper()
    return found or None
