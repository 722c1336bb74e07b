"""Finding contacts by identifier, name, tag, list, stage, score, activity, attribute, RFM
segment, cluster, loyalty tier, loyalty points balance and predicted value (P(alive), CLV,
churn band).

Pages are ordered by ``(created_at, id)`` (an index) and cut with a keyset cursor, so a page
never repeats or skips a contact while others are added, and page 1,000 costs what page 1 does.
Merged and erased contacts are never listed. Every filter is a SQLAlchemy expression: user
values are bound, never spliced into SQL.

``q``, the one search box, finds a contact by any of:

* name: a part of the first and last name, any case, accents ignored (``contacts.search_name``,
  kept folded by :mod:`lealta.contacts.names`);
* e-mail: a part of the address;
* phone: the number in any spelling (normalised to E.164 like identifiers);
* id: the contact id or the user id, exactly.

Parts of names and addresses are matched while walking the list in its order, so a page stops
as soon as it is full; only a rare text reads the whole (narrow) column. Counting stops at
:data:`COUNT_CAP` for the same reason (see :func:`count`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    cast,
    exists,
    false,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from lealta.contacts.attributes import BUILT_IN, check_name
from lealta.contacts.names import fold
from lealta.contacts.schemas import as_utc
from lealta.contacts.service import declared_types
from lealta.contacts.tables import Contact, ContactList, ContactTag, Identifier, ListMembership
from lealta.errors import InvalidInput
from lealta.identity.normalize import normalize
from lealta.prediction.tables import ContactPrediction
from lealta.segmentation.tables import ContactRfm
from lealta.storage.paging import decode_cursor, encode_cursor

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
COUNT_CAP = 10_000
TEXT_COUNT_CAP = 1_000  # the count of a search box text that many contacts share
DENSE_TEXT = "lealta_dense_text"  # session.info: this transaction's search text is common
_CONTACT_ID = re.compile(r"^[0-9a-f]{32}$")
_PHONE = re.compile(r"^\+?[\d\s().-]{6,}$")


@dataclass(frozen=True)
class ContactFilter:
    """What to look for; every given criterion must hold."""

    email: str | None = None
    phone: str | None = None
    user_id: str | None = None
    external_id: str | None = None
    tag: str | None = None
    list: str | None = None
    list_status: str = "subscribed"
    stage: str | None = None
    score_min: float | None = None
    score_max: float | None = None
    seen_after: dt.datetime | None = None
    seen_before: dt.datetime | None = None
    attributes: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    segment: str | None = None
    r: int | None = None  # RFM recency score
    f: int | None = None  # RFM frequency score
    arrived_after: dt.datetime | None = None  # see ``arrived_at``
    q: str | None = None
    cluster: int | None = None  # contact_rfm.cluster
    unseen_since: dt.datetime | None = None  # last seen before it, or never seen and older
    tier: str | None = None  # loyalty tier, any case (checked against the programme)
    points_min: int | None = None  # loyalty points balance now, at least (0: no entry)
    points_max: int | None = None  # … at most
    p_alive_max: float | None = None  # contact_predictions.p_alive, at most
    clv_min: float | None = None  # contact_predictions.clv, at least
    churn_band: str | None = None  # contact_predictions.churn_band (low, medium, high, new)


def arrived_at() -> ColumnElement[dt.datetime]:
    """When a contact arrived: first seen (their first event), or created when never seen.
    A "new contact" of a period is one that arrived in it."""
    arrived: ColumnElement[dt.datetime] = func.coalesce(Contact.first_seen_at, Contact.created_at)
    return arrived


def days_before(now: dt.datetime, days: int | None) -> dt.datetime | None:
    """``days`` days before ``now`` (None for None): "seen in the last 7 days" is seen after it."""
    return None if days is None else now - dt.timedelta(days=days)


def parse_attribute_filter(text: str) -> tuple[str, str]:
    """``"city:Lisbon"`` → ``("city", "Lisbon")``."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise InvalidInput(f"attribute filter {text!r} must be NAME:VALUE", field="attribute")
    return check_name(name.strip()), value


def search(
    session: Session,
    wanted: ContactFilter,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    region: str = "ES",
) -> tuple[list[Contact], str | None]:
    """One page of matching contacts and the cursor of the next page (None at the end)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    conditions = _live(session, wanted, region)
    if cursor:
        after, after_id = decode_cursor(cursor)
        conditions.append(
            or_(
                Contact.created_at > after,
                and_(Contact.created_at == after, Contact.id > after_id),
            )
        )
    rows = list(
        session.scalars(
            select(Contact)
            .where(*conditions)
            .order_by(Contact.created_at, Contact.id)
            .limit(limit + 1)
        )
    )
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    return page, encode_cursor(page[-1].created_at, page[-1].id)


def filters(
    session: Session, wanted: ContactFilter, *, region: str, walk: bool = True
) -> list[ColumnElement[bool]]:
    """The SQL conditions of ``wanted``; ``walk``: phrased for reading a page in list order
    (else for counting: see :func:`_among`)."""
    found: list[ColumnElement[bool]] = []
    for kind in ("email", "phone", "user_id", "external_id"):
        value = getattr(wanted, kind)
        if value:
            found.append(_has_identifier(kind, normalize(kind, value, region)))
    if wanted.q and wanted.q.strip():
        found.append(_matches_text(session, wanted.q.strip(), region, walk=walk))
    if wanted.tag:
        found.append(_among(session, walk, ContactTag.contact_id, ContactTag.tag == wanted.tag))
    if wanted.list:
        found.append(_on_list(session, walk, wanted.list, wanted.list_status))
    if wanted.tier:
        found.append(_in_tier(session, walk, wanted.tier))
    if wanted.points_min is not None or wanted.points_max is not None:
        found += _points_between(session, walk, wanted.points_min, wanted.points_max)
    rfm = _rfm_conditions(wanted)
    if rfm:
        found.append(_among(session, walk, ContactRfm.contact_id, *rfm))
    predicted = _prediction_conditions(wanted)
    if predicted:
        found.append(_among(session, walk, ContactPrediction.contact_id, *predicted))
    found += _profile_filters(wanted)
    if wanted.attributes:
        declared = {**BUILT_IN, **declared_types(session)}
        for name, value in wanted.attributes:
            found.append(_attribute_equals(name, value, declared.get(name)))
    return found


def _rfm_conditions(wanted: ContactFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if wanted.segment:
        found.append(ContactRfm.segment == wanted.segment)
    if wanted.cluster is not None:
        found.append(ContactRfm.cluster == wanted.cluster)
    if wanted.r is not None:
        found.append(ContactRfm.r == wanted.r)
    if wanted.f is not None:
        found.append(ContactRfm.f == wanted.f)
    return found


def _prediction_conditions(wanted: ContactFilter) -> list[ColumnElement[bool]]:
    """The predicted-value criteria (:mod:`lealta.prediction.store`), checked by name."""
    from lealta.prediction.bands import BANDS

    found: list[ColumnElement[bool]] = []
    if wanted.p_alive_max is not None:
        if not 0 <= wanted.p_alive_max <= 1:
            raise InvalidInput("p_alive_max is a probability from 0 to 1", field="p_alive_max")
        found.append(ContactPrediction.p_alive <= wanted.p_alive_max)
    if wanted.clv_min is not None:
        found.append(ContactPrediction.clv >= wanted.clv_min)
    if wanted.churn_band:
        band = wanted.churn_band.strip().lower()
        if band not in BANDS:
            raise InvalidInput(
                f"churn_band takes one of {', '.join(BANDS)}, got {wanted.churn_band!r}",
                field="churn_band",
            )
        found.append(ContactPrediction.churn_band == band)
    return found


def _in_tier(session: Session, walk: bool, name: str) -> ColumnElement[bool]:
    """Contacts in the loyalty tier ``name`` (any case), read off ``contact_tiers``' tier
    index; the name is checked against the programme in force (stored names are its
    spelling)."""
    from lealta.loyalty.service import get
    from lealta.loyalty.tables import ContactTier

    stored = get(session)
    if stored is None:
        raise InvalidInput(
            "no loyalty programme is in force: no contact is in a tier", field="tier"
        )
    tier = stored.program.tier(name.strip()).name
    if not walk:
        # A count reads every match through IN, or walks contacts until past its cap through
        # EXISTS: the walk is cheaper once a tier holds more than about sqrt(cap x contacts)
        # (a million contacts: Member at 750,000 counted in 0.04 s instead of 0.6 s; Gold at
        # 70,000 stays on IN, 0.1 s instead of 0.3 s walking).
        probe = select(ContactTier.contact_id).where(ContactTier.tier == tier).limit(DENSE_COUNT)
        many = session.scalar(select(func.count()).select_from(probe.subquery()))
        walk = int(many or 0) >= DENSE_COUNT
    return _among(session, walk, ContactTier.contact_id, ContactTier.tier == tier)


def _points_between(
    session: Session, walk: bool, low: int | None, high: int | None
) -> list[ColumnElement[bool]]:
    """Contacts whose loyalty points balance now (the running balance of their latest ledger
    entry; 0 without one) is within ``low``..``high`` (inclusive, either may be None).

    Without 0 in the range, the matches are the holders of such a latest entry (see
    :func:`_among`). With 0 in it, contacts without an entry match too: each contact is then
    tested for a latest entry above ``high`` as the list is walked, one seek on the ledger's
    ``(contact_id, seq)`` key each, and a page or a capped count stops early; reading every
    holder above ``high`` instead took about a second at a million contacts.
    """
    from lealta.loyalty.tables import PointsEntry

    for name, value in (("points_min", low), ("points_max", high)):
        if value is not None and value < 0:
            raise InvalidInput(f"{name} must be 0 or more", field=name)
    if low is not None and high is not None and low > high:
        raise InvalidInput(f"points_min {low} is above points_max {high}", field="points_min")
    later = aliased(PointsEntry)
    latest = ~exists(
        select(later.seq).where(
            later.contact_id == PointsEntry.contact_id, later.seq > PointsEntry.seq
        )
    )
    if low:
        within = [latest, PointsEntry.balance >= low]
        if high is not None:
            within.append(PointsEntry.balance <= high)
        if not walk:
            # As for a tier (see _in_tier): a count walks contacts once the holders in range
            # number at least DENSE_COUNT, instead of reading them all off the ledger.
            probe = select(PointsEntry.contact_id).where(*within).limit(DENSE_COUNT)
            many = session.scalar(select(func.count()).select_from(probe.subquery()))
            walk = int(many or 0) >= DENSE_COUNT
        return [_among(session, walk, PointsEntry.contact_id, *within)]
    if high is None:
        return []  # at least 0: everyone
    above = select(PointsEntry.seq).where(
        PointsEntry.contact_id == Contact.id, latest, PointsEntry.balance > high
    )
    return [~exists(above)]


def _profile_filters(wanted: ContactFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if wanted.arrived_after is not None:
        found.append(arrived_at() >= as_utc(wanted.arrived_after))
    if wanted.stage:
        found.append(Contact.lifecycle_stage == wanted.stage)
    if wanted.score_min is not None:
        found.append(Contact.score >= wanted.score_min)
    if wanted.score_max is not None:
        found.append(Contact.score <= wanted.score_max)
    if wanted.seen_after is not None:
        found.append(Contact.last_seen_at >= as_utc(wanted.seen_after))
    if wanted.seen_before is not None:
        found.append(Contact.last_seen_at < as_utc(wanted.seen_before))
    if wanted.unseen_since is not None:
        since = as_utc(wanted.unseen_since)
        found.append(
            or_(
                Contact.last_seen_at < since,
                and_(Contact.last_seen_at.is_(None), Contact.created_at < since),
            )
        )
    return found


def _matches_text(session: Session, text: str, region: str, *, walk: bool) -> ColumnElement[bool]:
    """The search box: a part of the name or e-mail, a phone number, the contact or user id."""
    lowered = text.lower()
    # Exact keys are looked up first (index seeks) and passed on as bound ids, so PostgreSQL
    # does not turn "id IN (subquery) OR …" into a scan of every contact.
    kinds = [("user_id", text)]
    phone = None if _CONTACT_ID.match(lowered) else _as_phone(text, region)
    if phone:
        kinds.append(("phone", phone))
    address = _as_email(text, region)
    if address:
        kinds.append(("email", address))
    exact = [lowered] if _CONTACT_ID.match(lowered) else []
    exact += session.scalars(
        select(Identifier.contact_id).where(
            or_(*(and_(Identifier.kind == k, Identifier.value == v) for k, v in kinds))
        )
    )
    found: ColumnElement[bool] = Contact.id.in_(exact)
    # An id, a phone number or a whole e-mail address is looked up, never searched as a part
    # of names and addresses (which reads every row at a million contacts).
    if _CONTACT_ID.match(lowered) or phone or address:
        return found
    parts = _text_parts(session, lowered, fold(text), walk=walk)
    return or_(found, parts) if exact else parts


def _text_parts(session: Session, lowered: str, name: str, *, walk: bool) -> ColumnElement[bool]:
    """A part of the name or of an e-mail address. Both are found by scanning an index, not
    the tables (the folded name with the id; the addresses by kind and value with their row
    id). When few contacts match, their ids are looked up. When many do, a page walks
    contacts in list order testing each (it stops after a page); a count (``walk`` False)
    reads the matches from the indexes, which costs the same however many match."""
    in_address = Identifier.value.contains(lowered, autoescape=True)
    in_name = Contact.search_name.contains(name, autoescape=True)
    addresses = select(Identifier.id).where(Identifier.kind == "email", in_address)
    sources = [select(Identifier.contact_id).where(Identifier.id.in_(addresses))]
    if name:  # names first: a common one fills the probe before any address is read
        sources.insert(0, select(Contact.id).where(in_name))
    # The matches are read once per transaction (a page and its count ask the same), up to
    # DENSE of them: few are passed on as bound ids; many are tested contact by contact.
    probes: dict[tuple[str, str], list[str]] = session.info.setdefault("lealta_text_probes", {})
    if (lowered, name) not in probes:
        probes[lowered, name] = list(session.scalars(union_all(*sources).limit(DENSE + 1)))
    matched = probes[lowered, name]
    if len(matched) <= DENSE:
        return Contact.id.in_(set(matched))
    session.info[DENSE_TEXT] = True
    if not walk:
        return Contact.id.in_(union_all(*sources))
    has_address = exists(
        select(Identifier.id).where(
            Identifier.contact_id == Contact.id, Identifier.kind == "email", in_address
        )
    )
    return or_(has_address, in_name) if name else has_address


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")


def _as_email(text: str, region: str) -> str | None:
    """``text`` as a whole e-mail address when it reads as one, else None."""
    if not _EMAIL.match(text.strip()):
        return None
    try:
        return normalize("email", text, region)
    except InvalidInput:
        return None


def _as_phone(text: str, region: str) -> str | None:
    """``text`` as an E.164 phone number when it reads as one, else None."""
    if not _PHONE.match(text):
        return None
    try:
        return normalize("phone", text, region)
    except InvalidInput:
        return None


def _live(
    session: Session, wanted: ContactFilter, region: str, *, walk: bool = True
) -> list[ColumnElement[bool]]:
    # coalesce(...) = '' keeps SQLite from reading "merged_into IS NULL" through its index
    # (nearly every contact) and sorting them all, instead of walking (created_at, id).
    # PostgreSQL estimates the plain test right (nearly every row) but guesses the expression
    # rare, and then plans a broad filter as if it matched a handful.
    postgres = session.get_bind().dialect.name == "postgresql"
    unmerged = (
        Contact.merged_into.is_(None) if postgres else func.coalesce(Contact.merged_into, "") == ""
    )
    return [
        unmerged,
        Contact.erased_at.is_(None),
        *filters(session, wanted, region=region, walk=walk),
    ]


def count(
    session: Session, wanted: ContactFilter, *, region: str = "ES", cap: int = COUNT_CAP
) -> tuple[int, bool]:
    """How many contacts match, up to ``cap``; True when there are more than ``cap``.

    Counting every match of a broad filter at a million contacts reads a million rows for a
    figure nobody reads exactly; stopping past ``cap`` bounds the work to what a page shows."""
    conditions = _live(session, wanted, region, walk=False)
    if session.info.get(DENSE_TEXT):
        # Many contacts share this part of a name or address: walk the list up to a smaller
        # cap rather than gather every match ("More than 1,000 contacts").
        cap = min(cap, TEXT_COUNT_CAP)
        conditions = _live(session, wanted, region, walk=True)
    matching = select(Contact.id).where(*conditions).limit(cap + 1).subquery()
    found = int(session.scalar(select(func.count()).select_from(matching)) or 0)
    return min(found, cap), found > cap


def _has_identifier(kind: str, value: str) -> ColumnElement[bool]:
    return Contact.id.in_(
        select(Identifier.contact_id).where(Identifier.kind == kind, Identifier.value == value)
    )


def _on_list(session: Session, walk: bool, slug: str, status: str) -> ColumnElement[bool]:
    if status not in ("subscribed", "pending", "unsubscribed"):
        raise InvalidInput(
            "list_status must be subscribed, pending or unsubscribed", field="list_status"
        )
    list_id = session.scalar(select(ContactList.id).where(ContactList.slug == slug))
    if list_id is None:
        return false()
    return _among(
        session,
        walk,
        ListMembership.contact_id,
        ListMembership.list_id == list_id,
        ListMembership.status == status,
    )


# Above this many matching rows, a filter on another table is phrased as EXISTS: the page
# walks contacts in list order and probes each (it finds 50 among many quickly); below it, as
# IN: the few matches are looked up and sorted. The break-even is about sqrt(50 x contacts).
DENSE = 5_000
DENSE_COUNT = 100_000  # a tier this large is counted by walking contacts (see _in_tier)


def _among(
    session: Session,
    walk: bool,
    contact: InstrumentedAttribute[str],
    *where: ColumnElement[bool],
) -> ColumnElement[bool]:
    """Contacts with a row of ``contact``'s table meeting ``where``, phrased for the planner
    by how many rows match (SQLite would otherwise sort every match of a broad filter). A
    count (``walk`` False) always reads the matches themselves: it stops after a cap of them,
    while walking all contacts for a sparse filter would read them all."""
    if not walk:
        return Contact.id.in_(select(contact).where(*where))
    probe = select(contact).where(*where).limit(DENSE + 1).subquery()
    many = int(session.scalar(select(func.count()).select_from(probe)) or 0) > DENSE
    if many:
        return exists(select(contact).where(contact == Contact.id, *where))
    return Contact.id.in_(select(contact).where(*where))


def _attribute_equals(name: str, value: str, kind: str | None) -> ColumnElement[bool]:
    """Equality on one JSON attribute, compared the way its declared type is stored."""
    path = Contact.attributes[name]
    if kind in ("number", "integer"):
        try:
            number = float(value)
        except ValueError:
            raise InvalidInput(
                f"attribute {name!r} is a {kind}; {value!r} is not a number", field="attribute"
            ) from None
        equal: ColumnElement[bool] = path.as_float() == number
        return equal
    if kind == "boolean":
        lowered = value.strip().lower()
        if lowered not in ("true", "false"):
            raise InvalidInput(
                f"attribute {name!r} is a boolean; use true or false", field="attribute"
            )
        truth: ColumnElement[bool] = path.as_boolean() == (lowered == "true")
        return truth
    # Undeclared values may be JSON numbers: as text they compare alike on both databases.
    return cast(path.as_string(), String) == value
