"""``/v1/contacts`` and ``/v1/attributes``: profiles, search, tags, lists, consent, timeline.

Every endpoint needs an admin key. An id that was merged into another contact answers with
the survivor (``merged_from`` says so); an erased contact answers 410 Gone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from lealta.contacts import profiles, search, service, timeline, timeline_kinds
from lealta.contacts.schemas import (
    AttributeDefinitionIn,
    AttributeOut,
    ConsentIn,
    ConsentView,
    ContactIn,
    ContactPage,
    ContactPatch,
    MembershipIn,
    MembershipOut,
    Profile,
    Timeline,
)
from lealta.contacts.service import ContactErased, FieldConflict
from lealta.moments import Moment
from lealta.rest.auth import require_admin, services
from lealta.rest.errors import ApiError
from lealta.storage.retry import in_transaction


class ContactRoute(APIRoute):
    """Answers an erased contact with 410 Gone, and a conflict with the field it is about."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except ContactErased as exc:
                raise ApiError(410, "gone", str(exc)) from None
            except FieldConflict as exc:
                raise ApiError(409, "conflict", str(exc), field=exc.field) from None

        return route


router = APIRouter(
    prefix="/v1",
    tags=["contacts"],
    route_class=ContactRoute,
    dependencies=[Depends(require_admin)],
)

ContactId = Annotated[
    str, Path(description="The contact's id (a merged id leads to its survivor).")
]


def _now(request: Request) -> dt.datetime:
    return services(request).clock.now()


def _region(request: Request) -> str:
    return services(request).settings.default_phone_region


# -- contacts ------------------------------------------------------------------------------


@router.post("/contacts", response_model=Profile, status_code=201)
def create_contact(request: Request, body: ContactIn) -> Profile:
    """Create a contact. An identifier that already belongs to a contact answers 409 naming
    it (``identifiers.email`` …); the contact starts in the lifecycle's initial stage."""
    now, region = _now(request), _region(request)

    def work(session: Session) -> Profile:
        contact = service.create(session, body, now=now, region=region)
        return profiles.profile(session, contact, now=now)

    return in_transaction(services(request).uow, work)


@router.get("/contacts", response_model=ContactPage)
def search_contacts(
    request: Request,
    email: Annotated[str | None, Query(description="Exact e-mail (normalised).")] = None,
    phone: Annotated[str | None, Query(description="Phone, any spelling (normalised).")] = None,
    user_id: Annotated[str | None, Query()] = None,
    external_id: Annotated[str | None, Query(description="TYPE:ID")] = None,
    tag: Annotated[str | None, Query()] = None,
    list_: Annotated[str | None, Query(alias="list", description="A list's slug.")] = None,
    list_status: Annotated[str, Query(description="Membership status for `list`.")] = "subscribed",
    stage: Annotated[str | None, Query(description="Lifecycle stage.")] = None,
    score_min: Annotated[float | None, Query(description="Stored score at least.")] = None,
    score_max: Annotated[float | None, Query(description="Stored score at most.")] = None,
    seen_after: Annotated[Moment | None, Query(description="Last seen at or after.")] = None,
    seen_before: Annotated[Moment | None, Query(description="Last seen before.")] = None,
    attribute: Annotated[
        list[str], Query(description="NAME:VALUE equality on an attribute; repeatable.")
    ] = [],  # noqa: B006 - FastAPI copies defaults
    segment: Annotated[str | None, Query(description="RFM segment (contact_rfm).")] = None,
    r: Annotated[int | None, Query(ge=1, le=9, description="RFM recency score.")] = None,
    f: Annotated[int | None, Query(ge=1, le=9, description="RFM frequency score.")] = None,
    arrived_after: Annotated[
        Moment | None,
        Query(description="First seen (or created, when never seen) at or after."),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            description="The search box: a part of the name (first and last, any case, accents "
            "ignored) or of the e-mail, a phone number in any spelling, or the contact or user "
            "id exactly."
        ),
    ] = None,
    cluster: Annotated[
        int | None,
        Query(ge=0, le=2**31 - 1, description="K-Means cluster number (contact_rfm.cluster)."),
    ] = None,
    seen_within_days: Annotated[
        int | None, Query(ge=1, le=36_500, description="Last seen in the last N days.")
    ] = None,
    unseen_for_days: Annotated[
        int | None,
        Query(ge=1, le=36_500, description="Not seen for N days (never-seen ones included)."),
    ] = None,
    tier: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="Loyalty tier, any case (e.g. `gold`): contacts holding it now, by "
            "their orders or by decision. A tier the programme in force does not have, or "
            "any tier while no programme is in force, is a 400 naming `tier`.",
        ),
    ] = None,
    points_min: Annotated[
        int | None,
        Query(
            ge=0,
            description="Loyalty points balance now at least (the running balance of the "
            "contact's latest ledger entry; 0 for a contact without one).",
        ),
    ] = None,
    points_max: Annotated[
        int | None,
        Query(
            ge=0,
            description="Loyalty points balance now at most (contacts without points have 0, "
            "so they match). A `points_min` above it is a 400 naming `points_min`.",
        ),
    ] = None,
    p_alive_max: Annotated[
        float | None,
        Query(
            ge=0,
            le=1,
            description="Predicted probability of still being a customer (P(alive), from the "
            "latest `clv` run) at most, e.g. 0.3 for those most likely gone. Contacts without "
            "a prediction do not match.",
        ),
    ] = None,
    clv_min: Annotated[
        float | None,
        Query(description="Predicted customer value over the run's horizon at least."),
    ] = None,
    churn_band: Annotated[
        Literal["low", "medium", "high", "new"] | None,
        Query(
            description="Churn-risk band of the latest `clv` run: low (P(alive) at least 0.7), "
            "medium, high (under 0.3) or new (one purchase only)."
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=search.MAX_LIMIT)] = search.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="`next` of the previous page.")] = None,
) -> ContactPage:
    """Find contacts; every filter given must hold. Oldest first, ``limit`` per page."""
    wanted = search.ContactFilter(
        email=email,
        phone=phone,
        user_id=user_id,
        external_id=external_id,
        tag=tag,
        list=list_,
        list_status=list_status,
        stage=stage,
        score_min=score_min,
        score_max=score_max,
        seen_after=seen_after,
        seen_before=seen_before,
        attributes=tuple(search.parse_attribute_filter(a) for a in attribute),
        segment=segment,
        r=r,
        f=f,
        arrived_after=arrived_after,
        q=q,
        cluster=cluster,
        unseen_since=search.days_before(_now(request), unseen_for_days),
        tier=tier,
        points_min=points_min,
        points_max=points_max,
        p_alive_max=p_alive_max,
        clv_min=clv_min,
        churn_band=churn_band,
    )
    within = search.days_before(_now(request), seen_within_days)
    if within is not None and (seen_after is None or within > seen_after):
        wanted = replace(wanted, seen_after=within)
    now, region = _now(request), _region(request)
    with services(request).uow.transaction() as session:
        found, following = search.search(session, wanted, limit=limit, cursor=cursor, region=region)
        return ContactPage(contacts=profiles.profiles(session, found, now=now), next=following)


@router.get("/contacts/{contact_id}", response_model=Profile)
def get_contact(request: Request, contact_id: ContactId) -> Profile:
    """A contact's profile."""
    with services(request).uow.transaction() as session:
        contact, merged_from = service.get(session, contact_id)
        return profiles.profile(session, contact, now=_now(request), merged_from=merged_from)


@router.patch("/contacts/{contact_id}", response_model=Profile)
def update_contact(request: Request, contact_id: ContactId, body: ContactPatch) -> Profile:
    """Change attributes (``null`` removes one) or add and remove identifiers."""
    now, region = _now(request), _region(request)

    def work(session: Session) -> Profile:
        contact, merged_from = service.get(session, contact_id)
        service.update(session, contact, body, now=now, region=region)
        return profiles.profile(session, contact, now=now, merged_from=merged_from)

    return in_transaction(services(request).uow, work)


@router.get("/contacts/{contact_id}/timeline", response_model=Timeline)
def contact_timeline(
    request: Request,
    contact_id: ContactId,
    limit: Annotated[int, Query(ge=1, le=timeline.MAX_LIMIT)] = timeline.DEFAULT_LIMIT,
    before: Annotated[
        str | None,
        Query(description="An ISO 8601 time, or `next_before` of the previous page."),
    ] = None,
    kind: Annotated[
        str | None,
        Query(
            description="Only entries of this kind: "
            + ", ".join(f"`{k}`" for k in timeline_kinds.KINDS)
            + "; or only these events: "
            + "; ".join(
                f"`{family}` ({', '.join(names)})"
                for family, names in timeline_kinds.EVENT_FAMILIES.items()
            )
            + ". Pages are full until the oldest such entry; pass the same `kind` with `before`."
        ),
    ] = None,
) -> Timeline:
    """The single customer view: a summary and everything that happened, newest first
    (``kind`` keeps one kind of entry, or one family of events; an unknown kind is a 400
    naming the field)."""
    with services(request).uow.transaction() as session:
        contact = service.get_live(session, contact_id)
        return timeline.timeline(
            session, contact, now=_now(request), limit=limit, before=before, kind=kind
        )


# -- tags ----------------------------------------------------------------------------------


@router.put("/contacts/{contact_id}/tags/{tag}")
def tag_contact(request: Request, contact_id: ContactId, tag: str) -> dict[str, list[str]]:
    """Add a tag (adding it again changes nothing); answers the contact's tags."""
    now = _now(request)

    def work(session: Session) -> dict[str, list[str]]:
        contact = service.get_live(session, contact_id)
        service.add_tag(session, contact, tag, now=now)
        return {"tags": profiles.tags_of(session, [contact.id]).get(contact.id, [])}

    return in_transaction(services(request).uow, work)


@router.delete("/contacts/{contact_id}/tags/{tag}")
def untag_contact(request: Request, contact_id: ContactId, tag: str) -> dict[str, list[str]]:
    """Remove a tag; answers the contact's tags."""
    now = _now(request)
    with services(request).uow.transaction() as session:
        contact = service.get_live(session, contact_id)
        service.remove_tag(session, contact, tag, now=now)
        return {"tags": profiles.tags_of(session, [contact.id]).get(contact.id, [])}


# -- list memberships ------------------------------------------------------------------------


@router.put("/contacts/{contact_id}/lists/{slug}", response_model=MembershipOut)
def join_list(
    request: Request,
    contact_id: ContactId,
    slug: str,
    body: Annotated[MembershipIn | None, Body()] = None,
) -> MembershipOut:
    """Subscribe to a list: ``subscribed``, or ``pending`` on a double opt-in list until the
    person confirms (send ``confirmed: true`` once they have)."""
    now = _now(request)
    given = body or MembershipIn()

    def work(session: Session) -> MembershipOut:
        contact = service.get_live(session, contact_id)
        service.join_list(
            session, contact, slug, source=given.source, confirmed=given.confirmed, now=now
        )
        return _membership(session, contact.id, slug)

    return in_transaction(services(request).uow, work)


@router.delete("/contacts/{contact_id}/lists/{slug}", response_model=MembershipOut)
def leave_list(request: Request, contact_id: ContactId, slug: str) -> MembershipOut:
    """Unsubscribe from a list; the membership is kept with status ``unsubscribed``."""
    with services(request).uow.transaction() as session:
        contact = service.get_live(session, contact_id)
        service.leave_list(session, contact, slug, now=_now(request))
        return _membership(session, contact.id, slug)


def _membership(session: Session, contact_id: str, slug: str) -> MembershipOut:
    found = profiles.memberships_of(session, [contact_id]).get(contact_id, [])
    return next(m for m in found if m.slug == slug)


# -- consent -------------------------------------------------------------------------------


@router.put("/contacts/{contact_id}/consent/{channel}", response_model=ConsentView)
def set_consent(
    request: Request, contact_id: ContactId, channel: str, body: ConsentIn
) -> ConsentView:
    """Record a consent decision for a channel (email, sms, push, web_push, ads)."""
    now = _now(request)
    with services(request).uow.transaction() as session:
        contact = service.get_live(session, contact_id)
        service.set_consent(
            session,
            contact,
            channel,
            body.status,
            source=body.source,
            proof=body.proof,
            now=now,
        )
        return profiles.consent_view(session, contact)


@router.get("/contacts/{contact_id}/consent", response_model=ConsentView)
def get_consent(request: Request, contact_id: ContactId) -> ConsentView:
    """The decision in force per channel, and the history with its proof."""
    with services(request).uow.transaction() as session:
        return profiles.consent_view(session, service.get_live(session, contact_id))


# -- attributes ----------------------------------------------------------------------------


@router.get("/attributes", response_model=list[AttributeOut])
def list_attributes(request: Request) -> list[AttributeOut]:
    """Declared attributes and the built-in ones, by name."""
    with services(request).uow.transaction() as session:
        return service.list_attributes(session)


@router.put("/attributes/{name}", response_model=AttributeOut)
def declare_attribute(request: Request, name: str, body: AttributeDefinitionIn) -> AttributeOut:
    """Declare an attribute's type. Existing values are converted to the type's canonical
    form; when some cannot be, 409 says how many."""
    now = _now(request)
    with services(request).uow.transaction() as session:
        return service.declare_attribute(session, name, body, now=now)
