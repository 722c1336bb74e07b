"""Who may go into an advertising audience, and with what. Pure.

A contact is exported only when all of these hold, tested in this order (the first that fails
is the reason they are left out, and each reason is counted):

1. ``erased``: not erased (right to erasure: nothing about them may leave);
2. ``no_ads_consent``: their consent in force for the ``ads`` channel is ``granted``. Only an
   explicit grant counts: no setting makes advertising consent implied (by a purchase, a
   newsletter sign-up or a banner's "advertising cookies"), because handing a person's
   e-mail to an ad platform is a use they must have agreed to (GDPR art. 6(1)(a); Meta's and
   Google's customer-list terms require that permission). A shop records grants through
   forms, the API, tracking (``traits.consent.ads``) or a banner category it maps to ``ads``;
3. ``no_email_or_phone``: they have an e-mail address or a phone number;
4. ``invalid_phone``: without an e-mail address, their phone number is a valid number (one
   written without a country code is read as one of the export's default country).

An exported person carries their newest e-mail address, their newest valid phone number, and
from the profile's attributes ``first_name``, ``last_name``, ``city``, ``state``, ``zip`` (or
``postal_code``) and ``country`` (an ISO alpha-2 code; else the phone number's country; else
the export's default country).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from lealta.retargeting import normalize as n
from lealta.retargeting.formats import Person

REASONS = ("erased", "no_ads_consent", "no_email_or_phone", "invalid_phone")


@dataclass(frozen=True)
class Candidate:
    """What the store holds on one contact of the source: identifiers newest first."""

    contact_id: str
    erased: bool
    ads_consent: str | None  # the status in force for ``ads``; None: never decided
    emails: Sequence[str]
    phones: Sequence[str]
    attributes: Mapping[str, Any]


@dataclass
class Counts:
    """How many contacts of the source were exported, and how many left out and why."""

    exported: int = 0
    erased: int = 0
    no_ads_consent: int = 0
    no_email_or_phone: int = 0
    invalid_phone: int = 0

    @property
    def left_out(self) -> int:
        """Every contact left out, whatever the reason."""
        return self.erased + self.no_ads_consent + self.no_email_or_phone + self.invalid_phone

    def as_dict(self) -> dict[str, int]:
        """The counts by name, ``left_out`` included."""
        found = {f.name: int(getattr(self, f.name)) for f in fields(self)}
        return {**found, "left_out": self.left_out}


def decide(candidate: Candidate, *, region: str) -> Person | str:
    """The person to export, or the reason (one of :data:`REASONS`) to leave them out."""
    if candidate.erased:
        return "erased"
    if candidate.ads_consent != "granted":
        return "no_ads_consent"
    address = next((e for e in map(n.email, candidate.emails) if e), None)
    if address is None and not candidate.phones:
        return "no_email_or_phone"
    number = next((p for p in (n.phone(p, region) for p in candidate.phones) if p), None)
    if address is None and number is None:
        return "invalid_phone"
    return _person(candidate.attributes, address, number, region)


def _text(attributes: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = attributes.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value)
    return None


def _person(
    attributes: Mapping[str, Any],
    address: str | None,
    number: tuple[str, str | None] | None,
    region: str,
) -> Person:
    country = (
        n.country(_text(attributes, "country"))
        or (number[1] if number else None)
        or n.country(region)
    )
    return Person(
        email=address,
        phone=number[0] if number else None,
        first_name=_text(attributes, "first_name"),
        last_name=_text(attributes, "last_name"),
        city=_text(attributes, "city"),
        state=_text(attributes, "state"),
        zip=_text(attributes, "zip", "postal_code"),
        country=country,
    )
