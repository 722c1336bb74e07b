"""Writing an advertising audience file: a source's contacts, filtered and hashed, streamed.

The source's ids are read with a streaming cursor (``yield_per``) and handled ``chunk`` at a
time: for each chunk, one query each for the contacts, their e-mail and phone identifiers and
their ``ads`` consent in force. At no point is more than a chunk of people in memory, so a
million contacts export in constant memory.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.contacts.tables import Consent, Contact, Identifier
from lealta.errors import InvalidInput
from lealta.retargeting import formats
from lealta.retargeting.normalize import country
from lealta.retargeting.people import Candidate, Counts, decide
from lealta.retargeting.sources import Source, contact_ids

CHUNK = 2_000
ADS = "ads"


def check_options(format_: str, country_default: str) -> str:
    """``format_`` checked, and ``country_default`` as an ISO alpha-2 code (upper case)."""
    if format_ not in formats.FORMATS:
        raise InvalidInput(
            f"unknown format {format_!r}; choose from {', '.join(formats.FORMATS)}",
            field="format",
        )
    code = country(country_default)
    if code is None:
        raise InvalidInput(
            f"{country_default!r} is not an ISO 3166-1 alpha-2 country code (IT, ES, US …)",
            field="country_default",
        )
    return code.upper()


def export(
    session: Session,
    source: Source,
    out: TextIO,
    *,
    format_: str,
    country_default: str,
    chunk: int = CHUNK,
) -> Counts:
    """Write ``source``'s exportable people to ``out`` as a ``format_`` CSV (header first) and
    return the counts of who was exported and who was left out, by reason."""
    region = check_options(format_, country_default)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(formats.headers(format_))
    counts = Counts()
    for candidate in candidates(session, source, region=region, chunk=chunk):
        outcome = decide(candidate, region=region)
        if isinstance(outcome, str):
            setattr(counts, outcome, getattr(counts, outcome) + 1)
            continue
        writer.writerow(formats.row(format_, outcome))
        counts.exported += 1
    return counts


def candidates(
    session: Session, source: Source, *, region: str, chunk: int = CHUNK
) -> Iterator[Candidate]:
    """What the store holds on each of ``source``'s contacts, in id order, read by chunks."""
    query = contact_ids(session, source, region=region)
    result = session.execute(query, execution_options={"yield_per": chunk})
    for ids in result.scalars().partitions():
        yield from candidates_of(session, [str(i) for i in ids])


def candidates_of(session: Session, ids: Sequence[str]) -> list[Candidate]:
    """What the store holds on the contacts ``ids`` (in that order; unknown ids left out)."""
    rows = session.execute(
        select(Contact.id, Contact.erased_at, Contact.attributes).where(Contact.id.in_(ids))
    ).all()
    emails: dict[str, list[str]] = defaultdict(list)
    phones: dict[str, list[str]] = defaultdict(list)
    for contact_id, kind, value in session.execute(
        select(Identifier.contact_id, Identifier.kind, Identifier.value)
        .where(Identifier.contact_id.in_(ids), Identifier.kind.in_(("email", "phone")))
        .order_by(Identifier.id.desc())
    ):
        (emails if kind == "email" else phones)[contact_id].append(value)
    consent: dict[str, str] = {}
    for contact_id, status in session.execute(
        select(Consent.contact_id, Consent.status)
        .where(Consent.contact_id.in_(ids), Consent.channel == ADS)
        .order_by(Consent.id)
    ):
        consent[contact_id] = status  # the newest row is in force
    by_id = {row.id: row for row in rows}
    return [
        Candidate(
            contact_id=contact_id,
            erased=by_id[contact_id].erased_at is not None,
            ads_consent=consent.get(contact_id),
            emails=emails.get(contact_id, []),
            phones=phones.get(contact_id, []),
            attributes=by_id[contact_id].attributes or {},
        )
        for contact_id in ids
        if contact_id in by_id
    ]
