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
* ``GET /v1/reports/splits``: the A/B splits of workflows, per branch, with each branch
  tested against the control (:mod:`lealta.feedback.splits`); ``GET /v1/reports/nps``: the
  NPS of each survey with its latest comments (:mod:`lealta.feedback.nps`). Both take the
  period and ``audience=ID`` as the message report does (then only the members' runs and
  answers count); admin key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from lealta.audiences.members import member_ids
from lealta.contacts.schemas import UtcTime
from lealta.errors import InvalidInput
from lealta.feedback import bounces, deliverability
from lealta.feedback.nps import CATEGORIES, nps
from lealta.feedback.reports import Contacts, message_report
from lealta.feedback.splits import split_results
from lealta.moments import Moment
from lealta.rest.auth import Caller, authenticate, key_from_headers, require_admin, services
from lealta.rest.errors import ApiError
from lealta.storage.retry import in_transaction

router = APIRouter(prefix="/v1", tags=["deliverability"])
T = TypeVar("T")

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
    since_utc, until_utc = _utc(since), _utc(until)
    with services(request).uow.transaction() as session:
        contacts = _members(session, audience)
        rows = message_report(session, by=by, since=since_utc, until=until_utc, contacts=contacts)
    return MessageReport(
        by=by,
        since=since_utc,
        until=until_utc,
        audience=audience,
        rows=[ReportRow.model_validate(row.as_dict()) for row in rows],
    )


SinceQuery = Annotated[Moment | None, Query(description="From (ISO 8601); default: all.")]
UntilQuery = Annotated[Moment | None, Query(description="Before (ISO 8601); default: all.")]
AudienceQuery = Annotated[
    int | None,
    Query(
        ge=1,
        le=2**63 - 1,
        description="Only this audience's members (its id): their runs, answers.",
    ),
]
# The bounds of "all" for the reports whose queries need both.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


class BranchOut(BaseModel):
    """One branch of a split: its people and what they did after the split."""

    name: str
    people: int = Field(description="Runs sent down the branch.")
    opened: int = Field(description="Of them, runs with an open of a message sent after it.")
    clicked: int = Field(description="Of them, runs with a click of a message sent after it.")
    goal: int = Field(description="Of them, runs that reached the workflow's goal.")
    revenue: str = Field(description="Orders credited to the messages after it (decimal).")


class ComparisonOut(BaseModel):
    """A branch tested against the control by the two-proportion z-test."""

    measure: Literal["clicked", "goal"]
    control: str
    branch: str
    z: float | None
    p_value: float | None = Field(description="Two-sided; null when the test cannot be made.")
    significant: bool = Field(description="At 95 %, and with enough data.")
    enough: bool = Field(description="5 people who did and 5 who did not in each branch.")
    verdict: str = Field(description="The result in words, as the console shows it.")


class SplitOut(BaseModel):
    """One split step of a workflow, the control (first by name) first."""

    workflow: str
    workflow_name: str
    step: str
    branches: list[BranchOut]
    comparisons: list[ComparisonOut]


class SplitReport(BaseModel):
    """The splits made in `[since, until)`, by workflow name and step."""

    since: UtcTime | None
    until: UtcTime | None
    audience: int | None = Field(None, description="The audience filtered by (its id), if any.")
    splits: list[SplitOut]


class CommentOut(BaseModel):
    """A comment left after answering."""

    contact_id: str
    score: int
    category: str
    at: UtcTime
    text: str


class SurveyOut(BaseModel):
    """One survey's answers in force: NPS = 100 x (promoters - detractors) / answers."""

    survey: str
    answers: int
    nps: int | None = Field(description="-100 to 100; null without answers.")
    promoter: int
    passive: int
    detractor: int
    comments: list[CommentOut] = Field(description="The newest comments, newest first.")


class NpsReport(BaseModel):
    """Every survey answered in `[since, until)`, most answers first."""

    since: UtcTime | None
    until: UtcTime | None
    audience: int | None = Field(None, description="The audience filtered by (its id), if any.")
    surveys: list[SurveyOut]


@router.get("/reports/splits", response_model=SplitReport, dependencies=[Depends(require_admin)])
def report_splits(
    request: Request,
    since: SinceQuery = None,
    until: UntilQuery = None,
    audience: AudienceQuery = None,
) -> SplitReport:
    """A/B splits of workflows: per branch its people, opens, clicks, goals and revenue, and
    each branch tested against the control on the click and goal rates."""
    since_utc, until_utc = _utc(since), _utc(until)
    found = _over_period(request, split_results, since_utc, until_utc, audience)
    splits = [
        SplitOut(
            workflow=split.workflow,
            workflow_name=split.workflow_name,
            step=split.step,
            branches=[
                BranchOut(**{**vars(branch), "revenue": str(branch.revenue)})
                for branch in split.branches
            ],
            comparisons=[
                ComparisonOut(
                    measure=measure,
                    control=c.a.name,
                    branch=c.b.name,
                    z=c.z,
                    p_value=c.p_value,
                    significant=c.significant,
                    enough=c.enough,
                    verdict=c.verdict("click rate" if measure == "clicked" else "goal rate"),
                )
                for measure in ("clicked", "goal")
                for c in split.comparisons(measure)
            ],
        )
        for split in found
    ]
    return SplitReport(since=since_utc, until=until_utc, audience=audience, splits=splits)


@router.get("/reports/nps", response_model=NpsReport, dependencies=[Depends(require_admin)])
def report_nps(
    request: Request,
    since: SinceQuery = None,
    until: UntilQuery = None,
    audience: AudienceQuery = None,
) -> NpsReport:
    """The NPS of each survey: promoters, passives, detractors and the latest comments."""
    since_utc, until_utc = _utc(since), _utc(until)
    found = _over_period(request, nps, since_utc, until_utc, audience)
    surveys = [
        SurveyOut(
            survey=survey.survey,
            answers=survey.answers,
            nps=survey.score,
            **{category: survey.counts[category] for category in CATEGORIES},
            comments=[CommentOut(**vars(comment)) for comment in survey.comments],
        )
        for survey in found
    ]
    return NpsReport(since=since_utc, until=until_utc, audience=audience, surveys=surveys)


def _over_period(
    request: Request,
    report: Callable[..., list[T]],
    since: dt.datetime | None,
    until: dt.datetime | None,
    audience: int | None,
) -> list[T]:
    """``report`` (a service taking ``since``, ``until`` and ``contacts``) over the period, of
    everyone or of ``audience``'s members."""
    with services(request).uow.transaction() as session:
        contacts = _members(session, audience)
        return report(session, since=since or EARLIEST, until=until or LATEST, contacts=contacts)


def _members(session: Session, audience: int | None) -> Contacts:
    """The members of ``audience`` as a select of contact ids (``None``: everyone); an unknown
    audience is a 422 naming ``audience``."""
    try:
        return None if audience is None else member_ids(session, audience)
    except InvalidInput as problem:
        raise ApiError(422, "invalid_input", str(problem), field="audience") from None


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
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
