"""Normalising identifiers so that one person's spellings meet. Pure."""

from __future__ import annotations

import re

from lealta.errors import InvalidInput

KINDS = ("anonymous_id", "user_id", "email", "phone", "external_id")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(value: str) -> str:
    """Trim and lower-case an e-mail address; refuse one that is not an address."""
    email = value.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput(f"{value!r} is not an e-mail address", field="email")
    return email


def normalize_phone(value: str, default_region: str = "ES") -> str:
    """A phone number in E.164 (``+34600123456``); national numbers use ``default_region``."""
    import phonenumbers

    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"{value!r} is not a phone number ({exc})", field="phone") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidInput(f"{value!r} is not a possible phone number", field="phone")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalize(kind: str, value: str, default_region: str = "ES") -> str:
    """The canonical form of an identifier of ``kind``."""
    if kind not in KINDS:
        raise InvalidInput(
            f"unknown identifier kind {kind!r}; known: {', '.join(KINDS)}", field="kind"
        )
    if kind == "email":
        return normalize_email(value)
    if kind == "phone":
        return normalize_phone(value, default_region)
    text = str(value).strip()
    if not text:
        raise InvalidInput(f"{kind} is empty", field=kind)
    if len(text) > 320:
        raise InvalidInput(f"{kind} is longer than 320 characters", field=kind)
    return text
