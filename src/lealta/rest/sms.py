"""``/v1/sms``: what the SMS provider (Twilio or compatible) posts back to Lealta.

* ``POST /v1/sms/inbound`` — point the sending number's "A message comes in" webhook here.
  A reply that is only an opt-out keyword (``STOP``, ``STOPALL``, ``UNSUBSCRIBE``, ``CANCEL``,
  ``END``, ``QUIT`` …; any case) withdraws the sender's SMS consent, puts the number on the
  suppression list and records ``SMS Opt-Out``; ``START`` or ``UNSTOP`` lifts the suppression,
  grants SMS consent again (the person asked for it) and records ``SMS Opt-In``. Other replies
  are acknowledged and ignored. The answer is empty TwiML (``<Response/>``): no auto-reply.
* ``POST /v1/sms/status`` — delivery reports (the ``StatusCallback`` Lealta sets on each
  message when ``public_url`` is configured): ``delivered`` is recorded as a delivery,
  ``undelivered`` and ``failed`` as a bounce, matched to the message by its provider id.

Both check ``X-Twilio-Signature`` with the account's auth token (403 when it does not match),
against the URL the request arrived at and the same path under ``public_url``. A repeated
post (providers retry) changes nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from lealta import feedback
from lealta.bootstrap import Services
from lealta.channels.sms import signature_matches
from lealta.channels.sms_text import reply_keyword
from lealta.channels.tables import OutboxMessage
from lealta.config import Settings
from lealta.contacts.consent import record_consent
from lealta.errors import InvalidInput
from lealta.events.tables import Event
from lealta.feedback.service import add_event
from lealta.identity.normalize import normalize_phone
from lealta.identity.service import find_contact
from lealta.rest.auth import services
from lealta.rest.errors import ApiError
from lealta.storage.retry import in_transaction

router = APIRouter(prefix="/v1/sms", tags=["sms"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_FIELDS = 100
SIGNATURE_HEADER = "X-Twilio-Signature"
# Delivery reports that are final; the others (queued, sending, sent …) are skipped.
REPORTED = {"delivered": "delivered", "undelivered": "bounced", "failed": "bounced"}
# Error codes of a report that mean the number can never receive texts from this sender:
# opted out (21610), unknown handset (30005), landline or unreachable carrier (30006).
SUPPRESSING_ERRORS = {"21610": "stop", "30005": "bounce", "30006": "bounce"}


@router.post("/inbound", response_class=Response)
async def inbound(request: Request) -> Response:
    """An incoming SMS: STOP and START replies change consent and the suppression list."""
    found = services(request)
    params = await _signed_form(request, found.settings)
    keyword = reply_keyword(params.get("Body", ""))
    if keyword is not None:
        await run_in_threadpool(in_transaction, found.uow, _Reply(found, params, keyword))
    return Response(EMPTY_TWIML, media_type="application/xml")


@router.post("/status", status_code=204, response_class=Response)
async def status(request: Request) -> Response:
    """A delivery report: ``delivered``, ``undelivered`` or ``failed`` is recorded."""
    found = services(request)
    params = await _signed_form(request, found.settings)
    state = params.get("MessageStatus") or params.get("SmsStatus") or ""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if state in REPORTED and sid:
        now = found.clock.now()
        await run_in_threadpool(
            in_transaction, found.uow, lambda session: _report(session, params, state, sid, now)
        )
    return Response(status_code=204)


async def _signed_form(request: Request, settings: Settings) -> dict[str, str]:
    """The posted form, once its ``X-Twilio-Signature`` is verified (403 otherwise)."""
    if not settings.sms_auth_token:
        raise ApiError(403, "sms_not_configured", "SMS is not configured (LEALTA_SMS_AUTH_TOKEN)")
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    pairs = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    urls = [str(request.url)]
    if settings.public_url:
        query = f"?{request.url.query}" if request.url.query else ""
        urls.append(f"{settings.base_url}{request.url.path}{query}")
    header = request.headers.get(SIGNATURE_HEADER)
    if not signature_matches(settings.sms_auth_token, urls, pairs, header):
        raise ApiError(
            403, "bad_signature", f"{SIGNATURE_HEADER} does not match", field=SIGNATURE_HEADER
        )
    return dict(pairs)


class _Reply:
    """Applying a STOP or START reply in one transaction (callable for ``in_transaction``)."""

    def __init__(self, found: Services, params: Mapping[str, str], keyword: str) -> None:
        self.region = found.settings.default_phone_region
        self.now = found.clock.now()
        self.params = params
        self.keyword = keyword

    def __call__(self, session: Session) -> None:
        try:
            phone = normalize_phone(self.params.get("From", ""), self.region)
        except InvalidInput:
            return  # not a phone number (a short code or a test tool): nothing to change
        sid = self.params.get("MessageSid") or self.params.get("SmsSid") or ""
        event_id = f"sms:{sid}" if sid else f"sms:{phone}:{self.keyword}:{self.now.isoformat()}"
        if session.scalar(select(Event.id).where(Event.message_id == event_id)) is not None:
            return  # the provider posted this reply before
        details = {"keyword": self.params.get("Body", "").strip(), "message_sid": sid}
        if self.keyword == "stop":
            feedback.suppress(
                session,
                channel="sms",
                address=phone,
                reason="stop",
                source="twilio",
                details=details,
                at=self.now,
            )
        else:
            feedback.unsuppress(session, "sms", phone)
        contact = find_contact(session, "phone", phone)
        if contact is not None:
            self._consent(session, contact.id, phone, details, event_id)

    def _consent(
        self,
        session: Session,
        contact_id: str,
        phone: str,
        details: Mapping[str, str],
        event_id: str,
    ) -> None:
        """Withdraw or grant the contact's SMS consent, and say so on the timeline."""
        stop = self.keyword == "stop"
        record_consent(
            session,
            contact_id,
            "sms",
            "denied" if stop else "granted",
            source=f"sms:{self.keyword}",
            at=self.now,
            proof={**details, "phone": phone},
        )
        add_event(
            session,
            contact_id=contact_id,
            name="SMS Opt-Out" if stop else "SMS Opt-In",
            properties={**details, "channel": "sms", "phone": phone},
            at=self.now,
            message_id=event_id,
        )


def _report(
    session: Session, params: Mapping[str, str], state: str, sid: str, now: dt.datetime
) -> None:
    """Record a final delivery report for the SMS whose provider id is ``sid``."""
    message = session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.provider_id == sid, OutboxMessage.channel == "sms")
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    if message is None:
        return  # not sent by Lealta, or sent before provider ids were kept
    kind = REPORTED[state]
    error = params.get("ErrorCode") or ""
    details = {"status": state, **({"error_code": error} if error else {})}
    feedback.record(
        session,
        outbox_id=message.id,
        kind=kind,
        at=now,
        details=details,
        dedupe_key=f"twilio:{sid}:{kind}",
    )
    reason = SUPPRESSING_ERRORS.get(error)
    recipient = params.get("To", "")
    if kind == "bounced" and reason and recipient:
        feedback.suppress(
            session,
            channel="sms",
            address=recipient,
            reason=reason,
            source="twilio",
            details={"message_sid": sid, "error_code": error},
            at=now,
        )
