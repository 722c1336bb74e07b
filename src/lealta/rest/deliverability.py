"""Delivery feedback and message reports.

* ``POST /v1/feedback/bounces``: bounces, complaints and deliveries from e-mail providers
  (generic JSON, Amazon SES through SNS, SendGrid, Mailgun, Postmark; see
  :mod:`lealta.feedback.bounces`).
  Authorised by an admin key (``Authorization: Bearer KEY``, or Basic with the key as user
  name, which providers accept in the URL as ``https://KEY@host/…``), or by
  ``?token=…`` for providers that cannot send credentials: ``lealta reports webhook-url``
  prints the URL with it (the token derives from the secret key).
* ``GET /v1/reports/messages``: sent, delivered, bounced, opened, clicked, unsubscribed,
  complained, converted and revenue with their rates, per template, step, channel or workflow
  (see :mod:`lealta.feedback.reports`), of everyone or of one audience's members
  (``audience=ID``); admin key.
* ``/v1/suppressions``: the addresses no message goes to, and lifting one; admin key.

The A/B split and NPS reports are :mod:`lealta.rest.split_nps_reports`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from lealta.audiences.members import member_ids
from lealta.contacts.schemas import UtcTime
from lealta.errors import InvalidInput
from lealta.feedback import bounces, deliverability
from lealta.feedback.reports import Contacts, message_report
from lealta.moments import Moment
from lealta.rest.auth import Caller, authenticate, key_from_headers, require_admin, services
from lealta.rest.errors import ApiError
from lealta.storage.retry import in_transaction

router = APIRouter(prefix="/v1", tags=["deliverability"])

MAX_BODY = 5 * 1024 * 1024
Provider = Literal["generic", "ses", "sendgrid", "mailgun", "postmark"]
Grouping = Literal["template", "step", "channel", "workflow"]


def feedback_caller(
    request: Request,
    token: Annotated[
        str | None, Query(description="The webhook token (`lealta reports webhook-url`).")
    ] = None,
) -> Caller | None:
    """Dependency: the webhook token, or else an admin key."""
    if token is not None:
        if bounces.token_matches(services(request).settings.secret_key, token):
            return None
        raise ApiError(401, "unauthorized", "the webhook token is not valid", field="token")
    return authenticate(request, key_from_headers(request), scopes=("admin",))


class FeedbackOut(BaseModel):
    """What was done with the body."""

    provider: Provider = Field(description="The format the body was read as.")
    events: int = Field(
        description="Bounces and complaints found, and deliveries of messages Lealta sent."
    )
    applied: int = Field(description="Events acted on now.")
    duplicates: int = Field(description="Events seen before (replays); nothing was done.")
    ignored: int = Field(
        description="Events of other kinds (opens, deferrals …) and deliveries of messages "
        "Lealta did not send."
    )
    unmatched: int = Field(description="Events whose message was not found (still acted on).")
    suppressed: list[str] = Field(description="Addresses on the suppression list after this.")
    subscribe_url: str | None = Field(
        None,
        description="Amazon SNS subscription confirmation: open this URL once to confirm "
        "(Lealta does not fetch it).",
    )


@router.post("/feedback/bounces", response_model=FeedbackOut)
async def receive_bounces(
    request: Request,
    _caller: Annotated[Caller | None, Depends(feedback_caller)],
    provider: Annotated[
        Provider | None, Query(description="Read the body as this format (detected if omitted).")
    ] = None,
) -> FeedbackOut:
    """Bounces, complaints and deliveries: hard bounces and complaints suppress the address;
    complaints withdraw e-mail consent; soft bounces suppress after 3 in 30 days; deliveries
    count as delivered on their message. Replays are harmless."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(
            413, "too_large", f"the body may be {MAX_BODY:,} bytes at most", field="body"
        )
    try:
        document: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not JSON: {exc}", field="body") from None
    found = services(request)
    now = found.clock.now()

    def work(session: Session) -> bounces.Received:
        return bounces.receive(session, document, now=now, provider=provider)

    outcome = await run_in_threadpool(in_transaction, found.uow, work)
    return FeedbackOut.model_validate(outcome, from_attributes=True)


class ReportRow(BaseModel):
    """One group's counts and rates (fractions, `null` when out of nothing)."""

    template: str | None = None
    workflow: str | None = None
    step: str | None = None
    channel: str | None = None
    sent: int
    delivered: int
    bounced: int
    opened_unique: int = Field(description="Distinct contacts who opened.")
    opened_total: int = Field(description="Every open recorded.")
    clicked_unique: int = Field(description="Distinct contacts who clicked.")
    clicked_total: int
    unsubscribed: int
    complained: int
    converted: int = Field(description="Orders credited to these messages.")
    converters: int = Field(description="Distinct buyers among them.")
    revenue: str = Field(description="Sum of the credited orders, as a decimal string.")
    open_rate: float | None
    click_rate: float | None
    click_to_open: float | None
    unsubscribe_rate: float | None
    complaint_rate: float | None
    bounce_rate: float | None
    conversion_rate: float | None


class MessageReport(BaseModel):
    """Messages sent in `[since, until)` grouped `by`, most sent first."""

    by: Grouping
    since: UtcTime | None
    until: UtcTime | None
    audience: int | None = Field(None, description="The audience filtered by (its id), if any.")
    rows: list[ReportRow]


@router.get(
    "/reports/messages", response_model=MessageReport, dependencies=[Depends(require_admin)]
)
def report_messages(
    request: Request,
    by: Annotated[Grouping, Query(description="Group by this.")] = "template",
    since: Annotated[Moment | None, Query(description="Sent from (ISO 8601).")] = None,
    until: Annotated[Moment | None, Query(description="Sent before (ISO 8601).")] = None,
    audience: Annotated[
        int | None,
        Query(
            ge=1,
            le=2**63 - 1,
            description="Only the messages sent to this audience's members (id).",
        ),
    ] = None,
) -> MessageReport:
    """Per template, workflow step, channel or workflow: what was sent and what followed."""
    since_utc, until_utc = utc_or_none(since), utc_or_none(until)
    with services(request).uow.transaction() as session:
        contacts = audience_contacts(session, audience)
        rows = message_report(session, by=by, since=since_utc, until=until_utc, contacts=contacts)
    return MessageReport(
        by=by,
        since=since_utc,
        until=until_utc,
        audience=audience,
        rows=[ReportRow.model_validate(row.as_dict()) for row in rows],
    )


def audience_contacts(session: Session, audience: int | None) -> Contacts:
    """The members of ``audience`` as a select of contact ids (``None``: everyone); an unknown
    audience is a 422 naming ``audience``."""
    try:
        return None if audience is None else member_ids(session, audience)
    except InvalidInput as problem:
        raise ApiError(422, "invalid_input", str(problem), field="audience") from None


def utc_or_none(moment: dt.datetime | None) -> dt.datetime | None:
    """A query's moment in UTC (a naive one taken as UTC); None stays None."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class SuppressionOut(BaseModel):
    """An address no message goes to on a channel."""

    id: int
    channel: str
    address: str
    reason: str = Field(description="bounce, complaint, unsubscribe, stop, invalid_token, manual …")
    source: str = Field(description="Who put it there (a provider, `api`, a channel).")
    created_at: UtcTime


class SuppressionPage(BaseModel):
    """Suppressions, newest first; pass `before` for the next page."""

    suppressions: list[SuppressionOut]
    total: int = Field(description="How many match, in all.")
    before: int | None = Field(description="The `before` of the next page (null at the end).")


class Lifted(BaseModel):
    """A suppression lifted; `contact_id` is the contact owning the address, if any."""

    channel: str
    address: str
    contact_id: str | None


@router.get("/suppressions", response_model=SuppressionPage, dependencies=[Depends(require_admin)])
def list_suppressions(
    request: Request,
    q: Annotated[str, Query(description="A part of the address (any case).")] = "",
    channel: Annotated[str | None, Query(description="Only this channel's.")] = None,
    before: Annotated[
        int | None,
        Query(ge=1, le=2**63 - 1, description="From the previous page's `before`."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> SuppressionPage:
    """The suppression list, searched by address, newest first."""
    with services(request).uow.transaction() as session:
        page = deliverability.search(session, text=q, channel=channel, before=before, limit=limit)
        rows = [SuppressionOut.model_validate(row, from_attributes=True) for row in page.rows]
    return SuppressionPage(suppressions=rows, total=page.total, before=page.before)


@router.delete("/suppressions/{channel}/{address}", response_model=Lifted)
def lift_suppression(
    request: Request,
    caller: Annotated[Caller, Depends(require_admin)],
    channel: str,
    address: str,
    reason: Annotated[str, Query(description="Why the address may receive messages again.")],
) -> Lifted:
    """Take an address off the suppression list; the reason goes on the owner's timeline
    (`Suppression Lifted`). 404 when it was not on the list."""
    found = services(request)
    by = f"api:{caller.key_id}"
    now = found.clock.now()

    def work(session: Session) -> str:
        return deliverability.lift(
            session, channel=channel, address=address, reason=reason, by=by, now=now
        )

    owner = in_transaction(found.uow, work)
    return Lifted(channel=channel, address=address.strip(), contact_id=owner or None)
