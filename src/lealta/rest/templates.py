"""``/v1/templates``: message templates — store, read, delete, validate and preview; admin key.

``PUT /v1/templates/{id}`` validates before storing: an error answers 400 with every problem
(part, line, message) in ``error.problems``; warnings come back with the stored template.
``POST /v1/templates/{id}/preview`` renders for a contact (or nobody, to see the fallbacks),
and can preview an unsaved ``body`` under that id. ``POST /v1/templates/{id}/test-send`` sends
an e-mail template as a test (``[Test]`` subject, never through the outbox, never counted).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from lealta.contacts.schemas import UtcTime
from lealta.messages import service, testsend
from lealta.messages.model import CHANNELS
from lealta.messages.problems import Problem, TemplateInvalid
from lealta.messages.tables import MessageTemplate
from lealta.messages.validate import check
from lealta.nesting import JsonObject
from lealta.rest.auth import require_admin, services
from lealta.rest.errors import error_body
from lealta.storage.retry import in_transaction

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["templates"], dependencies=[Depends(require_admin)])

TemplateId = Annotated[str, Path(description="The template id workflows' send steps name.")]
_CHANNEL_HELP = f"One of {', '.join(CHANNELS)}."


class ProblemOut(BaseModel):
    """A problem found in a template."""

    severity: str = Field(description="`error` (not saved) or `warning`.")
    part: str = Field(description="Where: `subject`, `html`, `variants.pt-BR.text` …")
    line: int | None = Field(description="Line in that part (1-based), when known.")
    message: str


class TemplateOut(BaseModel):
    """A stored template."""

    id: str
    channel: str
    description: str
    version: int = Field(description="Counts saves that changed something.")
    body: dict[str, Any] = Field(description="The parts and variants (see the JSON Schema).")
    created_at: UtcTime
    updated_at: UtcTime
    warnings: list[ProblemOut] = Field(default_factory=list, description="From the last save.")


class TemplateSummary(BaseModel):
    """A template in a list."""

    id: str
    channel: str
    description: str
    version: int
    updated_at: UtcTime


class TemplateList(BaseModel):
    """Templates by id."""

    templates: list[TemplateSummary]


class TemplateIn(BaseModel):
    """A template to store."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(description=_CHANNEL_HELP)
    description: str = Field("", max_length=500)
    body: JsonObject = Field(description="The parts: e-mail `subject`, `html`/`mjml` …")


class ValidateIn(BaseModel):
    """A template body to check without storing it."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(description=_CHANNEL_HELP)
    body: JsonObject


class ValidateOut(BaseModel):
    """The outcome of a check."""

    valid: bool = Field(description="No errors (warnings allowed).")
    problems: list[ProblemOut]


class PreviewIn(BaseModel):
    """Whom to preview for, and optionally an unsaved body."""

    model_config = ConfigDict(extra="forbid")

    contact_id: str | None = Field(None, description="Render with this contact's data.")
    payload: JsonObject = Field(
        default_factory=dict, description="What a workflow step would pass (`payload.*`)."
    )
    language: str | None = Field(None, description="Force a variant (default: the contact's).")
    strict: bool = Field(False, description="Fail on missing values instead of leaving blanks.")
    channel: str | None = Field(None, description="With `body`: its channel.")
    body: JsonObject | None = Field(None, description="Preview this instead of the stored one.")


class PreviewOut(BaseModel):
    """The rendered parts (e-mail: `subject`, `html`, `text` …)."""

    template_id: str
    channel: str
    parts: dict[str, Any]


def _problem(problem: Problem) -> ProblemOut:
    return ProblemOut(
        severity=problem.severity, part=problem.part, line=problem.line, message=problem.message
    )


def _out(row: MessageTemplate, warnings: list[Problem] | None = None) -> TemplateOut:
    return TemplateOut(
        id=row.id,
        channel=row.channel,
        description=row.description,
        version=row.version,
        body=dict(row.body),
        created_at=row.created_at,
        updated_at=row.updated_at,
        warnings=[_problem(p) for p in warnings or []],
    )


def _invalid(exc: TemplateInvalid) -> JSONResponse:
    problems = [_problem(p).model_dump() for p in exc.problems]
    body = error_body("invalid_input", str(exc), exc.field, line=exc.line, problems=problems)
    return JSONResponse(body, 400)


@router.get("/templates", response_model=TemplateList)
def list_templates(
    request: Request,
    channel: Annotated[str | None, Query(description="Only this channel.")] = None,
) -> TemplateList:
    """Templates by id."""
    with services(request).uow.transaction() as session:
        rows = service.list_(session, channel=channel)
        return TemplateList(
            templates=[
                TemplateSummary(
                    id=r.id,
                    channel=r.channel,
                    description=r.description,
                    version=r.version,
                    updated_at=r.updated_at,
                )
                for r in rows
            ]
        )


@router.get("/templates/{template_id}", response_model=TemplateOut)
def get_template(request: Request, template_id: TemplateId) -> TemplateOut:
    """One template."""
    with services(request).uow.transaction() as session:
        return _out(service.get(session, template_id))


@router.put(
    "/templates/{template_id}",
    response_model=TemplateOut,
    responses={400: {"description": "Invalid: `error.problems` lists part, line and message."}},
)
def put_template(
    request: Request, template_id: TemplateId, body: TemplateIn
) -> TemplateOut | JSONResponse:
    """Create or replace a template (validated first; the version goes up when it changed)."""
    found = services(request)
    now = found.clock.now()

    def work(session: Session) -> TemplateOut:
        saved = service.save(
            session, template_id, body.channel, body.body, body.description, now=now
        )
        return _out(saved.template, saved.warnings)

    try:
        return in_transaction(found.uow, work)
    except TemplateInvalid as exc:
        return _invalid(exc)


@router.delete("/templates/{template_id}", status_code=204, response_class=Response)
def delete_template(request: Request, template_id: TemplateId) -> Response:
    """Delete a template (messages still queued for it will fail to render)."""
    in_transaction(services(request).uow, lambda s: service.delete(s, template_id))
    return Response(status_code=204)


@router.post("/templates/validate", response_model=ValidateOut)
def validate_template(body: ValidateIn) -> ValidateOut:
    """Check a body without storing it: syntax, unknown variables, line numbers."""
    problems = check(body.channel, body.body)
    return ValidateOut(
        valid=not any(p.severity == "error" for p in problems),
        problems=[_problem(p) for p in problems],
    )


@router.post("/templates/{template_id}/preview", response_model=PreviewOut)
def preview_template(
    request: Request, template_id: TemplateId, body: PreviewIn
) -> PreviewOut | JSONResponse:
    """Render a template for a contact, as it would be sent (links are not rewritten)."""
    found = services(request)
    now = found.clock.now()
    with found.uow.transaction() as session:
        if body.body is not None:
            channel = body.channel or service.get(session, template_id).channel
            problems = check(channel, body.body)
            if any(p.severity == "error" for p in problems):
                return _invalid(TemplateInvalid(problems))
            source = body.body
        else:
            stored = service.get(session, template_id)
            channel, source = stored.channel, stored.body
        parts = service.render_body(
            session,
            found.settings,
            channel=channel,
            body=source,
            template_id=template_id,
            contact_id=body.contact_id,
            payload=body.payload,
            now=now,
            strict=body.strict,
            language=body.language,
        )
    return PreviewOut(template_id=template_id, channel=channel, parts=parts)


class TestSendIn(BaseModel):
    """Where to send a test, for whom to render it, and optionally an unsaved body."""

    model_config = ConfigDict(extra="forbid")

    to: str = Field(description="The address the test goes to (not a contact's).")
    contact_id: str | None = Field(None, description="Render with this contact's data.")
    language: str | None = Field(None, description="Force a variant (default: the contact's).")
    channel: str | None = Field(None, description="With `body`: its channel.")
    body: JsonObject | None = Field(None, description="Send this instead of the stored one.")


class TestSentOut(BaseModel):
    """A test the SMTP relay accepted."""

    to: str
    subject: str = Field(description="As sent, starting with `[Test] `.")
    message_id: str


@router.post(
    "/templates/{template_id}/test-send",
    response_model=TestSentOut,
    responses={409: {"description": "No e-mail channel is configured."}},
)
def test_send_template(
    request: Request, template_id: TemplateId, body: TestSendIn
) -> TestSentOut | JSONResponse:
    """Send an e-mail template as a test to ``to`` through the configured e-mail channel.

    Rendered exactly as it will be sent (tracked links, open pixel, unsubscribe), with
    ``[Test]`` before the subject and the header ``X-Lealta-Test: yes``. It never goes through
    the outbox: reports never count it, no contact's frequency cap is used, and its links
    record nothing when followed.
    """
    found = services(request)
    try:
        with found.uow.transaction() as session:
            draft = testsend.draft_of(
                session,
                template_id,
                channel=body.channel,
                body=body.body,
                contact_id=body.contact_id,
                language=body.language,
            )
    except TemplateInvalid as exc:
        return _invalid(exc)
    sent = testsend.send_test_with_settings(found, draft, body.to)
    log.info("test of template %s sent to %s", template_id, sent.to)
    return TestSentOut(to=sent.to, subject=sent.subject, message_id=sent.message_id)
