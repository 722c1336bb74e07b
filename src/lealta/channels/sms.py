"""SMS through a Twilio-compatible REST API (the Messages resource).

One ``POST {api_url}/2010-04-01/Accounts/{sid}/Messages.json`` per message, form-encoded
``To``, ``From``, ``Body`` (and ``StatusCallback`` when Lealta has a public address), HTTP
Basic auth with the account sid and auth token. The outbox's idempotency key travels as the
``I-Twilio-Idempotency-Token`` header, so a provider that honours it answers a repeated send
with the first message instead of sending again. The provider id is the message ``sid``.

How answers map to the channel contract:

* 2xx → sent; 429, 5xx, timeouts and network errors → :class:`TransientChannelError`.
* 401 and 403 → transient too: the credentials are wrong, not the message, and the message
  should go out once they are fixed (the dispatcher gives up after its last attempt).
* Other 4xx → :class:`PermanentChannelError` naming Twilio's error code (21211: not a valid
  number, 21614: not a mobile number …). Error 21610 (the person replied STOP to this
  sender) raises :class:`RecipientOptedOut`, which tells the caller to suppress the number.

Requests the provider makes to Lealta (incoming replies, delivery reports) are signed:
:func:`request_signature` computes ``X-Twilio-Signature`` and :func:`signature_matches`
checks it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2

from lealta import __version__
from lealta.channels.base import Delivery
from lealta.channels.sms_text import MAX_BODY_CHARACTERS, MAX_SEGMENTS, measure
from lealta.config import Settings
from lealta.errors import InvalidInput, PermanentChannelError, TransientChannelError

API_VERSION = "2010-04-01"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient"
STATUS_PATH = "/v1/sms/status"


class RecipientOptedOut(PermanentChannelError):
    """The provider refuses the number because its owner opted out (Twilio error 21610).

    ``channel``, ``address`` (E.164) and ``reason`` say what to put on the suppression list.
    """

    def __init__(self, message: str, *, address: str, code: int = OPTED_OUT) -> None:
        super().__init__(message)
        self.channel = "sms"
        self.address = address
        self.reason = "stop"
        self.code = code


class SmsChannel:
    """Sends ``delivery.content["text"]`` to ``delivery.recipient["phone"]``.

    ``sender`` is a number in E.164 or an alphanumeric sender id (up to 11 characters, where
    the destination country allows them). ``status_callback`` is the URL the provider reports
    delivery to (``POST /v1/sms/status``); none when ``None``. One pooled HTTP client is
    shared by every send (and by threads); :meth:`close` releases it.
    """

    name = "sms"

    def __init__(
        self,
        *,
        api_url: str,
        account_sid: str,
        auth_token: str,
        sender: str,
        status_callback: str | None = None,
        timeout: float = 10.0,
        pool_size: int = 10,
        max_segments: int = MAX_SEGMENTS,
    ) -> None:
        for value, field in ((account_sid, "sms_account_sid"), (auth_token, "sms_auth_token")):
            if not value:
                raise InvalidInput(f"SMS needs {field} (LEALTA_{field.upper()})", field=field)
        if not sender:
            raise InvalidInput("SMS needs a sender (LEALTA_SMS_SENDER)", field="sms_sender")
        self.sender = sender
        self.status_callback = status_callback
        self.max_segments = max_segments
        self.url = f"{api_url.rstrip('/')}/{API_VERSION}/Accounts/{account_sid}/Messages.json"
        self._client = httpx2.Client(
            auth=(account_sid, auth_token),
            timeout=httpx2.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx2.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
            headers={"User-Agent": f"Lealta/{__version__}", "Accept": "application/json"},
            follow_redirects=False,
            trust_env=False,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> SmsChannel:
        """The channel for ``settings`` (``sms_*``); delivery reports go to
        ``public_url`` + ``/v1/sms/status`` when ``public_url`` is set."""
        callback = f"{settings.base_url}{STATUS_PATH}" if settings.public_url else None
        return cls(
            api_url=settings.sms_api_url,
            account_sid=settings.sms_account_sid,
            auth_token=settings.sms_auth_token,
            sender=settings.sms_sender,
            status_callback=callback,
            **options,
        )

    def send(self, delivery: Delivery) -> str:
        """Send the message; Twilio's message ``sid``."""
        phone = str(delivery.recipient.get("phone") or "")
        if not phone:
            raise PermanentChannelError("the contact has no phone number")
        text = self._text(delivery)
        form = {"To": phone, "From": self.sender, "Body": text}
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        try:
            response = self._client.post(
                self.url, data=form, headers={IDEMPOTENCY_HEADER: delivery.idempotency_key}
            )
        except httpx2.TimeoutException as exc:
            raise TransientChannelError(f"SMS provider timed out: {exc}") from exc
        except httpx2.TransportError as exc:
            raise TransientChannelError(f"SMS provider unreachable: {exc}") from exc
        return _outcome(response, phone)

    def _text(self, delivery: Delivery) -> str:
        text = delivery.content.get("text") or delivery.payload.get("text")
        if not isinstance(text, str) or not text.strip():
            raise PermanentChannelError("the SMS has no text")
        size = measure(text)
        if len(text) > MAX_BODY_CHARACTERS or size.segments > self.max_segments:
            raise PermanentChannelError(
                f"the SMS is too long: {len(text)} characters, {size.segments} {size.encoding} "
                f"segments (at most {MAX_BODY_CHARACTERS} characters, {self.max_segments} "
                f"segments)"
            )
        return text

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()


def _outcome(response: httpx2.Response, phone: str) -> str:
    """The message sid of a 2xx answer; the matching channel error otherwise."""
    answer = _json(response)
    status = response.status_code
    if 200 <= status < 300:
        sid = answer.get("sid")
        if not isinstance(sid, str) or not sid:
            raise TransientChannelError(f"SMS provider answered {status} without a message sid")
        return sid
    code = answer.get("code")
    detail = f"SMS provider answered {status}" + (f", error {code}" if code else "")
    if answer.get("message"):
        detail += f": {answer['message']}"
    if status == 429 or status >= 500:
        raise TransientChannelError(detail)
    if status in (401, 403):
        raise TransientChannelError(f"{detail} (check the SMS account sid and auth token)")
    if code == OPTED_OUT:
        raise RecipientOptedOut(f"{detail}; {phone} has opted out", address=phone)
    raise PermanentChannelError(detail)


def _json(response: httpx2.Response) -> dict[str, Any]:
    try:
        found = response.json()
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


# -- requests from the provider (pure) -----------------------------------------------------


def request_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's ``X-Twilio-Signature`` of a form POST to ``url``: base64 of the HMAC-SHA1,
    keyed with the auth token, of the full URL followed by each parameter's name and value,
    in order of name (then value)."""
    signed = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_matches(
    auth_token: str,
    urls: Sequence[str],
    params: Iterable[tuple[str, str]],
    header: str | None,
) -> bool:
    """Whether ``header`` signs ``params`` posted to one of ``urls``.

    Several URLs are tried because the address the provider called may differ from the one
    the request arrived at behind a proxy; each is also tried with and without its default
    port, which providers add or drop inconsistently.
    """
    if not auth_token or not header:
        return False
    pairs = list(params)
    candidates = {variant for url in urls for variant in _port_variants(url)}
    return any(
        hmac.compare_digest(request_signature(auth_token, url, pairs), header.strip())
        for url in sorted(candidates)
    )


def _port_variants(url: str) -> set[str]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.username or default is None or not host:
        return {url}
    if parts.port not in (None, default):
        return {url}
    bare = urlunsplit(parts._replace(netloc=host))
    ported = urlunsplit(parts._replace(netloc=f"{host}:{default}"))
    return {url, bare, ported}
