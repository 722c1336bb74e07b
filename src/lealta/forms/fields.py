"""Reading a sign-up form submission: the person's identifiers, traits and consents. Pure."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import orjson

from lealta.errors import InvalidInput
from lealta.identity.normalize import normalize_email, normalize_phone

CHECKED = ("on", "true", "1", "yes")
MAX_TRAITS = 50
MAX_VALUE = 1000
MAX_ID = 128
# Never kept, whatever a form posts: secrets and payment data have no place on a profile.
_SENSITIVE = re.compile(r"pass|card|cc-?(num|exp|csc)|cvc|cvv|iban|ssn|secret|token", re.I)
_TRAIT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class Submission:
    """What a submission says about the person.

    ``consents`` lists the channels whose ``consent_<channel>`` box was ticked (only channels
    the form offers); ``trap`` is set when the hidden ``_hp`` field was filled in (a bot).
    """

    email: str | None
    phone: str | None
    traits: dict[str, str] = field(default_factory=dict)
    consents: tuple[str, ...] = ()
    anonymous_id: str | None = None
    trap: bool = False


def parse_submission(
    fields: Mapping[str, str], *, channels: Sequence[str], region: str
) -> Submission:
    """Check a submission's fields; a bad or missing e-mail or phone names its field.

    ``email`` is required unless ``phone`` is given. Other fields become traits, except
    ``_``-prefixed ones (the form's own: ``_key``, ``_hp``, ``_aid``), ``consent_*`` boxes,
    empty values and sensitive names (passwords, card numbers …).
    """
    values = {name: value.strip() for name, value in fields.items() if isinstance(value, str)}
    email = _checked(values.get("email"), normalize_email)
    phone = _checked(values.get("phone"), lambda v: normalize_phone(v, region))
    if email is None and phone is None:
        raise InvalidInput("an e-mail address is required", field="email")
    traits = {k: v for k, v in (("email", email), ("phone", phone)) if v}
    for name, value in values.items():
        if not value or name.startswith(("_", "consent_")) or name in ("email", "phone"):
            continue
        if not _TRAIT_NAME.match(name) or _SENSITIVE.search(name):
            continue
        if len(value) > MAX_VALUE:
            raise InvalidInput(f"{name} is longer than {MAX_VALUE} characters", field=name)
        traits[name] = value
    if len(traits) > MAX_TRAITS:
        raise InvalidInput(f"a form may send at most {MAX_TRAITS} fields", field="")
    ticked = tuple(c for c in channels if values.get(f"consent_{c}", "").lower() in CHECKED)
    anonymous_id = values.get("_aid") or None
    if anonymous_id is not None and len(anonymous_id) > MAX_ID:
        anonymous_id = None
    return Submission(email, phone, traits, ticked, anonymous_id, trap=bool(values.get("_hp")))


def _checked(value: str | None, check: Callable[[str], str]) -> str | None:
    return check(value) if value else None


def submission_key(slug: str, submission: Submission, at: dt.datetime) -> str:
    """The same for the same person, form, fields and minute: a double click is one submission."""
    minute = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")
    document = [slug, submission.traits, list(submission.consents), minute]
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()[:40]
