"""The upload files of Meta Custom Audiences and Google Customer Match: headers and rows. Pure.

Both files are CSV in UTF-8 with one person per row and the platform's English column
headers (see :mod:`lealta.retargeting.normalize` for the documentation they follow).

Values are always hashed (SHA-256), even though both platforms would hash a plain file
themselves: the file leaves Lealta (downloaded, mailed, dropped into an upload form, kept in a
downloads folder), and a hashed list matches exactly as well as a plain one while exposing far
less if it goes astray. Google's ``Country`` and ``Zip`` stay plain because Google asks for
them so.
"""

from __future__ import annotations

from dataclasses import dataclass

from lealta.retargeting import normalize as n

FORMATS = ("meta", "google")
META_HEADERS = ("email", "phone", "fn", "ln", "zip", "ct", "st", "country")
GOOGLE_HEADERS = ("Email", "Phone", "First Name", "Last Name", "Country", "Zip")


@dataclass(frozen=True)
class Person:
    """What is known of one person to be exported: ``email`` trimmed and lower-cased,
    ``phone`` valid E.164, ``country`` an ISO alpha-2 code in lower case; the rest as
    written on the profile."""

    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None


def headers(format_: str) -> tuple[str, ...]:
    """The header row of ``format_`` (``meta`` or ``google``)."""
    return META_HEADERS if format_ == "meta" else GOOGLE_HEADERS


def row(format_: str, person: Person) -> list[str]:
    """``person``'s row in ``format_``, aligned with :func:`headers` (empty cells for what is
    not known)."""
    return meta_row(person) if format_ == "meta" else google_row(person)


def _hashed(value: str | None) -> str:
    return n.sha256(value) if value else ""


def meta_row(person: Person) -> list[str]:
    """email, phone, fn, ln, zip, ct, st, country: every one normalised then hashed."""
    return [
        _hashed(n.email(person.email)),
        _hashed(n.meta_phone(person.phone) if person.phone else None),
        _hashed(n.meta_name(person.first_name)),
        _hashed(n.meta_name(person.last_name)),
        _hashed(n.meta_zip(person.zip, person.country)),
        _hashed(n.meta_place(person.city)),
        _hashed(n.meta_place(person.state)),
        _hashed(person.country),
    ]


def google_row(person: Person) -> list[str]:
    """Email, Phone, First Name, Last Name (hashed), Country, Zip (plain). The four address
    cells are filled together or not at all: Google matches an address only on all four."""
    first = n.google_text(person.first_name)
    last = n.google_text(person.last_name)
    zip_code = n.google_zip(person.zip, person.country)
    address = first and last and person.country and zip_code
    return [
        _hashed(n.google_text(person.email)),
        _hashed(person.phone),
        _hashed(first) if address else "",
        _hashed(last) if address else "",
        (person.country or "") if address else "",
        (zip_code or "") if address else "",
    ]
