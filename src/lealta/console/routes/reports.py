"""Campaign reports: the message report with charts, A/B splits and NPS (``/reports``), its CSV,
the contacts behind any figure, and deliverability with the suppression list."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from lealta.console.auth import SignedIn, signed_in
from lealta.console.edits import audit
from lealta.console.rendering import HEADERS, checked_form, render, services_of
from lealta.console.reports_page import (
    behind_context,
    csv_table,
    deliverability_context,
    reports_context,
)
from lealta.errors import InvalidInput, NotFound
from lealta.feedback import deliverability
from lealta.storage.retry import in_transaction

router = APIRouter(include_in_schema=False)


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """Per workflow, step, template or channel: what was sent and what followed, over time."""
    context = reports_context(services_of(request), dict(request.query_params))
    status = 400 if context["problem"] else 200
    return render(request, "reports.html", user=user, status=status, **context)


@router.get("/reports.csv")
def reports_csv(request: Request, user: SignedIn = Depends(signed_in)) -> Response:
    """The report table as CSV, for the same period and grouping."""
    try:
        name, table = csv_table(services_of(request), dict(request.query_params))
    except InvalidInput as problem:
        return Response(str(problem), 400, media_type="text/plain", headers=HEADERS)
    out = io.StringIO()
    csv.writer(out).writerows(table)
    headers = {**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/reports/contacts", response_class=HTMLResponse)
def report_contacts(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """The people behind a figure of the reports, a page at a time."""
    context = behind_context(services_of(request), dict(request.query_params))
    status = 400 if context["problem"] else 200
    return render(request, "report_contacts.html", user=user, status=status, **context)


@router.get("/reports/deliverability", response_class=HTMLResponse)
def deliverability_page(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """Bounces and complaints by provider and domain, and the suppression list."""
    context = deliverability_context(services_of(request), dict(request.query_params))
    return render(request, "deliverability.html", user=user, **context)


@router.post("/reports/deliverability/lift", response_class=HTMLResponse)
async def lift_suppression(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """Take an address off the suppression list, with a reason (admins; audited)."""
    form = await checked_form(request, user, "manage_channels")
    services = services_of(request)
    channel, address = str(form.get("channel", "")), str(form.get("address", ""))
    reason = str(form.get("reason", ""))
    now = services.clock.now()

    def work(session: Session) -> str:
        owner = deliverability.lift(
            session,
            channel=channel,
            address=address,
            reason=reason,
            by=f"console:{user.email}",
            now=now,
        )
        detail = {"channel": channel, "address": address.strip(), "reason": reason.strip()}
        target = f"contact {owner}" if owner else f"suppression {channel}"
        audit(session, user, "suppression lifted", target, now, detail)
        return owner

    query = {k: str(v) for k, v in form.items() if k in ("q", "period", "from", "to")}
    try:
        await run_in_threadpool(in_transaction, services.uow, work)
    except (InvalidInput, NotFound) as problem:
        context = await run_in_threadpool(
            deliverability_context, services, query, problem=str(problem)
        )
        return render(request, "deliverability.html", user=user, status=400, **context)
    notice = f"{address.strip()} may receive {channel} messages again."
    context = await run_in_threadpool(deliverability_context, services, query, notice=notice)
    return render(request, "deliverability.html", user=user, **context)
